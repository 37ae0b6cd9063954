import ArgumentParser
import InjectHost

#if canImport(Glibc)
import Glibc
#endif

/// `inject coverage`: a feature matrix of the target for a platform bring-up: every backend's
/// paths (from its probe) as READY or N/A with the reason, and with --run, each backend's default
/// (corrected) injection run with --verify as PASS, FAIL or N/A.
struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage", abstract: "Report every backend and path as PASS, FAIL, READY or N/A, with the reason.",
        discussion: """
            Without --run nothing is injected: each path a backend probes is READY or N/A (module missing, \
            kernel option off, not root, no lab). --run also injects each backend's default request (corrected \
            errors; anything that needs --yes is skipped) with --verify, and marks it PASS (every expected kernel \
            event seen), FAIL (with the error or the missing events) or N/A (the backend cannot plan it here).
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Inject each backend's default request and verify it.")
    var run = false

    @Option(name: .customLong("verify-timeout"), help: ArgumentHelp("How long each --run injection waits for its events.", valueName: "seconds"))
    var verifyTimeout: Double = 5

    struct Row: Encodable {
        var backend: String
        var path: String
        var state: String
        var reason: String
    }

    func run() async throws {
        let session = try global.session()
        let target = session.options.target
        var rows: [Row] = []
        let privilege = geteuid() == 0 || target.guest != nil || target.root != "/" ? "" : " (not root: run as root)"
        for backend in session.registry.backends.map(\.info.name) {
            do {
                for capability in try session.probe(backend: backend) {
                    rows.append(Row(backend: backend, path: capability.name, state: capability.available ? "READY" : "N/A",
                                    reason: capability.detail.split(separator: "\n").first.map(String.init).map { capability.available ? $0 : $0 + privilege } ?? ""))
                }
            } catch {
                rows.append(Row(backend: backend, path: "probe", state: "FAIL", reason: error.description))
            }
            guard run else { continue }
            rows.append(await runDefault(backend, session))
        }
        if global.json {
            Output.json(rows)
        } else {
            Output.line(Output.table([["BACKEND", "PATH", "STATE", "REASON"]] + rows.map { [$0.backend, $0.path, $0.state, $0.reason] }, indent: ""))
            let counts = ["PASS", "FAIL", "READY", "N/A"].map { state in "\(rows.filter { $0.state == state }.count) \(state)" }
            Output.line("target \(target.summary): " + counts.joined(separator: ", "))
        }
        if rows.contains(where: { $0.state == "FAIL" }) { throw ExitCode(ExitCodes.execution) }
    }

    /// The backend's default request, injected and verified.
    private func runDefault(_ backend: String, _ session: InjectSession) async -> Row {
        let plan: InjectionPlan
        do {
            plan = try session.plan(InjectionRequest(backend))
        } catch {
            return Row(backend: backend, path: "default injection", state: "N/A", reason: error.description)
        }
        if !plan.confirmationReasons.isEmpty {
            return Row(backend: backend, path: "default injection", state: "N/A", reason: "skipped: needs --yes (" + plan.confirmationReasons.joined(separator: "; ") + ")")
        }
        do {
            let outcome = try await session.perform(plan, journal: try global.journal(session), confirmed: false, verify: true,
                                                    verifyTimeout: verifyTimeout)
            let findings = outcome.findings ?? []
            let missing = findings.filter { !$0.matched }.map { "\($0.kind) \($0.expected)" }
            return missing.isEmpty
                ? Row(backend: backend, path: "default injection", state: "PASS", reason: "\(findings.count) of \(findings.count) expected kernel events seen")
                : Row(backend: backend, path: "default injection", state: "FAIL", reason: "missing: " + missing.joined(separator: "; "))
        } catch {
            return Row(backend: backend, path: "default injection", state: "FAIL", reason: error.description)
        }
    }
}
