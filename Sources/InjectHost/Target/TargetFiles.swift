import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The attribute files of a target (sysfs, debugfs, tracefs, procfs): on this machine under a
/// root directory (``AttributeFiles``), or in a lab's guest (``LabFiles``).
public protocol TargetFiles {
    /// Writes `value` with a single write, as attribute files need.
    ///
    /// - Parameter hint: what to tell the user when the file is missing or refused.
    func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError)
    /// Writes a binary record to the character device at `path` with a single write (the
    /// kernel's `/dev/aer_inject` takes one `struct aer_error_inj` per write); any other kind of
    /// file is refused.
    func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError)
    /// Reads the file whole.
    func read(_ path: TargetPath) throws(TargetError) -> [UInt8]
    /// The entries of a directory (without `.` and `..`), sorted.
    func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)]
    /// Whether `path` exists.
    func exists(_ path: String) -> Bool
    /// Creates a directory (tracefs instances, for example); an existing one is fine.
    func makeDirectory(_ path: TargetPath) throws(TargetError)
    /// Removes an empty directory (or a tracefs instance).
    func removeDirectory(_ path: TargetPath) throws(TargetError)
    /// The attribute at `path` opened for writing again and again (a storm's repeated writes);
    /// `nil` where the target cannot hold files open (a guest reached through its agent).
    func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute?
}

extension TargetFiles {
    /// By default nothing is held: every write opens the file.
    public func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute? { nil }
}

/// An attribute file held open for repeated writes: each value is written whole at offset 0, as
/// a fresh open, write and close would (kernel attributes parse each write on its own; a regular
/// file ends up with the same bytes), at one system call per value.
public final class HeldAttribute {
    /// The path, for messages.
    public let path: String
    private let fd: Int32
    private let hint: String?

    init(path: String, fd: Int32, hint: String?) {
        self.path = path
        self.fd = fd
        self.hint = hint
    }

    deinit { close(fd) }

    /// Writes `value` with one `pwrite` at offset 0.
    ///
    /// - Returns: `false` when the file refuses positional writes (ESPIPE), so the caller falls
    ///   back to opening it each time.
    public func write(_ value: String) throws(TargetError) -> Bool {
        try attempt(Array(value.utf8))
    }

    /// Writes `bytes` with one `pwrite` at offset 0; a file that refuses positional writes is an error here.
    public func write(_ bytes: [UInt8]) throws(TargetError) {
        guard try attempt(bytes) else { throw .system(path: path, operation: "write", errno: .illegalSeek, hint: nil) }
    }

    private func attempt(_ bytes: [UInt8]) throws(TargetError) -> Bool {
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        if written >= 0 {
            guard written == bytes.count else { throw .system(path: path, operation: "write", errno: .ioError, hint: nil) }
            return true
        }
        let error = Errno(rawValue: errno)
        if error == .illegalSeek { return false }
        throw AttributeFiles.map(error, path, "write", hint)
    }
}

extension TargetFiles {
    /// Reads a text attribute, trimmed; `nil` when it cannot be read.
    public func text(_ path: String) -> String? {
        guard let target = try? TargetPath(path), let bytes = try? read(target) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmed()
    }
}
