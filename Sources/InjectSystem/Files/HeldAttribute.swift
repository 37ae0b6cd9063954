/// An attribute file held open for repeated writes: each value is written whole at offset 0, as
/// a fresh open, write and close would (kernel attributes parse each write on its own; a regular
/// file ends up with the same bytes), at one system call per value. A file opened non-seekable
/// (6.12's debugfs attributes refuse `pwrite` with ESPIPE) has no position to reset, so it takes
/// plain `write`s from then on.
public final class HeldAttribute {
    /// The path, for messages.
    public let path: String
    @usableFromInline let fd: Int32
    @usableFromInline let hint: String?
    /// Whether the file refused a positional write and takes plain writes.
    public internal(set) var positionless = false

    /// Takes ownership of `fd`, open for writing `path`.
    public init(path: String, fd: Int32, hint: String?) {
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

    /// Writes `bytes` with one `pwrite` at offset 0 (one `write` on a non-seekable file): inlined
    /// into a storm's loop, which costs one system call more than nothing per value.
    @inlinable
    public func write(_ bytes: [UInt8]) throws(TargetError) {
        guard try attempt(bytes) else { throw .system(path: path, operation: "write", errno: .illegalSeek, hint: nil) }
    }

    @inlinable
    func attempt(_ bytes: [UInt8]) throws(TargetError) -> Bool {
        let written = bytes.withUnsafeBytes {
            positionless ? Glibc.write(fd, $0.baseAddress, $0.count) : pwrite(fd, $0.baseAddress, $0.count, 0)
        }
        if written == bytes.count { return true }
        return try slowPath(bytes, written)
    }

    /// A failed or short write, or the first write to a non-seekable file.
    @usableFromInline
    func slowPath(_ bytes: [UInt8], _ first: Int) throws(TargetError) -> Bool {
        var written = first
        if written < 0 && errno == ESPIPE && !positionless {
            // Non-seekable: there is no position that a plain write would move.
            positionless = true
            written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == ESPIPE { return false }
        }
        if written >= 0 {
            guard written == bytes.count else {
                throw .system(path: path, operation: "write", errno: .ioError, hint: nil)
            }
            return true
        }
        throw FileIO.map(Errno(rawValue: errno), path, "write", hint)
    }
}
