import FirmwareFormats
import InjectHost

/// A writer for the `newc` cpio format, the format of a Linux initramfs (uncompressed; the kernel
/// also accepts it so).
///
/// Each entry is the magic `070701`, thirteen 8-digit hex fields (inode, mode, uid, gid, nlink,
/// mtime, file size, device major/minor, rdev major/minor, name size including its NUL, check),
/// the name and its NUL padded to 4 bytes, then the data padded to 4 bytes. `TRAILER!!!` ends it.
public struct NewcArchive {
    /// The archive so far.
    public private(set) var bytes: [UInt8] = []
    private var nextInode: UInt32 = 1
    private var finished = false

    public init() {}

    /// Adds a directory.
    public mutating func directory(_ path: String, mode: UInt32 = 0o755) {
        entry(path, mode: 0o040000 | mode, data: [], links: 2)
    }

    /// Adds a regular file.
    public mutating func file(_ path: String, _ data: [UInt8], mode: UInt32 = 0o644) {
        entry(path, mode: 0o100000 | mode, data: data)
    }

    /// Adds a symbolic link to `target`.
    public mutating func symlink(_ path: String, to target: String) {
        entry(path, mode: 0o120777, data: Array(target.utf8))
    }

    /// Adds the trailer and returns the archive.
    public mutating func finish() -> [UInt8] {
        if !finished {
            entry("TRAILER!!!", mode: 0, data: [], links: 1, inode: 0)
            finished = true
        }
        return bytes
    }

    private mutating func entry(_ path: String, mode: UInt32, data: [UInt8], links: UInt32 = 1, inode: UInt32? = nil) {
        let name = Array(path.utf8) + [0]
        let ino = inode ?? nextInode
        if inode == nil { nextInode += 1 }
        let fields: [UInt32] = [ino, mode, 0, 0, links, 0, UInt32(data.count), 0, 0, 0, 0, UInt32(name.count), 0]
        bytes += Array("070701".utf8)
        for field in fields {
            bytes += Array(hexText(field, digits: 8).uppercased().utf8)
        }
        bytes += name
        pad()
        bytes += data
        pad()
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
