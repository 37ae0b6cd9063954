import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The few file operations the lab needs on the host: directories, whole files, removal.
enum LabFileSystem {
    /// Creates `path` and its parents (mode 0700 for new ones).
    static func makeDirectories(_ path: FilePath, mode: FilePermissions = [.ownerReadWriteExecute]) throws(LabError) {
        do throws(TargetError) {
            try FileIO.makeDirectories(path, mode: mode)
        } catch {
            throw .io(path: path.string, reason: "\(error)")
        }
    }

    /// The whole file at `path`, which must exist.
    static func read(_ path: FilePath) throws(LabError) -> [UInt8] {
        let bytes: [UInt8]?
        do { bytes = try FileIO.readWholeFile(path) } catch { throw .io(path: path.string, reason: "\(error)") }
        guard let bytes else { throw .io(path: path.string, reason: "does not exist") }
        return bytes
    }

    /// Writes `bytes` to a new file at `path` (replacing it).
    static func write(_ bytes: [UInt8], to path: FilePath, mode: FilePermissions = [.ownerReadWrite]) throws(LabError) {
        do {
            let fd = try FileDescriptor.open(
                path, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: mode)
            defer { try? fd.close() }
            _ = try bytes.withUnsafeBytes { try fd.writeAll($0) }
        } catch {
            throw .io(path: path.string, reason: "\(error)")
        }
    }

    /// Writes `value` as pretty, key-sorted JSON (the lab's records and the kernel cache's metadata).
    static func writeJSON<T: Encodable>(_ value: T, to path: FilePath) throws(LabError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(value) else {
            throw .io(path: path.string, reason: "cannot encode \(T.self) as JSON")
        }
        try write(Array(data), to: path)
    }

    /// Replaces the file at `path` with `bytes` all at once (written beside it, then renamed), so
    /// that a reader, or another process writing the same file, never sees half of it.
    static func replace(_ path: FilePath, with bytes: [UInt8]) throws(LabError) {
        let partial = FilePath(path.string + ".\(getpid()).partial")
        try write(bytes, to: partial)
        try rename(partial, to: path)
    }

