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
    private func open(_ path: TargetPath, _ flags: Int32, _ operation: String, _ hint: String?) throws(TargetError)
        -> FileDescriptor
    {
        if let beneath {
            let fd: Int32
            do {
                // Non-blocking, so that a FIFO planted in the tree is refused rather than waited on.
                fd = try beneath.open(path.relative, flags | O_NONBLOCK)
            } catch {
                // A FIFO without a reader answers a non-blocking open for writing with ENXIO.
                if error == .noSuchAddressOrDevice, let found = try? beneath.open(path.relative, INJECT_O_PATH) {
                    try Self.refuseFIFO(found, rootPrefix + path.relative)
                }
                throw failure(error, path, operation, hint)
            }
            try Self.refuseFIFO(fd, rootPrefix + path.relative, keepOpen: true)
            if flags & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
            return FileDescriptor(rawValue: fd)
        }
        let fd = Glibc.open(rootPrefix + path.relative, flags | O_CLOEXEC)
        guard fd >= 0 else { throw FileIO.map(Errno(rawValue: errno), rootPrefix + path.relative, operation, hint) }
        return FileDescriptor(rawValue: fd)
    }

    /// Refuses (and closes) `fd` when it is a FIFO or a socket: an attribute is neither, and
    /// opening or writing one would wait for a reader. Otherwise closes it unless `keepOpen`.
    private static func refuseFIFO(_ fd: Int32, _ path: String, keepOpen: Bool = false) throws(TargetError) {
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFIFO || info.st_mode & S_IFMT == S_IFSOCK {
            close(fd)
            throw .notARegularFile(path: path, kind: UserFile.kind(of: info.st_mode) ?? "")
        }
        if !keepOpen { close(fd) }
    }

    /// The error for `error` at `path`: leaving the root is said as such.
    private func failure(_ error: Errno, _ path: TargetPath, _ operation: String, _ hint: String?) -> TargetError {
        if error == .improperLink || error == .tooManySymbolicLinkLevels {
            return .escapesRoot(path: path.relative, root: root.string)
        }
        return FileIO.map(error, rootPrefix + path.relative, operation, hint)
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
            throw FileIO.map(error, full, "write", hint)
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
        if let error = FileIO.writeRecord(bytes, fd: fd.rawValue) {
            if error == Errno(rawValue: ENOTTY) { throw .notADevice(path: full) }
            throw FileIO.map(error, full, "device write", hint)
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
            guard mkdir(full, 0o755) == 0 || errno == EEXIST else {
                throw FileIO.map(Errno(rawValue: errno), full, "mkdir", nil)
            }
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
            guard rmdir(full) == 0 else { throw FileIO.map(Errno(rawValue: errno), full, "rmdir", nil) }
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

    /// Reads the attribute at `path` whole.
    public func read(_ path: TargetPath) throws(TargetError) -> [UInt8] {
        let fd = try open(path, O_RDONLY, "read", nil)
        defer { try? fd.close() }
        do {
            return try FileIO.readToEnd(fd)
        } catch {
            throw FileIO.map(error, rootPrefix + path.relative, "read", nil)
        }
    }

    /// The entries of a directory (without `.` and `..`), sorted, each with whether it is a directory.
    public func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)] {
        guard beneath != nil else { return try FileIO.listDirectory(path.under(root)) }
        let fd = try open(path, O_RDONLY | O_DIRECTORY, "list", nil)
        guard let directory = fdopendir(fd.rawValue) else {
            let error = Errno(rawValue: errno)
            try? fd.close()
            throw FileIO.map(error, rootPrefix + path.relative, "list", nil)
        }
        defer { closedir(directory) }
        return FileIO.entries(directory) { name in
            // A symlink beneath a root is not followed, even to see whether it is a directory.
            var info = stat()
            return fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) == 0
                && (info.st_mode & S_IFMT) == S_IFDIR
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
}
