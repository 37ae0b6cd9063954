import ArgumentParser
import InjectHost

/// `inject probe [B]`: what the target supports, and why not where it does not.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Show what the target supports for one backend or all, and why not.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backend; all when omitted.", completion: .custom { _, _, _ in BackendNames.all() })
    var backend: String?

    struct Report: Encodable {
        var backend: String
        var capabilities: [CapabilityReport]
        var error: String?
    }

    func run() throws {
        let session = try global.session(wanting: backend)
        if let backend {
            _ = try global.report { () throws(InjectError) in try session.registry.registered(named: backend) }
        }
        let names = backend.map { [$0] } ?? session.registry.backends.map(\.info.name)
        var reports: [Report] = []
        for name in names {
            do {
                reports.append(Report(backend: name, capabilities: try session.probe(backend: name)))
            } catch {
                reports.append(Report(backend: name, capabilities: [], error: error.description))
            }
        }
        // What the kernel does with errors itself, and the consumer's pitfalls where rasdaemon has a
        // trace instance on the target.
        if backend == nil {
            let doctor = Doctor(session: session)
            for (section, checks) in [("kernel", doctor.kernelPolicies()), ("consumer", doctor.consumer())]
            where !checks.isEmpty {
                reports.append(
                    Report(
                        backend: section,
                        capabilities: checks.map {
                            CapabilityReport(name: $0.name, available: $0.status == .ok, detail: $0.detail)
                        }))
            }
        }
        if global.json {
            Output.json(reports)
        } else {
            for report in reports {
                Output.line("\(report.backend):")
                if let error = report.error { Output.line("  probe failed: \(error)") }
                if report.capabilities.isEmpty && report.error == nil { Output.line("  (nothing to probe)") }
                Output.line(
                    Output.table(report.capabilities.map { [$0.available ? "yes" : "no", $0.name, $0.detail] }))
            }
        }
        if backend != nil, let error = reports.first?.error {
            Output.error(error)
            throw ExitCode(ExitCodes.plugin)
        }
    }
}
