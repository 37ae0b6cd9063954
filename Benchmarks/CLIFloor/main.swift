// Benchmark floor (not part of the tool): `inject`'s command tree in swift-argument-parser --
// the twelve subcommands, the same global option group, `run`'s arguments and flags -- with no
// work behind them. `Benchmarks/cold-list.sh` measures `inject list` and `inject run mce
// --dry-run` beside `cli-floor list` and `cli-floor run mce --dry-run`: the difference is what
// `inject` itself costs on top of the CLI library it chose.
import ArgumentParser

struct Global: ParsableArguments {
    @Option(name: .customLong("plugin-path")) var pluginPaths: [String] = []
    @Option(name: .customLong("config")) var configPath: String?
    @Option var root: String = "/"
    @Option var qmp: String?
    @Option(name: .customLong("guest-memory")) var guestMemory: String?
    @Option var lab: String?
    @Option var bmc: String?
    @Option(name: .customLong("bmc-user")) var bmcUser: String = "admin"
    @Option var journal: String?
    @Flag(name: .customLong("no-journal")) var noJournal = false
    @Flag var json = false
    @Flag(name: .shortAndLong) var verbose: Int
}

struct List: ParsableCommand { @OptionGroup var global: Global }
struct Info: ParsableCommand {
    @OptionGroup var global: Global
    @Argument var backend: String
    @Argument var assignments: [String] = []
    @Flag var explain = false
}
struct Probe: ParsableCommand {
    @OptionGroup var global: Global
    @Argument var backend: String?
}
struct Run: ParsableCommand {
    @OptionGroup var global: Global
    @Argument var backend: String
    @Argument var assignments: [String] = []
    @Flag(name: .customLong("dry-run")) var dryRun = false
    @Flag(name: .shortAndLong) var yes = false
    @Flag var verify = false
    @Option(name: .customLong("verify-timeout")) var verifyTimeout: Double = 10
}
struct Campaign: ParsableCommand {
    @OptionGroup var global: Global
    @Argument var scenario: String
}
struct Watch: ParsableCommand { @OptionGroup var global: Global }
struct Coverage: ParsableCommand {
    @OptionGroup var global: Global
    @Flag var run = false
}
struct Journal: ParsableCommand { @OptionGroup var global: Global }
struct Decode: ParsableCommand {
    @OptionGroup var global: Global
    @Argument var file: String?
}
struct Plugins: ParsableCommand { @OptionGroup var global: Global }
struct Doctor: ParsableCommand { @OptionGroup var global: Global }
struct Lab: ParsableCommand { @OptionGroup var global: Global }

struct Floor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject",
        subcommands: [
            List.self, Info.self, Probe.self, Run.self, Campaign.self, Watch.self, Coverage.self,
            Journal.self, Decode.self, Plugins.self, Doctor.self, Lab.self,
        ])
}

do {
    var command = try Floor.parseAsRoot()
    try command.run()
} catch {
    Floor.exit(withError: error)
}
