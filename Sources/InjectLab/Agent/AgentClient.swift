import InjectHost
import Synchronization

/// The host's end of the channel to a lab's guest agent: one name family for the channel,
/// ``AgentClient`` (here), ``AgentServer`` (the guest's end), ``AgentProtocol`` (what they
/// exchange), and the host's views built on it, ``AgentFiles`` (the guest's attribute files) and
/// ``AgentConnection`` (the guest as a ``GuestConnection``). Runs shell commands in the guest's
/// Debian root. Holds the lab's agent lock while it exists, so
/// that concurrent `inject` processes take turns.
public final class AgentClient: @unchecked Sendable {
    /// What a command produced.
    public typealias Result = ShellResult

    private let paths: LabPaths
    private let connection: UnixSocket
    private let lock: FileDescriptor

    /// Agents this process has connected, by state directory: the lab lock is per open file, so a
    /// second connection from the same process would wait for itself.
    private static let connected = Mutex<[String: AgentClient]>([:])

    /// This process's connection to the lab's agent, made on first use.
    public static func shared(_ paths: LabPaths) throws(LabError) -> AgentClient {
        let result: Swift.Result<AgentClient, LabError> = connected.withLock { agents in
            if let agent = agents[paths.stateDirectory.string] { return .success(agent) }
            do throws(LabError) {
                let agent = try AgentClient(paths)
                agents[paths.stateDirectory.string] = agent
                return .success(agent)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Forgets this process's connection and lets go of the lab's lock (after the lab stopped, or
    /// to let other processes in); holders of the old connection get a fresh one on their next request.
    static func disconnect(_ paths: LabPaths) {
        connected.withLock { $0.removeValue(forKey: paths.stateDirectory.string) }?.releaseLock()
    }

    /// Unlocks the lab's agent lock now rather than when the last holder lets go of this connection.
    private func releaseLock() {
        lockReleased.withLock { released in
            guard !released else { return }
            released = true
            _ = flock(lock.rawValue, LOCK_UN)
        }
    }

    private let lockReleased = Mutex(false)

    /// Connects to the lab's agent, waiting for other processes using it first. Use ``shared(_:)``.
    init(_ paths: LabPaths) throws(LabError) {
        self.paths = paths
        do {
            lock = try FileDescriptor.open(
                paths.agentLock, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            throw .notRunning(name: paths.name)
        }
        guard flock(lock.rawValue, LOCK_EX) == 0 else {
            try? lock.close()
            throw .agent("cannot lock \(paths.agentLock): \(Errno(rawValue: errno))")
        }
        do {
            connection = try UnixSocket(connectingTo: paths.agentSocket.string, timeoutSeconds: 1)
        } catch {
            try? lock.close()
            throw .agent("\(paths.agentSocket): \(error); is the lab running? (`inject lab status`)")
        }
    }

    deinit { try? lock.close() }

    /// Runs `command` with `/bin/sh -c` in the guest.
    ///
    /// - Parameters:
    ///   - timeoutSeconds: the guest kills the command after this long; the host waits a little longer.
    ///   - stillAlive: asked about once a second while waiting; returning a reason gives up with it.
    public func run(
        _ command: String, timeoutSeconds: Int = 120,
        stillAlive: () -> String? = { nil }
    ) throws(LabError) -> Result {
        try request(.shell, Array(command.utf8), timeoutSeconds: timeoutSeconds, stillAlive: stillAlive)
    }

    /// Sends one request and waits for its answer.
    func request(
        _ operation: AgentProtocol.Operation, _ first: [UInt8], _ second: [UInt8] = [],
        timeoutSeconds: Int = 60, stillAlive: () -> String? = { nil }
    ) throws(LabError) -> Result {
        let id = hexText(UInt32.random(in: 1...UInt32.max))
        let shown = "\(operation.rawValue) \(String(decoding: first.prefix(80), as: UTF8.self))"
        do {
            try connection.send(AgentProtocol.request(id: id, operation, timeoutSeconds: timeoutSeconds, first, second))
        } catch {
            throw .agent("sending to \(paths.agentSocket): \(error)")
        }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(timeoutSeconds + 10) * 1_000_000_000
        while true {
            let line: [UInt8]
            do {
                line = try connection.readLine()
            } catch .timedOut {
                if let reason = stillAlive() { throw .agent(reason) }
                if HostClock.monotonicNanoseconds() > deadline {
                    throw .agent("no answer to `\(shown)` within \(timeoutSeconds + 10) s")
                }
                continue
            } catch {
                // A broken or lying answer leaves the stream unusable: the next user reconnects.
                Self.disconnect(paths)
                throw .agent("reading from \(paths.agentSocket): \(error)")
            }
            let words = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
            // Anything else is left over from an earlier client that gave up mid-answer.
            guard words.count == 5, words[0] == AgentProtocol.marker, words[1] == id,
                let status = Int32(words[2]), let outLength = Int(words[3]), let errLength = Int(words[4])
            else { continue }
            do {
                connection.setTimeout(seconds: 30)
                defer { connection.setTimeout(seconds: 1) }
                let output = try connection.readExactly(outLength)
                let errorOutput = try connection.readExactly(errLength)
                return Result(status: status, output: output, errorOutput: errorOutput)
            } catch {
                Self.disconnect(paths)
                throw .agent("reading the answer to `\(shown)`: \(error); the connection was closed")
            }
        }
    }
}
