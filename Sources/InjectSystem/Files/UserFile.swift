/// Files a user names (configuration, campaign scenarios, case files, records to decode,
/// manifests): read whole, but only when they are regular files and at most `limit` bytes. A FIFO
/// is refused rather than waited on, and `/dev/zero` rather than read until memory runs out.
public enum UserFile {
    /// The contents of `path`, or `nil` when it does not exist.
    ///
    /// - Throws: ``TargetError/notARegularFile(path:kind:)`` for a FIFO, socket, directory or
    ///   device; ``TargetError/tooLarge(path:limit:)`` past `limit` bytes; any other failure as
    ///   ``TargetError/system(path:operation:errno:hint:)``.
    public static func read(_ path: String, limit: Int) throws(TargetError) -> [UInt8]? {
        // O_NONBLOCK: opening a FIFO without a writer must not wait.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileIO.map(Errno(rawValue: errno), path, "read", nil)
        }
        defer { close(fd) }
        try requireRegular(fd, path: path)
        return try readBounded(fd, path: path, limit: limit)
    }

    /// Standard input, at most `limit` bytes (any kind of file: a pipe is what `-` usually is).
    public static func readStandardInput(limit: Int) throws(TargetError) -> [UInt8] {
        try readBounded(0, path: "standard input", limit: limit)
    }

    /// Refuses an open descriptor that is not a regular file.
    public static func requireRegular(_ fd: Int32, path: String) throws(TargetError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIO.map(Errno(rawValue: errno), path, "stat", nil) }
        if let kind = kind(of: info.st_mode) { throw .notARegularFile(path: path, kind: kind) }
    }

    /// What a file of `mode` is, in words, or `nil` for a regular file.
    public static func kind(of mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a regular file"
        }
    }

    private static func readBounded(_ fd: Int32, path: String, limit: Int) throws(TargetError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIO.map(Errno(rawValue: errno), path, "read", nil)
            }
            if count == 0 { return result }
            guard result.count + count <= limit else { throw .tooLarge(path: path, limit: limit) }
            result.append(contentsOf: chunk[..<count])
        }
    }
}
