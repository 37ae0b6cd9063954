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

    /// What kind of failure it is; a front end maps it to its exit code.
    public enum Category: Sendable, Equatable {
        /// Bad input, an unknown backend, an invalid parameter: nothing was executed.
        case usage
        /// A plugin refused the request or misbehaved.
        case plugin
        /// The request needs confirmation.
        case confirmation
        /// A step failed on the target.
        case execution
        /// The target or lab could not be reached.
        case unavailable
        /// The journal could not be opened or written.
        case journal
    }

    /// What kind of failure it is.
    public var category: Category {
        switch self {
        case .configuration, .unknownBackend, .invalidRequest: .usage
        case .pluginFailed, .notificationLoop: .plugin
        case .confirmationRequired: .confirmation
        case .stepFailed: .execution
        case .target: .unavailable
        case .journal, .stepFailedUnjournaled: .journal
        }
    }

    public var description: String {
        switch self {
        case .unknownBackend(let name, let available, let refused):
            var text =
                "no backend named '\(name)'; available: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
            // A refused file named like the backend is most likely the one meant: say why.
            let stem = { (path: String) -> String in
                var file = String(path.split(separator: "/").last ?? "")
                for suffix in [".inject.json", ".so"] where file.hasSuffix(suffix) { file.removeLast(suffix.count) }
                return file.hasPrefix("lib") ? String(file.dropFirst(3)) : file
            }
            if let meant = refused.first(where: { stem($0.path).lowercased() == name.lowercased() }) {
                text += "; \(meant.path) was refused: \(meant.reason)"
            } else if !refused.isEmpty {
                text += " (\(refused.count) plugin(s) refused; see `inject list`)"
            }
            return text
        case .configuration(let error):
            return error.description
        case .pluginFailed(let backend, _, let message):
            return "\(backend): \(message)"
        case .invalidRequest(let backend, let message):
            return "\(backend): \(message) (nothing was executed)"
        case .confirmationRequired(let backend, let reasons):
            return "\(backend): this request needs \(Setting.confirmation): " + reasons.joined(separator: "; ")
        case .stepFailed(let index, let step, let completed, let wasTrigger, let error):
            var text = "step \(index + 1) (\(step)) failed: \(error)"
            if wasTrigger && error.reachedTheKernel {
                text +=
                    " [the kernel received this trigger and refused or could not finish it: its log says what it did]"
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
