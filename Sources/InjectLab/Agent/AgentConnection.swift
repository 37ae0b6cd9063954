import InjectHost

/// A lab's guest as the host sees it (``GuestConnection``): attribute files and shell commands
/// through the lab's agent.
public struct AgentConnection: GuestConnection {
    /// The lab's files.
    public let paths: LabPaths

    /// The guest of the lab at `paths`.
    public init(_ paths: LabPaths) { self.paths = paths }

    public var name: String { "lab \(paths.name)" }

    public func files() throws(TargetError) -> any TargetFiles { try AgentFiles(paths) }

    public func shell(_ command: String, timeoutSeconds: Int) throws(TargetError) -> ShellResult {
        do {
            let lab = Lab(paths: paths)
            return try AgentClient.shared(paths).run(
                command, timeoutSeconds: timeoutSeconds, stillAlive: lab.stoppedReason)
        } catch {
            throw error.asTargetError(paths.name)
        }
    }

    public func release() { AgentClient.disconnect(paths) }

    public func panic() -> GuestPanic? { Lab(paths: paths).panic() }

    public func machineFaults() -> [String] { Lab(paths: paths).helperFaults() }

    public func restart() async throws(TargetError) -> Double {
        let started = HostClock.monotonicNanoseconds()
        do {
            let lab = Lab(paths: paths)
            _ = try await lab.restart(after: lab.panic())
        } catch {
            throw error.asTargetError(paths.name)
        }
        return Double(HostClock.monotonicNanoseconds() - started) / 1e9
    }
}

extension LabError {
    /// This failure as the host reports an unreachable guest.
    public func asTargetError(_ name: String) -> TargetError {
        .guest(name: "lab \(name)", reason: description)
    }
}
