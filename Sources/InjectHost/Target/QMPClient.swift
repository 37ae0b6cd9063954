import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client for QEMU's machine protocol (QMP) on a unix socket: the greeting, the
/// `qmp_capabilities` handshake, then commands. Asynchronous events that arrive while a command
/// waits for its answer (QEMU sends MEMORY_FAILURE before the reply to HMP `mce`) are kept in
/// ``events`` instead of being mistaken for the reply.
public final class QMPClient {
    /// The socket path.
    public let socketPath: String
    /// QEMU's version from the greeting, such as `7.2.0`.
    public private(set) var qemuVersion = ""
    /// Events received so far.
    public private(set) var events: [JSONValue] = []

    private let descriptor: FileDescriptor
    private var pending: [UInt8] = []

    /// Connects, reads the greeting and negotiates capabilities.
    ///
    /// - Parameter timeoutSeconds: how long any single read may wait.
    public init(socketPath: String, timeoutSeconds: Int = 10) throws(TargetError) {
        self.socketPath = socketPath
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .qmp(socket: socketPath, reason: "socket(): \(Errno(rawValue: errno))") }
        descriptor = FileDescriptor(rawValue: fd)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            try? descriptor.close()
            throw .qmp(socket: socketPath, reason: "socket path is longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes")
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
            throw .qmp(socket: socketPath, reason: "cannot connect (\(error)); is QEMU running with -qmp unix:\(socketPath),server=on,wait=off?")
        }
        do throws(TargetError) {
            let greeting = try readMessage()
            guard let qmp = greeting["QMP"] else {
                throw .qmp(socket: socketPath, reason: "no QMP greeting; is this a QMP socket (not HMP)?")
            }
            if case .object(let version)? = qmp["version"]?["qemu"],
               case .number(let major)? = version["major"], case .number(let minor)? = version["minor"],
               case .number(let micro)? = version["micro"] {
                qemuVersion = "\(Int(major)).\(Int(minor)).\(Int(micro))"
            }
            _ = try execute("qmp_capabilities")
        } catch {
            try? descriptor.close()
            throw error
        }
    }

    deinit { try? descriptor.close() }

    /// Runs `command` with optional `arguments` and returns its `return` member.
    ///
    /// - Throws: ``TargetError/qmpCommandFailed(command:errorClass:message:)`` when QEMU answers
    ///   with an error, ``TargetError/qmp(socket:reason:)`` when the connection fails.
    @discardableResult
    public func execute(_ command: String, arguments: JSONValue? = nil) throws(TargetError) -> JSONValue {
        var request: [String: JSONValue] = ["execute": .string(command)]
        if let arguments { request["arguments"] = arguments }
        let line = JSONValue.object(request).description + "\n"
        do {
            _ = try Array(line.utf8).withUnsafeBytes { try descriptor.writeAll($0) }
        } catch {
            throw .qmp(socket: socketPath, reason: "write failed: \(error)")
        }
        while true {
            let message = try readMessage()
            if message["event"] != nil {
                events.append(message)
                continue
            }
            if let error = message["error"] {
                throw .qmpCommandFailed(command: command, errorClass: error["class"]?.stringValue ?? "Error",
                                        message: error["desc"]?.stringValue ?? "\(error)")
            }
            if let result = message["return"] { return result }
        }
    }

    /// Runs an HMP command through `human-monitor-command` and returns its text output.
    public func human(_ commandLine: String) throws(TargetError) -> String {
        let result = try execute("human-monitor-command", arguments: .object(["command-line": .string(commandLine)]))
        return result.stringValue ?? ""
    }

    private func readMessage() throws(TargetError) -> JSONValue {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.trimmed().isEmpty { continue }
                do {
                    return try JSONValue.parse(line)
                } catch {
                    throw .qmp(socket: socketPath, reason: "malformed reply: \(line)")
                }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            } catch Errno.wouldBlock {
                throw .qmp(socket: socketPath, reason: "timed out waiting for QEMU's reply")
            } catch {
                throw .qmp(socket: socketPath, reason: "read failed: \(error)")
            }
            guard count > 0 else { throw .qmp(socket: socketPath, reason: "QEMU closed the connection") }
            pending.append(contentsOf: chunk[..<count])
        }
    }
}
