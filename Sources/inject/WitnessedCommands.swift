import InjectHost

/// Which command lines get a ``PluginCallWitness``: every one that may call plugin code in this
/// process. The witness costs a fork at start-up (docs/benchmarks.md), so the commands that never
/// call plugin code here go without it: they read the registry cache, the journal or the lab's
/// files, and plugins are scanned in scanner processes of their own. A command missing from these
/// lists is witnessed: forgetting one costs time, not safety. (Switches rather than sets: this
/// runs first at every start, and a `Set<String>` literal costs 0.3 M instructions to build.)
enum WitnessedCommands {
    /// Whether the command line `arguments` (without the executable) is witnessed.
    static func witnesses(_ arguments: ArraySlice<String>) -> Bool {
        guard let first = arguments.first else { return false }
        switch first {
        case "list", "journal", "plugins", "victim", "help", "-h", "--help", "--version": return false
        case "lab": return !isUnwitnessedLab(arguments.dropFirst().first ?? "")
        default: return true
        }
    }

    /// `lab` subcommands that never call plugin code in this process.
    private static func isUnwitnessedLab(_ subcommand: String) -> Bool {
        switch subcommand {
        case "up", "down", "status", "exec", "console", "agent", "firmware", "kernels", "rasdaemon": return true
        default: return false
        }
    }
}
