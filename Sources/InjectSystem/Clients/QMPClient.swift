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

    private let connection: UnixSocket

    /// Connects, reads the greeting and negotiates capabilities.
    ///
    /// - Parameter timeoutSeconds: how long any single read may wait.
    public init(socketPath: String, timeoutSeconds: Int = 10) throws(TargetError) {
        self.socketPath = socketPath
        do {
            connection = try UnixSocket(connectingTo: socketPath, timeoutSeconds: timeoutSeconds)
        } catch {
            throw .qmp(
                socket: socketPath, reason: "\(error); is QEMU running with -qmp unix:\(socketPath),server=on,wait=off?"
            )
        }
        let greeting = try readMessage()
        guard let qmp = greeting["QMP"] else {
            throw .qmp(socket: socketPath, reason: "no QMP greeting; is this a QMP socket (not HMP)?")
        }
        if case .object(let version)? = qmp["version"]?["qemu"],
            case .number(let major)? = version["major"], case .number(let minor)? = version["minor"],
            case .number(let micro)? = version["micro"]
        {
            qemuVersion = "\(Int(major)).\(Int(minor)).\(Int(micro))"
        }
        _ = try execute("qmp_capabilities")
    }

    /// The run state of the QEMU at `socketPath` (`running`, `paused`, `guest-panicked`, ...), or
    /// `nil` when its monitor does not answer within 2 s.
    public static func runState(socketPath: String) -> String? {
        guard let client = try? QMPClient(socketPath: socketPath, timeoutSeconds: 2) else { return nil }
        return (try? client.execute("query-status"))?["status"]?.stringValue
    }

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
            try connection.send(Array(line.utf8))
        } catch {
            throw .qmp(socket: socketPath, reason: "\(error)")
        }
        while true {
            let message = try readMessage()
            if message["event"] != nil {
                events.append(message)
                continue
            }
            if let error = message["error"] {
                throw .qmpCommandFailed(
                    command: command, errorClass: error["class"]?.stringValue ?? "Error",
                    message: error["desc"]?.stringValue ?? "\(error)")
            }
            if let result = message["return"] { return result }
        }
    }

    /// Whether an HMP command's text output says it failed ("failed to inject error: Invalid
    /// argument", "Error: ...", "invalid ...", "... not found"); successful ones print nothing
    /// or a result ("OK id: ep0 ...").
    public static func isHMPFailure(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("error")
            || ["failed", "invalid", "not found", "unknown command"].contains { lower.contains($0) }
    }

    /// Runs an HMP command through `human-monitor-command` and returns its text output.
    public func human(_ commandLine: String) throws(TargetError) -> String {
        let result = try execute("human-monitor-command", arguments: .object(["command-line": .string(commandLine)]))
        return result.stringValue ?? ""
    }

    private func readMessage() throws(TargetError) -> JSONValue {
        while true {
            let line: String
            do {
                line = String(decoding: try connection.readLine(), as: UTF8.self)
            } catch {
                throw .qmp(socket: socketPath, reason: error == .closed ? "QEMU closed the connection" : "\(error)")
            }
            if line.trimmed().isEmpty { continue }
            do {
                return try JSONValue.parse(line)
            } catch {
                throw .qmp(socket: socketPath, reason: "malformed reply: \(line)")
            }
        }
    }
}