    /// Creates (or resizes) a file of `size` bytes.
    /// The file is created by this process or was left by the same user: it is never opened through
    /// a symbolic link, and a file of someone else's at the path is refused (a name in a shared
    /// directory such as /dev/shm can be planted).
    static func allocate(_ path: FilePath, size: Int64) throws(LabError) {
        do {
            let fd = try FileDescriptor.open(
                path, .readWrite, options: [.create, .closeOnExec, .noFollow], permissions: [.ownerReadWrite])
            defer { try? fd.close() }
            var info = stat()
            guard fstat(fd.rawValue, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid() else {
                throw LabError.io(
                    path: path.string,
                    reason: "it is not a regular file of yours (uid \(geteuid())); remove it and start again")
            }
            guard ftruncate(fd.rawValue, off_t(size)) == 0 else { throw Errno(rawValue: errno) }
        } catch let error as LabError {
            throw error
        } catch Errno.tooManySymbolicLinkLevels {
            throw .io(path: path.string, reason: "it is a symbolic link, which a lab never follows; remove it")
        } catch {
            throw .io(path: path.string, reason: "\(error)")
        }
    }

    /// Copies `source` to `destination` (replaced, never through a symbolic link, private to this
    /// user) leaving out the pages that are all zero, which the destination then reads as holes:
    /// guest RAM is mostly untouched.
    static func copyNonZeroPages(from source: FilePath, to destination: FilePath) throws(LabError) {
        let input = open(source.string, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .io(path: source.string, reason: "open: \(Errno(rawValue: errno))") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw .io(path: source.string, reason: "\(Errno(rawValue: errno))") }
        try allocate(destination, size: 0)
        try allocate(destination, size: Int64(info.st_size))
        let output = open(destination.string, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard output >= 0 else { throw .io(path: destination.string, reason: "open: \(Errno(rawValue: errno))") }
        defer { close(output) }
        let page = 4096
        let chunk = 1 << 20
        let zero = [UInt8](repeating: 0, count: page)
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, chunk, offset) }
            guard count >= 0 else {
                if errno == EINTR { continue }
                throw .io(path: source.string, reason: "read: \(Errno(rawValue: errno))")
            }
            if count == 0 { return }
            let failure: Int32? = buffer.withUnsafeBytes { bytes in
                var start = 0
                while start < count {
                    let length = min(page, count - start)
                    let isZero = zero.withUnsafeBytes {
                        memcmp(bytes.baseAddress! + start, $0.baseAddress!, length) == 0
                    }
                    if !isZero, pwrite(output, bytes.baseAddress! + start, length, offset + off_t(start)) != length {
                        return errno
                    }
                    start += length
                }
                return nil
            }
            if let failure {
                throw .io(path: destination.string, reason: "write: \(Errno(rawValue: failure))")
            }
            offset += off_t(count)
        }
    }

    /// A file's size in bytes, or `nil` when it cannot be read.
    static func size(_ path: FilePath) -> Int? {
        var info = stat()
        return stat(path.string, &info) == 0 ? Int(info.st_size) : nil
    }

    /// A file's modification time in nanoseconds, or 0 when it cannot be read.
    static func modified(_ path: FilePath) -> Int {
        var info = stat()
        guard stat(path.string, &info) == 0 else { return 0 }
        return info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
    }

    /// What names a file's version in a cache key without reading it: its path, size and
    /// modification time.
    static func identity(_ path: FilePath) -> String {
        "\(path) \(size(path) ?? -1) \(modified(path))"
    }

    /// Keeps the `count` most recently used entries of the cache `directory` (files or directories,
    /// by modification time, which a use touches) and removes the rest, with the debris of saves
    /// that died: a save stages its entry as `.KEY.PID[.EXT]` and renames it into place, so a hidden
    /// entry whose process is gone is left over.
    static func keepMostRecentlyUsed(_ count: Int, in directory: FilePath) {
        guard let entries = try? FileIO.listDirectory(directory) else { return }
        var complete: [(path: FilePath, used: Int)] = []
        for entry in entries {
            let path = directory.appending(entry.name)
            guard entry.name.hasPrefix(".") else {
                complete.append((path, modified(path)))
                continue
            }
            let words = entry.name.split(separator: ".")
            let pid = words.count > 1 ? Int32(words[1]) ?? 0 : 0
            if pid > 0, kill(pid, 0) != 0, errno == ESRCH { try? removeTree(path) }
        }
        for stale in complete.sorted(by: { $0.used > $1.used }).dropFirst(count) { try? removeTree(stale.path) }
    }

    /// Removes a file; a missing one is fine.
    static func remove(_ path: FilePath) throws(LabError) {
        if unlink(path.string) != 0, errno != ENOENT {
            throw .io(path: path.string, reason: "unlink: \(Errno(rawValue: errno))")
        }
    }

    /// Removes a directory tree; a missing one is fine.
    static func removeTree(_ path: FilePath) throws(LabError) {
        var info = stat()
        guard lstat(path.string, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for entry in (try? FileIO.listDirectory(path)) ?? [] {
                try removeTree(path.appending(entry.name))
            }
            if rmdir(path.string) != 0 { throw .io(path: path.string, reason: "rmdir: \(Errno(rawValue: errno))") }
        } else {
            try remove(path)
        }
    }

    /// Renames `from` to `to`.
    static func rename(_ from: FilePath, to: FilePath) throws(LabError) {
        if Glibc.rename(from.string, to.string) != 0 {
            throw .io(path: from.string, reason: "rename to \(to): \(Errno(rawValue: errno))")
        }
    }

    /// Runs `body` holding an exclusive lock on `path` (created when missing), so that labs starting
    /// at once take turns at filling a shared cache (fetching a kernel, building a module).
    static func withLock<R>(_ path: FilePath, _ body: () async throws(LabError) -> R) async throws(LabError) -> R {
        try makeDirectories(path.removingLastComponent())
        let fd = open(path.string, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .io(path: path.string, reason: "cannot open the cache lock: \(Errno(rawValue: errno))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw .io(path: path.string, reason: "cannot lock the cache: \(Errno(rawValue: errno))")
            }
        }
        return try await body()
    }

    /// The last `lines` lines of a text file, or "".
    static func tail(_ path: FilePath, lines: Int = 20) -> String {
        guard let bytes = try? FileIO.readWholeFile(path) else { return "" }
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return text.suffix(lines).joined(separator: "\n").trimmed()
    }
}
