import ArgumentParser
import InjectHost

/// `inject campaign FILE`: many injections from a scenario, with progress, a summary and JUnit XML.
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Run a scenario of injections: counts, rates, durations, seeded parameters, stop conditions.",
        discussion: """
            The scenario is a JSON file (see docs/campaigns.md). Every injection is validated, journaled and executed \
            as `inject run` does. Each step's trace events are counted in this process's tracefs instance (verify: count), \
            awaited per injection (each), or not checked (none). Ctrl-C stops after the current injection; the journal \
            stays consistent. Exit codes: 0 every step passed; 1 an injection failed; 5 events missing (events the kernel reports losing itself are listed, not counted); 130 interrupted.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The scenario file (JSON).")
    var scenario: String

    @Flag(name: .shortAndLong, help: "Confirm steps that can crash or damage a real machine.")
    var yes = false

    @Option(help: ArgumentHelp("Write the results as JUnit XML, one test case per step.", valueName: "file"))
    var junit: String?

    @Flag(
        name: .customLong("dry-run"),
        help: "Validate every value each step can draw and list the steps (case files expanded); inject nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Override the scenario's seed.", valueName: "n"))
    var seed: UInt64?

    @Option(
        name: .customLong("verify-timeout"),
        help: ArgumentHelp("How long to wait for a step's events after it.", valueName: "seconds"))
    var verifyTimeout: Double = 10

    struct Report: Encodable {
        var name: String
        var seed: UInt64
        var steps: [CampaignRunner.StepResult]
        var journal: String?
    }

    /// A step as `--dry-run` lists it.
    struct ListedStep: Encodable {
        var name: String
        var backend: String
        var count: Int
        var verify: String
        var expect: String?
        var parameters: [String]
    }

    struct DryRun: Encodable {
        var name: String
        var seed: UInt64
        var steps: [ListedStep]
    }

    func run() async throws {
        let session = try global.session()
        var plan = try global.report { () throws(InjectError) in
            do throws(ConfigurationError) { return try Scenario.load(scenario) } catch { throw .configuration(error) }
        }
        if let seed { plan.seed = seed }
        let journal = try global.report { () throws(InjectError) in try global.journal(session) }
        let runner = CampaignRunner(session: session, journal: journal, confirmed: yes, verifyTimeout: verifyTimeout)
        // Every value each step can draw is checked before anything is injected.
        try global.report { () throws(InjectError) in try runner.validate(plan) }
        if dryRun {
            showDryRun(plan)
            return
        }
        _ = try global.report { () throws(InjectError) in try session.targetFiles() }
        InterruptRequest.install()
        let terminal = isatty(2) != 0
        var lastShown = -1
        let results = await runner.run(
            plan, progress: { progress in Self.show(progress, terminal: terminal, lastShown: &lastShown) },
            interrupted: { InterruptRequest.isRequested })
        if terminal { Output.progressInPlace(nil) }
        InterruptRequest.uninstall()
        if let junit { try writeJUnit(results, name: plan.name, to: junit) }
        if global.json {
            Output.json(Report(name: plan.name, seed: plan.seed, steps: results, journal: journal?.path))
        } else {
            showResults(results)
            Output.line("campaign \(plan.name), seed \(plan.seed)" + (journal.map { ", journal \($0.path)" } ?? ""))
        }
        if results.contains(where: { $0.stopped == .interrupted }) { throw ExitCode(130) }
        if results.contains(where: { $0.failed > 0 }) { throw ExitCode(ExitCodes.execution) }
        // Events the kernel said it lost itself are reported above, not counted against the step.
        if results.contains(where: {
            $0.seenEvents + ($0.kernelDropped ?? 0) < $0.expectedEvents
                || ($0.consumerSeen ?? 0) < ($0.consumerExpected ?? 0)
                || ($0.exporterSeen ?? 0) < ($0.exporterExpected ?? 0)
        }) {
            throw ExitCode(ExitCodes.unverified)
        }
    }

    /// The steps a dry run validated.
    private func showDryRun(_ plan: Scenario) {
        let steps = plan.steps.map { step in
            ListedStep(
                name: step.name, backend: step.backend, count: step.count, verify: step.verify,
                expect: step.expect?.description,
                parameters: step.parameters.map { "\($0.name)=\($0.value.summary)" })
        }
        if global.json {
            Output.json(DryRun(name: plan.name, seed: plan.seed, steps: steps))
            return
        }
        var rows = [["STEP", "BACKEND", "COUNT", "VERIFY", "EXPECT", "PARAMETERS"]]
        for step in steps {
            rows.append([
                step.name, step.backend, "\(step.count)", step.verify, step.expect ?? "-",
                step.parameters.joined(separator: " "),
            ])
        }
        Output.line(Output.table(rows, indent: ""))
        Output.line(
            "campaign \(plan.name), seed \(plan.seed): \(steps.count) step(s) valid; dry run: nothing was injected.")
    }

    /// Progress on standard error: a bar redrawn in place on a terminal, else a line every 10%.
    private static func show(_ progress: CampaignRunner.Progress, terminal: Bool, lastShown: inout Int) {
        let percent = progress.done * 100 / progress.total
        let rate = Double(progress.done) / max(progress.elapsed, 0.001)
        let eta = Double(progress.total - progress.done) / max(rate, 0.001)
        if terminal {
            let width = 30
            let filled = progress.done * width / progress.total
            Output.progressInPlace(
                "[\(progress.step)/\(progress.steps)] \(progress.name) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
                    + "\(progress.done)/\(progress.total) \(Int(rate))/s ETA \(Int(eta)) s")
        } else if percent / 10 != lastShown / 10 || progress.done == progress.total {
            lastShown = percent
            Output.progress(
                "[\(progress.step)/\(progress.steps)] \(progress.name): \(progress.done)/\(progress.total) (\(percent)%), \(Int(rate))/s"
            )
        }
    }

    /// The results table, and per step what the kernel lost and how the step ran.
    private func showResults(_ results: [CampaignRunner.StepResult]) {
        var rows = [
            [
                "STEP", "BACKEND", "INJECTED", "FAILED", "KERNEL SEEN", "RASDAEMON", "NODE_EXPORTER", "TIME", "RATE",
                "RESULT",
            ]
        ]
        for result in results {
            rows.append([
                result.name, result.backend, "\(result.injected)/\(result.planned)", "\(result.failed)",
                "\(result.seenEvents)/\(result.expectedEvents)",
                result.consumerExpected.map { "\(result.consumerSeen ?? 0)/\($0)" } ?? "-",
                result.exporterExpected.map { "\(result.exporterSeen ?? 0)/\($0)" } ?? "-",
                String(format1(result.seconds)) + " s",
                String(Int(Double(result.injected) / max(result.seconds, 0.001))) + "/s",
                result.passed
                    ? "PASS"
                    : "FAIL" + (result.stopped.map { " (\($0))" } ?? "") + (result.firstError.map { ": \($0)" } ?? ""),
            ])
        }
        Output.line(Output.table(rows, indent: ""))
        for result in results {
            if let reason = result.dropReason {
                let lost =
                    (result.kernelDropped ?? 0) > 0
                    ? "lost \(result.kernelDropped ?? 0) of \(result.expectedEvents) events itself" : "did not keep up"
                Output.line(
                    "\(result.name): the kernel \(lost) at "
                        + (result.dropRate.map { "\(Int($0)) injections/s" } ?? "this rate")
                        + ": \(reason); lower the step's rate, or use \"rate\": \"max\" to pace it to what the kernel consumes"
                )
            }
            if let batches = result.batches {
                Output.line("\(result.name): ran in \(batches) batch(es) where the kernel is")
            }
            if let actions = result.lastPolicies {
                Output.line(
                    "\(result.name): policy "
                        + (actions.isEmpty
                            ? "none acted on the page"
                            : actions.map { "\($0.policy): \($0.line)" }.joined(separator: "; ")))
            }
            for finding in result.lastFindings where !finding.matched {
                Output.line(
                    "\(result.name): MISSING \(finding.expected)"
                        + (finding.evidence.map { " (\($0))" } ?? ""))
            }
        }
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// JUnit XML: one test suite, one test case per step (failures carry the reason).
    private func writeJUnit(_ results: [CampaignRunner.StepResult], name: String, to path: String) throws {
        func escape(_ text: String) -> String {
            var out = ""
            for character in text {
                switch character {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                default: out.append(character)
                }
            }
            return out
        }
        let failures = results.filter { !$0.passed }.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites><testsuite name=\"\(escape(name))\" tests=\"\(results.count)\" failures=\"\(failures)\" time=\"\(format1(results.reduce(0) { $0 + $1.seconds }))\">\n"
        for result in results {
            xml +=
                "  <testcase classname=\"\(escape(name))\" name=\"\(escape(result.name))\" time=\"\(format1(result.seconds))\">"
            // Kernel-seen and consumer-seen counts, each on its own (properties first, as pytest writes them).
            xml +=
                "<properties><property name=\"kernel_expected\" value=\"\(result.expectedEvents)\"/><property name=\"kernel_seen\" value=\"\(result.seenEvents)\"/>"
                + (result.consumerExpected.map {
                    "<property name=\"consumer_expected\" value=\"\($0)\"/><property name=\"consumer_seen\" value=\"\(result.consumerSeen ?? 0)\"/>"
                } ?? "")
                + (result.exporterExpected.map {
                    "<property name=\"exporter_expected\" value=\"\($0)\"/><property name=\"exporter_seen\" value=\"\(result.exporterSeen ?? 0)\"/>"
                } ?? "")
                + "</properties>"
            if !result.passed {
                let reason =
                    "injected \(result.injected)/\(result.planned), failed \(result.failed), kernel events \(result.seenEvents)/\(result.expectedEvents)"
                    + (result.consumerExpected.map { ", rasdaemon rows \(result.consumerSeen ?? 0)/\($0)" } ?? "")
                    + (result.exporterExpected.map { ", node_exporter errors \(result.exporterSeen ?? 0)/\($0)" } ?? "")
                    + (result.stopped.map { ", \($0)" } ?? "") + (result.firstError.map { ": \($0)" } ?? "")
                xml += "<failure message=\"\(escape(reason))\"/>"
            }
            let consumer =
                (result.consumerExpected.map { "; rasdaemon recorded \(result.consumerSeen ?? 0) of \($0)" } ?? "")
                + (result.exporterExpected.map { "; node_exporter counted \(result.exporterSeen ?? 0) of \($0)" } ?? "")
            // The declared outcome and its evidence (the panic line), from the last injection's findings.
            let outcome =
                result.lastFindings.filter { $0.kind == .outcome }.map {
                    "; outcome \($0.expected): \($0.matched ? "seen" : "NOT seen")"
                        + ($0.evidence.map { " (\($0))" } ?? "")
                }.joined()
                + (result.lastPolicies.map { actions in
                    "; policy: "
                        + (actions.isEmpty
                            ? "none acted on the page"
                            : actions.map { "\($0.policy) (\($0.line))" }.joined(separator: ", "))
                } ?? "")
            xml +=
                "<system-out>\(escape("\(result.backend): \(result.injected) injection(s), \(result.seenEvents) of \(result.expectedEvents) kernel events seen\(consumer)\(outcome)"))</system-out></testcase>\n"
        }
        xml += "</testsuite></testsuites>\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            Output.error("cannot write \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(ExitCodes.execution)
        }
        defer { close(fd) }
        var bytes = xml
        bytes.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    }
}
