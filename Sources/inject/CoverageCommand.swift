import ArgumentParser
import InjectHost
import InjectLab

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

            --kernel A,B boots one lab per guest kernel (any `inject lab up --kernel` spelling), runs the \
            matrix in each, stops it, and prints one STATE column per kernel, so that what a kernel upgrade \
            changes stands out.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Inject each backend's default request and verify it.")
    var run = false

    @Option(name: .customLong("verify-timeout"), help: ArgumentHelp("How long each --run injection waits for its events.", valueName: "seconds"))
    var verifyTimeout: Double = 5

    @Option(help: ArgumentHelp("Guest kernels to compare (comma-separated `lab up --kernel` specs): one lab each, one column each.", valueName: "A,B"))
    var kernel: String?

    func validate() throws {
        guard let kernel else { return }
        let specs = kernel.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !specs.isEmpty, specs.count <= 8 else { throw ValidationError("--kernel takes 1 to 8 comma-separated kernels, got '\(kernel)'") }
        for spec in specs {
            do { _ = try KernelSpec(parsing: spec) } catch { throw ValidationError(error.description) }
        }
        if global.lab != nil || global.root != "/" { throw ValidationError("--kernel boots its own labs: drop --lab and --root") }
    }

    struct Row: Encodable {
        var backend: String
        var path: String
        var state: String
        var reason: String
    }

    func run() async throws {
        if let kernel {
            try await compare(kernel.split(separator: ",").map(String.init))
            return
        }
        let session = try global.session()
        let rows = await matrix(session)
        if global.json {
            Output.json(rows)
        } else {
            Output.line(Output.table([["BACKEND", "PATH", "STATE", "REASON"]] + rows.map { [$0.backend, $0.path, $0.state, $0.reason] }, indent: ""))
            Output.line("target \(session.options.target.summary): " + Self.counts(rows))
        }
        if rows.contains(where: { $0.state == "FAIL" }) { throw ExitCode(ExitCodes.execution) }
    }

    /// How many rows are in each state: "2 PASS, 0 FAIL, 9 READY, 3 N/A".
    static func counts(_ rows: [Row]) -> String {
        ["PASS", "FAIL", "READY", "N/A"].map { state in "\(rows.filter { $0.state == state }.count) \(state)" }.joined(separator: ", ")
    }

    /// One kernel's column.
    struct KernelColumn: Encodable {
        var kernel: String
        var release: String?
        var rows: [Row]
        /// Why the lab did not come up, when it did not.
        var error: String?
    }

    /// The matrix in one lab per kernel, printed side by side.
    private func compare(_ specs: [String]) async throws {
        let environment = currentEnvironment()
        var columns: [KernelColumn] = []
        for (index, spec) in specs.enumerated() {
            var options = Lab.Options()
            options.name = "coverage-\(getpid() % 100_000)-\(index)"
            options.kernel = try KernelSpec(parsing: spec)
            Output.progress("kernel \(spec): booting lab \(options.name)")
            do {
                let record = try await Lab.up(options, environment: environment) { Output.progress("  \($0)") }
                defer { _ = try? Lab(name: options.name, environment: environment).down() }
                var labGlobal = global
                labGlobal.lab = options.name
                columns.append(KernelColumn(kernel: spec, release: record.kernel, rows: await matrix(try labGlobal.session(), global: labGlobal)))
            } catch {
                columns.append(KernelColumn(kernel: spec, release: nil, rows: [], error: "\(error)"))
            }
        }
        if global.json {
            Output.json(columns)
        } else {
            // One row per backend and path any kernel reported, one STATE column per kernel; the
            // reason of the first kernel that is not READY or PASS there.
            var keys: [String] = []
            for column in columns { for row in column.rows where !keys.contains(row.backend + "\t" + row.path) { keys.append(row.backend + "\t" + row.path) } }
            let header = ["BACKEND", "PATH"] + columns.map { $0.release.map { "\($0)" } ?? $0.kernel } + ["REASON"]
            let lines = keys.map { key -> [String] in
                let parts = key.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                let cells = columns.map { column in column.rows.first { $0.backend + "\t" + $0.path == key } }
                let reason = cells.compactMap { $0 }.first { $0.state != "READY" && $0.state != "PASS" }?.reason ?? cells.compactMap { $0 }.first?.reason ?? ""
                return parts + cells.map { $0?.state ?? "-" } + [reason]
            }
            Output.line(Output.table([header] + lines, indent: ""))
            for column in columns {
                Output.line("kernel \(column.kernel)" + (column.release.map { " (\($0))" } ?? "") + ": "
                            + (column.error.map { "lab failed: \($0)" } ?? Self.counts(column.rows)))
            }
        }
        if columns.contains(where: { $0.error != nil || $0.rows.contains { $0.state == "FAIL" } }) { throw ExitCode(ExitCodes.execution) }
    }

    /// Every backend's paths (and, with --run, its default injection) on the session's target.
    private func matrix(_ session: InjectSession, global: GlobalOptions? = nil) async -> [Row] {
        let global = global ?? self.global
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
            rows.append(await runDefault(backend, session, global: global))
        }
        return rows
    }

    /// The backend's default request, injected and verified.
    private func runDefault(_ backend: String, _ session: InjectSession, global: GlobalOptions) async -> Row {
        let plan: InjectionPlan
        do {
            plan = try session.plan(InjectionRequest(backend))
        } catch {
            return Row(backend: backend, path: "default injection", state: "N/A", reason: error.description)
        }
        if !plan.confirmationReasons.isEmpty {
            return Row(backend: backend, path: "default injection", state: "N/A", reason: "skipped: needs --yes (" + plan.confirmationReasons.joined(separator: "; ") + ")")
        }
        do throws(InjectError) {
            let injector = Injector(session: session, journal: try global.journal(session), confirmed: false, verify: true,
                                    verifyTimeout: verifyTimeout)
            let outcome = try await injector.perform(plan)
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
