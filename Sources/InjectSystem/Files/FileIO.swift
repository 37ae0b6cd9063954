/// Whole files, offsets in files and directories, for every part of the project: the registry,
/// the journal, configuration, manifests, campaigns and the lab read and write through these, and
/// every failure is a ``TargetError`` naming the path. (Attribute files beneath a target's root
/// are ``AttributeFiles``.)
public enum FileIO {
    /// Writes `bytes` with one write() to `fd` once it is known to be a character device (opened
    /// non-blocking, switched back before the write); `nil`, or the errno (ENOTTY: not a
    /// character device; a short write is EIO). Shared with the lab's guest agent.
    public static func writeRecord(_ bytes: [UInt8], fd: Int32) -> Errno? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return Errno(rawValue: errno) }
        guard status.st_mode & S_IFMT == S_IFCHR else { return Errno(rawValue: ENOTTY) }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 else { return Errno(rawValue: errno) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written < 0 { return Errno(rawValue: errno) }
        return written == bytes.count ? nil : .ioError
    }

    /// Writes bytes at a byte offset of a file (guest firmware memory backed by a file).
    public static func write(_ bytes: [UInt8], at offset: Int64, of file: FilePath) throws(TargetError) {
        do {
            let fd = try FileDescriptor.open(file, .readWrite, options: [.closeOnExec])
            defer { try? fd.close() }
            _ = try bytes.withUnsafeBytes { try fd.writeAll(toAbsoluteOffset: offset, $0) }
        } catch let error as Errno {
            throw map(error, file.string, "write", nil)
        } catch {
            throw .system(path: file.string, operation: "write", errno: .ioError, hint: nil)
        }
    }

    /// Creates `path` and its missing parents (`mkdir -p`), each with `mode`; `hint` says what to do
    /// when one cannot be made.
    public static func makeDirectories(_ path: FilePath, mode: FilePermissions, hint: String? = nil) throws(TargetError)
    {
        var current = FilePath(root: path.root)
        for component in path.components {
            current.append(component)
            if mkdir(current.string, mode.rawValue) != 0, errno != EEXIST {
                throw map(Errno(rawValue: errno), current.string, "mkdir", hint)
            }
        }
    }

    /// Reads `count` bytes at a byte offset of a file (guest firmware memory); fewer at its end.
    public static func read(_ count: Int, at offset: Int64, of file: FilePath) throws(TargetError) -> [UInt8] {
        do {
            let fd = try FileDescriptor.open(file, .readOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            var buffer = [UInt8](repeating: 0, count: count)
            let got = try buffer.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: offset, into: $0) }
            return Array(buffer.prefix(got))
        } catch let error as Errno {
            throw map(error, file.string, "read", nil)
        } catch {
            throw .system(path: file.string, operation: "read", errno: .ioError, hint: nil)
        }
    }

    /// Reads a whole file; `nil` when it does not exist. Attribute files report size 0, so this
    /// reads until end of file.
    public static func readWholeFile(_ path: FilePath) throws -> [UInt8]? {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch Errno.noSuchFileOrDirectory {
            return nil
        }
        defer { try? fd.close() }
        return try readToEnd(fd)
    }

    /// Everything left in `fd` (attribute files report size 0, so this reads until end of file).
    public static func readToEnd(_ fd: FileDescriptor) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count: Int
            do { count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } } catch let error as Errno {
                throw error
            } catch { throw .ioError }
            if count == 0 { break }
            result.append(contentsOf: chunk[..<count])
        }
        return result
    }

    /// The sorted entries of a directory.
    public static func listDirectory(_ path: FilePath) throws(TargetError) -> [(name: String, isDirectory: Bool)] {
        guard let dir = opendir(path.string) else {
            throw map(Errno(rawValue: errno), path.string, "list", nil)
        }
        defer { closedir(dir) }
        return entries(dir) { name in
            var info = stat()
            return stat(path.appending(name).string, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// The sorted entries of an open directory; `isDirectory` decides for links and unknown types.
    static func entries(_ dir: OpaquePointer, isDirectory: (String) -> Bool) -> [(name: String, isDirectory: Bool)] {
        var entries: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var directory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) || entry.pointee.d_type == UInt8(DT_LNK) {
                directory = isDirectory(name)
            }
            entries.append((name, directory))
        }
        return entries.sorted { $0.0 < $1.0 }
    }

    /// The target error for `error`; `hint` (how to get the file) is kept only where the file is
    /// missing or refused: any other errno comes from the kernel's handler, after the file was found.
    public static func map(_ error: Errno, _ path: String, _ operation: String, _ hint: String?) -> TargetError {
        switch error {
        case .noSuchFileOrDirectory: return .notFound(path: path, hint: hint)
        case .permissionDenied, .notPermitted: return .permissionDenied(path: path, hint: hint)
        default: return .system(path: path, operation: operation, errno: error, hint: nil)
        }
    }

    /// The canonical absolute path (links and `..` resolved), or `nil` when it does not resolve.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
