import ArgumentParser
import InjectHost
import InjectLab

/// `inject coverage`: a feature matrix of the target for a platform bring-up: every backend's
/// paths (from its probe) as READY or N/A with the reason, and with --run, each backend's default
/// (corrected) injection run with --verify as PASS, FAIL or N/A.
struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Report every backend and path as PASS, FAIL, READY or N/A, with the reason.",
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

    @Option(
        name: .customLong("verify-timeout"),
        help: ArgumentHelp("How long each --run injection waits for its events.", valueName: "seconds"))
    var verifyTimeout: Double = 5

    @Option(
        help: ArgumentHelp(
            "Guest kernels to compare (comma-separated `lab up --kernel` specs): one lab each, one column each.",
            valueName: "A,B"))
    var kernel: String?

    func validate() throws {
        guard let kernel else { return }
        let specs = kernel.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !specs.isEmpty, specs.count <= 8 else {
            throw ValidationError("--kernel takes 1 to 8 comma-separated kernels, got '\(kernel)'")
        }
        for spec in specs {
            do { _ = try KernelSpec(parsing: spec) } catch { throw ValidationError(error.description) }
        }
        if global.lab != nil || global.root != "/" {
            throw ValidationError("--kernel boots its own labs: drop --lab and --root")
        }
    }

    func run() async throws {
        if let kernel {
            try await compare(kernel.split(separator: ",").map(String.init))
            return
        }
        let session = try global.session()
        let matrix = try await matrix(session)
        if global.json {
            Output.json(matrix)
        } else {
            Output.line(
                Output.table(
                    [["BACKEND", "PATH", "STATE", "REASON"]]
                        + matrix.rows.map { [$0.backend, $0.path, $0.state.rawValue, $0.reason] }, indent: ""))
            Output.line("target \(session.options.target.summary): " + matrix.counts)
        }
        if matrix.failed { throw ExitCode(ExitCodes.execution) }
    }

    /// One kernel's column.
    struct KernelColumn: Encodable {
        var kernel: String
        var release: String?
        var rows: CoverageMatrix
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
                columns.append(
                    KernelColumn(
                        kernel: spec, release: record.kernel,
                        rows: try await matrix(try labGlobal.session(), global: labGlobal)))
            } catch {
                columns.append(
                    KernelColumn(kernel: spec, release: nil, rows: CoverageMatrix(rows: []), error: "\(error)"))
            }
        }
        if global.json {
            Output.json(columns)
        } else {
            let header = ["BACKEND", "PATH"] + columns.map { $0.release.map { "\($0)" } ?? $0.kernel } + ["REASON"]
            let lines = CoverageMatrix.sideBySide(columns.map(\.rows)).map { row in
                [row.backend, row.path] + row.states.map { $0?.rawValue ?? "-" } + [row.reason]
            }
            Output.line(Output.table([header] + lines, indent: ""))
            for column in columns {
                Output.line(
                    "kernel \(column.kernel)" + (column.release.map { " (\($0))" } ?? "") + ": "
                        + (column.error.map { "lab failed: \($0)" } ?? column.rows.counts))
            }
        }
        if columns.contains(where: { $0.error != nil || $0.rows.failed }) { throw ExitCode(ExitCodes.execution) }
    }

    /// Every backend's paths (and, with --run, its default injection) on the session's target.
    /// Nothing is injected without its journal: one that cannot be opened stops the command.
    private func matrix(_ session: InjectSession, global: GlobalOptions? = nil) async throws -> CoverageMatrix {
        let global = global ?? self.global
        guard run else { return await CoverageMatrix.build(session) }
        let journal: Journal?
        do { journal = try global.journal(session) } catch { throw global.fail(error) }
        let injector = Injector(
            session: session, journal: journal, confirmed: false, verify: true, verifyTimeout: verifyTimeout)
        return await CoverageMatrix.build(session, injecting: injector)
    }
}
