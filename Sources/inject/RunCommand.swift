import ArgumentParser
import InjectHost

/// `inject run B name=value ...`: validate, plan, journal, execute (or print with --dry-run), verify.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Inject an error through a backend.",
        discussion: """
            Nothing is executed until every parameter is valid. --dry-run prints the exact steps and touches nothing. \
            Every run is journaled (intent flushed to disk before the trigger, then the outcome); see `inject journal`. \
            --verify arms the target's observers before the trigger and waits for the kernel events the plan \
            declares; exit code 5 when some did not come.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backend.", completion: .custom { _, _, _ in BackendNames.all() })
    var backend: String

    @Argument(help: "Parameters as name=value (see `inject info <backend>`).")
    var assignments: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Print the steps without executing them.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Confirm a request that can crash or damage a real machine.")
    var yes = false

    @Flag(help: "Wait for the kernel events the plan declares (trace events, log lines, counters) and report them.")
    var verify = false

    @Option(
        name: .customLong("verify-timeout"),
        help: ArgumentHelp("How long --verify waits for the events.", valueName: "seconds"))
    var verifyTimeout: Double = 5

    struct Report: Encodable {
        var plan: InjectionPlan
        var dryRun: Bool
        var results: [Executor.StepResult]
        var verification: [Verifier.Finding]?
        /// The verification stage by stage (``VerificationPipeline``).
        var pipeline: VerificationPipeline? = nil
        /// The memory policies that acted on the request's page (``PolicyAction``).
        var policies: [PolicyAction]? = nil
        var journal: String?
        /// The kernel's panic line, when the injection ended in one, and the guest's restart.
        var panic: String? = nil
        var restartSeconds: Double? = nil
    }

    func validate() throws {
        guard verifyTimeout > 0, verifyTimeout <= 600 else {
            throw ValidationError("--verify-timeout \(verifyTimeout) is outside 0...600 seconds")
        }
    }

    func run() async throws {
        let session = try global.session(wanting: backend)
        let request = try global.request(backend, assignments)
        let target = session.options.target
        if dryRun {
            let plan: InjectionPlan
            do { plan = try session.plan(request) } catch { throw global.fail(error) }
            if global.json {
                Output.json(Report(plan: plan, dryRun: true, results: []))
            } else {
                Output.line(PlanRenderer.render(plan, root: target.root) + "\ndry run: nothing was executed.")
            }
            return
        }
        var injector = Injector(
            session: session, journal: nil, confirmed: yes, verify: verify, verifyTimeout: verifyTimeout
        ) {
            problems in problems.forEach { Output.progress("verify: \($0)") }
        }
        injector.watchesPolicies = true
        // Validated first (expect=sigbus: the victim runs before the plan, which takes its page),
        // then the journal is opened.
        let prepared: Injector.Prepared
        do { prepared = try await injector.prepare(request) } catch { throw global.fail(error) }
        do { injector.journal = try global.journal(session) } catch {
            await injector.abandon(prepared)
            throw global.fail(error)
        }
        let outcome: Injector.Outcome
        do { outcome = try await injector.perform(prepared) } catch { throw global.fail(error) }
        let plan = prepared.plan
        let journal = injector.journal
        let results = outcome.results
        let findings = outcome.findings
        if global.json {
            Output.json(
                Report(
                    plan: plan, dryRun: false, results: results, verification: findings,
                    pipeline: findings.map(VerificationPipeline.init), policies: outcome.policies,
                    journal: journal?.path,
                    panic: outcome.panic?.message, restartSeconds: outcome.restartSeconds))
        } else {
            printReport(outcome, plan: plan, guest: target.guest?.name)
        }
        if outcome.panic != nil, let guest = target.guest, outcome.restartSeconds == nil {
            // The restart's failure was told above; the lab is down, and the run did not end well.
            Output.progress(
                "error: \(guest.name) did not come back after the panic; restart it (inject lab down, inject lab up)")
            throw ExitCode(ExitCodes.unavailable)
        }
        if let findings, !findings.allSatisfy(\.matched) { throw ExitCode(ExitCodes.unverified) }
        if findings == nil, plan.outcome?.isPanic == true, outcome.panic == nil, target.reportsPanics {
            Output.progress("error: expect=\(plan.outcome!) but the kernel did not panic within \(verifyTimeout) s")
            throw ExitCode(ExitCodes.unverified)
        }
    }

    /// The human-readable report of a run that executed.
    private func printReport(_ outcome: Injector.Outcome, plan: InjectionPlan, guest: String?) {
        let results = outcome.results
        for result in results {
            Output.line(
                "\(result.index). \(result.step)  ok (\(result.microseconds) us)"
                    + (result.output.map { ": \($0)" } ?? ""))
        }
        Output.line("\(plan.backend): \(results.count) step(s) done.")
        if let findings = outcome.findings {
            for finding in findings {
                Output.line(
                    finding.matched
                        ? "  seen     \(finding.kind) \(finding.expected)  after \(finding.latencyMilliseconds ?? 0) ms: \(finding.evidence ?? "")"
                        : "  MISSING  \(finding.kind) \(finding.expected)  (not seen within \(verifyTimeout) s)"
                            + (finding.evidence.map { ": \($0)" } ?? ""))
                if let note = finding.note { Output.line("           why: \(note)") }
            }
            let kernel = findings.filter { $0.kind != .consumer }
            var consumers: [String] = []
            for finding in findings where finding.kind == .consumer && !consumers.contains(finding.consumer ?? "") {
                consumers.append(finding.consumer ?? "")
            }
            let perConsumer = consumers.map { name in
                let own = findings.filter { $0.kind == .consumer && ($0.consumer ?? "") == name }
                return "; the consumer (\(name)) recorded \(own.filter(\.matched).count) of \(own.count)"
            }
            Output.line(
                "verified: \(kernel.filter(\.matched).count) of \(kernel.count) expected kernel events"
                    + perConsumer.joined() + ".")
            if let policies = outcome.policies {
                for action in policies {
                    Output.line(
                        "  policy   \(action.policy)  after \(action.latencyMilliseconds ?? 0) ms: \(action.line)")
                }
                if policies.isEmpty { Output.line("  policy   none acted on the page") }
            }
            let pipeline = VerificationPipeline(findings)
            Output.line("pipeline: \(pipeline.summary)")
            if let drop = pipeline.firstDrop {
                Output.line(
                    "first dropped at \(drop.name)" + (drop.missing.map { " (\($0))" } ?? "")
                        + (drop.reason.map { ": \($0)" } ?? ""))
            }
        }
        if let panic = outcome.panic {
            Output.line("the kernel panicked: \(panic.message) (\(panic.noticedBy))")
            if let seconds = outcome.restartSeconds {
                Output.line(
                    "\(guest ?? "the guest") was restarted in \((seconds * 10).rounded() / 10) s")
            }
        }
    }
}
