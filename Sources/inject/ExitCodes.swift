import InjectHost

/// The exit codes of `inject` (documented in the README and `inject --help`).
enum ExitCodes {
    /// Success.
    static let success: Int32 = 0
    /// A step failed on the target.
    static let execution: Int32 = 1
    /// The target or lab could not be reached, started or stopped.
    static let unavailable: Int32 = 2
    /// A plugin refused the request or misbehaved (also the status when plugin code ends the process).
    static let plugin: Int32 = 3
    /// The request needs `--yes`.
    static let confirmation: Int32 = 4
    /// `--verify`: the injection ran but not every expected kernel event was seen in time.
    static let unverified: Int32 = 5
    /// The journal could not be opened or written (see the message for `--journal FILE` and `--no-journal`).
    static let journal: Int32 = 6
    /// Bad command line, unknown backend, or invalid parameters (EX_USAGE).
    static let usage: Int32 = 64

    /// The exit code for a host failure.
    static func of(_ error: InjectError) -> Int32 {
        switch error.category {
        case .usage: usage
        case .plugin: plugin
        case .confirmation: confirmation
        case .execution: execution
        case .unavailable: unavailable
        case .journal: journal
        }
    }
}

/// How the command line spells the host's and the lab's settings in messages.
enum SettingSpelling {
    /// The flag of each setting.
    static func flag(_ setting: Setting) -> String {
        switch setting {
        case .root: "--root"
        case .qmpSocket: "--qmp"
        case .guestMemory: "--guest-memory"
        case .bmc: "--bmc"
        case .lab: "--lab"
        case .journal: "--journal"
        case .noJournal: "--no-journal"
        case .pluginPath: "--plugin-path"
        case .config: "--config"
        case .confirmation: "--yes"
        case .labName: "--name"
        case .kernel: "--kernel"
        case .cpus: "--cpus"
        case .memory: "--memory"
        case .einjTypes: "--einj-types"
        case .qemu: "--qemu"
        case .noEDAC: "--no-edac"
        case .guestPackage: "--package"
        case .guestSuite: "--guest-suite"
        case .coldBoot: "--cold"
        case .labConsumers: "--with"
        case .pinPlugins: "`inject plugins pin --write`"
        }
    }

    /// Installs the spelling (once, at start).
    static func install() {
        Setting.bootstrap { setting, value in
            let flag = flag(setting)
            return value.map { "\(flag) \($0)" } ?? flag
        }
    }
}
