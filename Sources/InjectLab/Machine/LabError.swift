import InjectHost

/// A failure while preparing, starting, using or stopping a lab.
public enum LabError: Error, Equatable, CustomStringConvertible {
    /// A lab name outside `[a-z0-9][a-z0-9-]*`, at most 24 characters.
    case invalidName(String)
    /// A program the lab needs is missing; `install` is the exact command that fixes it.
    case missingPrerequisite(what: String, install: String)
    /// The guest kernel could not be found, fetched or unpacked.
    case kernel(String)
    /// A lab of that name is already running.
    case alreadyRunning(name: String, pid: Int32)
    /// No lab of that name is running.
    case notRunning(name: String)
    /// QEMU refused to start or died; `console` is the end of the guest console.
    case qemuFailed(reason: String, console: String)
    /// The guest did not answer within the boot timeout.
    case bootTimeout(seconds: Int, console: String)
    /// Talking to the guest agent failed.
    case agent(String)
    /// A file of the lab could not be written or removed.
    case io(path: String, reason: String)
    /// A lab directory another user could have made or can write: its files are not trusted.
    case untrustedDirectory(path: String, reason: String)
    /// Saving or restoring a snapshot failed (the lab then boots instead).
    case snapshot(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return
                "invalid lab name '\(name)': use 1 to 24 of a-z, 0-9 and '-', starting with a letter or digit (for example \(Setting.labName.named("lab2")))"
        case .missingPrerequisite(let what, let install):
            return "\(what); run: \(install)"
        case .kernel(let reason):
            return "guest kernel: \(reason)"
        case .alreadyRunning(let name, let pid):
            return
                "lab '\(name)' is already running (QEMU pid \(pid)); use it, stop it with `inject lab down \(name)`, or pick another \(Setting.labName)"
        case .notRunning(let name):
            return
                "no lab named '\(name)' is running; start one with `inject lab up \(Setting.labName.named(name))` (`inject lab status` lists them)"
        case .qemuFailed(let reason, let console):
            return "QEMU failed: \(reason)" + Self.tail(console)
        case .bootTimeout(let seconds, let console):
            return "the guest did not come up within \(seconds) s" + Self.tail(console)
        case .agent(let reason):
            return "lab agent: \(reason)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .snapshot(let reason):
            return "lab snapshot: \(reason); `inject lab up \(Setting.coldBoot)` boots without one"
        case .untrustedDirectory(let path, let reason):
            return
                "refused lab directory \(path): \(reason); another user may have made it to catch your lab's files and sockets. Remove it (or set XDG_RUNTIME_DIR to a directory of your own)"
        }
    }

    private static func tail(_ console: String) -> String {
        console.isEmpty ? "" : "\nlast lines of the guest console:\n\(console)"
    }
}
