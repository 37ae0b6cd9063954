/// A connected unix stream socket with a read timeout: the transport under the QMP client and the
/// lab agent.
public final class UnixSocket {
    /// Why a socket operation failed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The peer closed the connection.
        case closed
        /// No data arrived within the timeout.
        case timedOut
        /// Any other failure, in words.
        case other(String)

        public var description: String {
            switch self {
            case .closed: return "the other side closed the connection"
            case .timedOut: return "timed out waiting for a reply"
            case .other(let text): return text
            }
        }
    }

    /// The socket's path.
    public let path: String
    private let descriptor: FileDescriptor
    private var pending: [UInt8] = []

    /// Connects to `path`; every later read waits at most `timeoutSeconds`.
    public init(connectingTo path: String, timeoutSeconds: Int) throws(Failure) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.other("socket(): \(Errno(rawValue: errno))") }
        descriptor = FileDescriptor(rawValue: fd)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            try? descriptor.close()
            throw Failure.other("socket path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let error = Errno(rawValue: errno)
            try? descriptor.close()
            throw Failure.other("cannot connect (\(error))")
        }
        setTimeout(seconds: timeoutSeconds)
    }

    deinit { try? descriptor.close() }

    /// Changes the read timeout.
    public func setTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor.rawValue, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `bytes`. A peer that is gone (QEMU killed) is ``Failure/closed``, not a
    /// SIGPIPE that ends the process unannounced.
    public func send(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor.rawValue, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .closed }
                throw Failure.other("write failed: \(Errno(rawValue: errno))")
            }
            offset += sent
        }
    }

    /// The longest line ``readLine()`` accepts, and the most ``readExactly(_:)`` reads: a peer that
    /// sends more is lying or broken, and the connection is not read further.
    public var lineLimit = 64 << 10
    public var readLimit = 256 << 20

    /// The next line, without its newline.
    public func readLine() throws(Failure) -> [UInt8] {
        var searched = 0
        while true {
            if let newline = pending[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return line
            }
            searched = pending.count
            guard pending.count <= lineLimit else {
                pending.removeAll()
                throw .other("the other side sent a line longer than \(lineLimit) bytes")
            }
            try fill()
        }
    }

    /// Exactly `count` bytes (0 to ``readLimit``).
    public func readExactly(_ count: Int) throws(Failure) -> [UInt8] {
        guard (0...readLimit).contains(count) else {
            throw .other("the other side announced \(count) bytes (expected 0...\(readLimit))")
        }
        while pending.count < count { try fill() }
        let bytes = Array(pending[..<count])
        pending.removeSubrange(..<count)
        return bytes
    }

    private func fill() throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count: Int
        do {
            count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
        } catch Errno.wouldBlock {
            throw .timedOut
        } catch {
            throw Failure.other("read failed: \(error)")
        }
        guard count > 0 else { throw .closed }
        pending.append(contentsOf: chunk[..<count])
    }
}
