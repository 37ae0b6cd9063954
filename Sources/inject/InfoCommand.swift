import ArgumentParser
import InjectHost

/// `inject info B`: a backend's parameters with their effective values and sources.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show a backend's parameters, effective values and where each came from.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backend.", completion: .custom { _, _, _ in BackendNames.all() })
    var backend: String

    @Argument(help: "name=value assignments to preview, as `run` would take them.")
    var assignments: [String] = []

    @Flag(
        help:
            "Also ask the backend what these values would do and what the target offers it (loads its code; `list` and `info` alone do not)."
    )
    var explain = false

    struct Report: Encodable {
        var backend: BackendInfo
        var parameters: [ResolvedParameter]
        /// With --explain: the backend's probe of the target (controllers, DIMMs, paths, ...).
        var target: [CapabilityReport]?
    }

    func run() throws {
        let session = try global.session(wanting: backend)
        let request = try global.request(backend, assignments)
        let (info, parameters) = try global.report { () throws(InjectError) in try session.effectiveParameters(request)
        }
        let target = explain ? try? session.probe(backend: info.name) : nil
        if global.json {
            Output.json(Report(backend: info, parameters: parameters, target: target))
            return
        }
        Output.line("\(info.name) \(info.version) — \(info.summary)")
        Output.line("families: \(info.families.joined(separator: ", "))   plugin: \(info.path) (ABI \(info.abi))\n")
        var rows = [["NAME", "TYPE", "VALUE", "SOURCE", "ALLOWED", "HELP"]]
        for parameter in parameters {
            let spec = parameter.spec
            let value =
                parameter.value.map { $0.text + (spec.unit.map { " \($0)" } ?? "") }
                ?? (spec.isRequired ? "(required)" : "-")
            rows.append([
                spec.name, spec.type.rawValue, value, parameter.source.description,
                spec.rangeDescription ?? spec.type.syntax, spec.help,
            ])
        }
        Output.line(Output.table(rows, indent: ""))
        // What these values would do, in the backend's words (a decoded status word, for example).
        if explain {
            do throws(InjectError) {
                let notes = try session.plan(request).steps.compactMap(\.note)
                if !notes.isEmpty {
                    Output.line("\nwith these values (`inject run \(info.name) ... --dry-run` shows every step):")
                    Output.line(notes.flatMap { $0.split(separator: "\n").map { "  \($0)" } }.joined(separator: "\n"))
                }
            } catch {
                Output.line("\ncannot explain these values yet: \(error)")
            }
            if let target, !target.isEmpty {
                Output.line("\non this target (`inject probe \(info.name)`):")
                Output.line(
                    Output.table(target.map { [$0.available ? "yes" : "no", $0.name, $0.detail] }, indent: "  "))
            }
        } else {
            Output.line("\n`inject info \(info.name) ... --explain` says what these values would do.")
        }
        Output.line(
            "\nEvery request also takes \(ExpectedOutcome.parameterName)=OUTCOME, the end state --verify checks: \(ExpectedOutcome.spellings)."
        )
        Output.line(
            "Set a value with name=value, \(ConfigurationSources.environmentName(backend: info.name, parameter: "<NAME>")), or \"backends\": {\"\(info.name)\": {...}} in the config file."
        )
    }
}

/// Backend names for shell completion.
enum BackendNames {
    static func all() -> [String] {
        var options = InjectSession.Options(environment: currentEnvironment())
        options.scannerExecutable = PluginSearchPath.executablePath
        guard let session = try? InjectSession(options) else { return [] }
        return session.registry.backends.map(\.info.name)
    }
}
