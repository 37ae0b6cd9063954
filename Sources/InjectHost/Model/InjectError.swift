/// Every failure the host reports, each with its exit code and a message that says what was
/// tried, why it failed and what to do.
public enum InjectError: Error, Equatable, CustomStringConvertible {
    /// The user named a backend nobody provides.
    case unknownBackend(name: String, available: [String], refused: [PluginRefusal])
    /// A parameter could not be resolved; nothing was executed.
    case configuration(ConfigurationError)
    /// The plugin refused the request or broke its contract.
    case pluginFailed(backend: String, code: Int32, message: String)
    /// The backend found a value invalid (its plan returned `INJECT_E_INVALID`): a bad request,
    /// like a value outside its range; nothing was executed.
    case invalidRequest(backend: String, message: String)
    /// The request can crash or damage the machine and `--yes` was not given.
    case confirmationRequired(backend: String, reasons: [String])
    /// A step failed on the target; `completed` steps had already run; `wasTrigger` says whether it
    /// was the step that raises the error (the kernel may then have acted on it before failing).
    case stepFailed(index: Int, step: String, completed: Int, wasTrigger: Bool, error: TargetError)
    /// NOTIFY steps nested too deeply (a cycle between backends).
    case notificationLoop(chain: [String])
    /// The target could not be reached (a lab that is not running, for example).
    case target(TargetError)
    /// The journal could not be opened or written.
    case journal(JournalError)
    /// A step failed (the first text) and its outcome could not be journaled either.
    case stepFailedUnjournaled(String, journal: JournalError)

    /// The process exit code for this failure (documented in the README and `inject --help`).
    public var exitCode: Int32 {
        switch self {
        case .configuration, .unknownBackend, .invalidRequest: return ExitCodes.usage
        case .pluginFailed: return ExitCodes.plugin
        case .confirmationRequired: return ExitCodes.confirmation
        case .stepFailed: return ExitCodes.execution
        case .notificationLoop: return ExitCodes.plugin
        case .target: return ExitCodes.unavailable
        case .journal, .stepFailedUnjournaled: return ExitCodes.journal
        }
    }

    public var description: String {
        switch self {
        case .unknownBackend(let name, let available, let refused):
            var text = "no backend named '\(name)'; available: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
            if !refused.isEmpty { text += " (\(refused.count) plugin(s) refused; see `inject list`)" }
            return text
        case .configuration(let error):
            return error.description
        case .pluginFailed(let backend, _, let message):
            return "\(backend): \(message)"
        case .invalidRequest(let backend, let message):
            return "\(backend): \(message) (nothing was executed)"
        case .confirmationRequired(let backend, let reasons):
            return "\(backend): this request needs --yes: " + reasons.joined(separator: "; ")
        case .stepFailed(let index, let step, let completed, let wasTrigger, let error):
            var text = "step \(index + 1) (\(step)) failed: \(error)"
            if wasTrigger && error.reachedTheKernel {
                text += " [the kernel received this trigger and refused or could not finish it: its log says what it did]"
            } else {
                text += completed > 0 ? " [\(completed) earlier step(s) had run]" : " [nothing was changed]"
            }
            return text
        case .notificationLoop(let chain):
            return "notification steps loop between backends: \(chain.joined(separator: " -> "))"
        case .target(let error):
            return error.description
        case .journal(let error):
            return error.description
        case .stepFailedUnjournaled(let failure, let journal):
            return failure + "\n" + journal.description
        }
    }
}

/// The exit codes of `inject`.
public enum ExitCodes {
    /// Success.
    public static let success: Int32 = 0
    /// A step failed on the target.
    public static let execution: Int32 = 1
    /// The target or lab could not be reached, started or stopped.
    public static let unavailable: Int32 = 2
    /// The journal could not be opened or written (see the message for `--journal FILE` and `--no-journal`).
    public static let journal: Int32 = 6
    /// A plugin refused the request or misbehaved.
    public static let plugin: Int32 = 3
    /// The request needs `--yes`.
    public static let confirmation: Int32 = 4
    /// `--verify`: the injection ran but not every expected kernel event was seen in time.
    public static let unverified: Int32 = 5
    /// Bad command line, unknown backend, or invalid parameters (EX_USAGE).
    public static let usage: Int32 = 64
}
