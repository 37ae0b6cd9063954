import ArgumentParser
import InjectHost

/// `inject list`: every backend found, and every plugin refused with its reason.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the backends found on the plugin search path, and refused plugins.")

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        var backends: [BackendInfo]
        var refused: [PluginRefusal]
        var searchPath: [PluginSearchPath.Entry]
    }

    func run() throws {
        let registry = try global.session().registry
        if global.json {
            Output.json(
                Report(
                    backends: registry.backends.map(\.info), refused: registry.refusals,
                    searchPath: registry.searchPath.entries))
            return
        }
        if registry.backends.isEmpty {
            Output.line(
                "no backends found; searched: " + registry.searchPath.entries.map(\.path).joined(separator: ", "))
        } else {
            Output.line(
                Output.table(
                    registry.backends.map {
                        [
                            $0.info.name, $0.info.version, $0.info.families.joined(separator: ","), $0.info.summary,
                            $0.info.path,
                        ]
                    }, indent: ""))
        }
        if !registry.refusals.isEmpty {
            Output.line("\nrefused:")
            registry.refusals.forEach { Output.line("  \($0)") }
        }
    }
}
