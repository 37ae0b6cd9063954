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
    /// Carries out a batch of injections made of attribute writes where the kernel is (a lab's
    /// guest runs it whole); a failure to reach the target is thrown, a refused write is the
    /// outcome's `failure`.
    func run(_ batch: WriteBatch) throws(TargetError) -> WriteBatch.Outcome
}

extension TargetFiles {
    /// By default nothing is held: every write opens the file.
    public func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute? { nil }

    /// By default the batch runs here, write by write, holding what ``hold(_:hint:)`` holds.
    public func run(_ batch: WriteBatch) throws(TargetError) -> WriteBatch.Outcome { batch.run(on: self) }
}

/// An attribute file held open for repeated writes: each value is written whole at offset 0, as
/// a fresh open, write and close would (kernel attributes parse each write on its own; a regular
/// file ends up with the same bytes), at one system call per value. A file opened non-seekable
/// (6.12's debugfs attributes refuse `pwrite` with ESPIPE) has no position to reset, so it takes
/// plain `write`s from then on.
public final class HeldAttribute {
    /// The path, for messages.
    public let path: String
    private let fd: Int32
    private let hint: String?
    /// Whether the file refused a positional write and takes plain writes.
    public private(set) var positionless = false

    init(path: String, fd: Int32, hint: String?) {
        self.path = path
        self.fd = fd
        self.hint = hint
    }

    deinit { close(fd) }

    /// Writes `value` with one `pwrite` at offset 0 (one `write` on a non-seekable file).
    ///
    /// - Returns: `false` when the file refuses positional writes and a plain write too, so the
    ///   caller falls back to opening it each time.
    public func write(_ value: String) throws(TargetError) -> Bool {
        try attempt(Array(value.utf8))
    }

    /// Writes `bytes` with one `pwrite` at offset 0 (one `write` on a non-seekable file).
    public func write(_ bytes: [UInt8]) throws(TargetError) {
        guard try attempt(bytes) else { throw .system(path: path, operation: "write", errno: .illegalSeek, hint: nil) }
    }

    private func attempt(_ bytes: [UInt8]) throws(TargetError) -> Bool {
        var written = bytes.withUnsafeBytes { positionless ? Glibc.write(fd, $0.baseAddress, $0.count) : pwrite(fd, $0.baseAddress, $0.count, 0) }
        if written < 0 && errno == ESPIPE && !positionless {
            // Non-seekable: there is no position that a plain write would move.
            positionless = true
            written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == ESPIPE { return false }
        }
        if written >= 0 {
            guard written == bytes.count else { throw .system(path: path, operation: "write", errno: .ioError, hint: nil) }
            return true
        }
        throw AttributeFiles.map(Errno(rawValue: errno), path, "write", hint)
    }
}

extension TargetFiles {
    /// Reads a text attribute, trimmed; `nil` when it cannot be read.
    public func text(_ path: String) -> String? {
        guard let target = try? TargetPath(path), let bytes = try? read(target) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmed()
    }
}
