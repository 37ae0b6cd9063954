import InjectHost

/// What a guest daemon's status says at least: its process, when it runs.
public protocol GuestDaemonStatus: Sendable {
    /// Its process, when it runs.
    var pid: Int? { get }
}

extension GuestDaemonStatus {
    /// Whether it runs.
    public var running: Bool { pid != nil }
}

/// A consumer that runs as a daemon in a lab's guest, from the guest's Debian package: started
/// once, the way its Debian unit starts it, by a shell script that returns once it works.
public protocol GuestDaemon {
    associatedtype Status: GuestDaemonStatus
    /// The lab whose guest runs it.
    var lab: Lab { get }
    /// Its Debian package and command.
    static var package: String { get }
    /// The guest shell script that starts it and exits 0 once it works, or non-zero with the reason
    /// on standard error.
    static var startScript: String { get }
    /// What it is doing now.
    func status() throws(LabError) -> Status
}

extension GuestDaemon {
    /// Starts it (once; a running one is left as it is) and waits until it works.
    public func start() throws(LabError) -> Status {
        let current = try status()
        if current.running { return current }
        let script = """
            command -v \(Self.package) >/dev/null || { echo "the guest's Debian root has no \(Self.package)" >&2; exit 3; }
            \(Self.startScript)
            """
        let result = try lab.exec(script, timeoutSeconds: 30)
        guard result.status == 0 else {
            throw .agent(
                "starting \(Self.package) in the guest failed (status \(result.status)): \(result.errorText.trimmed())")
        }
        return try status()
    }
}
