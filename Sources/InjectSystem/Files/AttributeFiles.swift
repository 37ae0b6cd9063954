import CSystemShims

/// Attribute files (sysfs, debugfs, tracefs, procfs) of a target, under a root directory.
///
/// Writes are one `open`, one `write` and one `close`, the minimum the kernel's attribute
/// interface needs: each write to a debugfs or sysfs attribute is handled as a whole.
public struct AttributeFiles: Sendable {
    /// The root, `/` unless `--root` chose another.
    public let root: FilePath

    /// `root` as text ending in `/`, so that a write joins strings instead of building a `FilePath`
    /// (storms write hundreds of thousands of times; the path is already validated).
    private let rootPrefix: String
    /// Any root but `/`, held open: paths resolve beneath it and never leave it (symlinks included).
    private let beneath: RootDirectory?

    /// Creates access under `root`.
    public init(root: FilePath = "/") {
        self.root = root
        rootPrefix = root.string.hasSuffix("/") ? root.string : root.string + "/"
        beneath = root.string == "/" ? nil : RootDirectory(root.string)
    }

    /// Opens `path` with `flags`: beneath the root, or directly under `/`.
    private func open(_ path: TargetPath, _ flags: Int32, _ operation: String, _ hint: String?) throws(TargetError) -> FileDescriptor {
        if let beneath {
            do {
                return FileDescriptor(rawValue: try beneath.open(path.relative, flags))
            } catch {
                throw failure(error, path, operation, hint)
            }
        }
        let fd = Glibc.open(rootPrefix + path.relative, flags | O_CLOEXEC)
        guard fd >= 0 else { throw Self.map(Errno(rawValue: errno), rootPrefix + path.relative, operation, hint) }
        return FileDescriptor(rawValue: fd)
    }

    /// The error for `error` at `path`: leaving the root is said as such.
    private func failure(_ error: Errno, _ path: TargetPath, _ operation: String, _ hint: String?) -> TargetError {
        if error == .improperLink || error == .tooManySymbolicLinkLevels {
            return .escapesRoot(path: path.relative, root: root.string)
        }
        return Self.map(error, rootPrefix + path.relative, operation, hint)
    }

    /// Writes `value` to the attribute at `path`.
    ///
    /// - Parameter hint: what to tell the user when the file is missing or refused.
    public func write(_ value: String, to path: TargetPath, hint: String? = nil) throws(TargetError) {
        let full = rootPrefix + path.relative
        let fd = try open(path, O_WRONLY, "write", hint)
        do {
            defer { try? fd.close() }
            var value = value
            let (written, count) = try value.withUTF8 { (try fd.write(UnsafeRawBufferPointer($0)), $0.count) }
            if written != count {
                throw TargetError.system(path: full, operation: "write", errno: .ioError, hint: nil)
            }
        } catch let error as Errno {
            throw Self.map(error, full, "write", hint)
        } catch let error as TargetError {
            throw error
        } catch {
            throw .system(path: full, operation: "write", errno: .ioError, hint: nil)
        }
    }

    /// Writes a binary record to the character device at `path` in one write.
    public func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError) {
        // Non-blocking open: a FIFO put where a device was expected must not hang the host.
        let fd = try open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY, "device write", hint)
        defer { try? fd.close() }
        let full = rootPrefix + path.relative
        if let error = Self.writeRecord(bytes, fd: fd.rawValue) {
            if error == Errno(rawValue: ENOTTY) { throw .notADevice(path: full) }
            throw Self.map(error, full, "device write", hint)
        }
    }

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

    /// The attribute at `path` opened once for a storm's repeated writes.
    public func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute? {
        let fd = try open(path, O_WRONLY, "write", hint)
        return HeldAttribute(path: rootPrefix + path.relative, fd: fd.rawValue, hint: hint)
    }

    public func makeDirectory(_ path: TargetPath) throws(TargetError) {
        let full = path.under(root).string
        guard let beneath else {
            guard mkdir(full, 0o755) == 0 || errno == EEXIST else { throw Self.map(Errno(rawValue: errno), full, "mkdir", nil) }
            return
        }
        do throws(Errno) {
            let (parent, name) = try beneath.parent(of: path.relative)
            defer { close(parent) }
            guard mkdirat(parent, name, 0o755) == 0 || errno == EEXIST else { throw Errno(rawValue: errno) }
        } catch {
            throw failure(error, path, "mkdir", nil)
        }
    }

    public func removeDirectory(_ path: TargetPath) throws(TargetError) {
        let full = path.under(root).string
        guard let beneath else {
            guard rmdir(full) == 0 else { throw Self.map(Errno(rawValue: errno), full, "rmdir", nil) }
            return
        }
        do throws(Errno) {
            let (parent, name) = try beneath.parent(of: path.relative)
            defer { close(parent) }
            guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            throw failure(error, path, "rmdir", nil)
        }
    }

    /// Creates `path` and its missing parents (`mkdir -p`), each with `mode`; `hint` says what to do
    /// when one cannot be made.
    public static func makeDirectories(_ path: FilePath, mode: FilePermissions, hint: String? = nil) throws(TargetError) {
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

    /// Reads the attribute at `path` whole.
    public func read(_ path: TargetPath) throws(TargetError) -> [UInt8] {
        let fd = try open(path, O_RDONLY, "read", nil)
        defer { try? fd.close() }
        do {
            return try Self.readToEnd(fd)
        } catch {
            throw Self.map(error, rootPrefix + path.relative, "read", nil)
        }
    }

    /// The entries of a directory (without `.` and `..`), sorted, each with whether it is a directory.
    public func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)] {
        guard beneath != nil else { return try Self.listDirectory(path.under(root)) }
        let fd = try open(path, O_RDONLY | O_DIRECTORY, "list", nil)
        guard let directory = fdopendir(fd.rawValue) else {
            let error = Errno(rawValue: errno)
            try? fd.close()
            throw Self.map(error, rootPrefix + path.relative, "list", nil)
        }
        defer { closedir(directory) }
        return Self.entries(directory) { name in
            // A symlink beneath a root is not followed, even to see whether it is a directory.
            var info = stat()
            return fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// Whether `path` exists under the root (and, beneath a root, is reached without leaving it).
    public func exists(_ path: String) -> Bool {
        guard let target = try? TargetPath(path) else { return false }
        guard let beneath else { return access(target.under(root).string, F_OK) == 0 }
        guard let fd = try? beneath.open(target.relative, INJECT_O_PATH) else { return false }
        close(fd)
        return true
    }

    // MARK: - Helpers shared with the rest of the host

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
    static func readToEnd(_ fd: FileDescriptor) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count: Int
            do { count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } } catch let error as Errno { throw error } catch { throw .ioError }
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
    private static func entries(_ dir: OpaquePointer, isDirectory: (String) -> Bool) -> [(name: String, isDirectory: Bool)] {
        var entries: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var directory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) || entry.pointee.d_type == UInt8(DT_LNK) { directory = isDirectory(name) }
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
}
