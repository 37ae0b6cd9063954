/// A campaign step carried out one injection at a time through the ``Injector``: each request
/// prepared (a victim for `expect=sigbus`), paced by the step's rate, performed and verified
/// (each injection's events with `verify: each`, or the step's counted in a tracefs instance
/// with `verify: count`), until the count, the duration, a failure, the scenario's stop text in
/// the kernel log, or an interruption.
struct SequentialStep {
    let runner: CampaignRunner
    let step: Scenario.Step
    let scenario: Scenario
    /// Counts the step's trace events (and the console, for a stop text).
    let counter: Verifier
    private let injector: Injector
    private var counting = false
    /// Events expected so far, per kind.
    private var countedEvents: [String: Int] = [:]
    private var consumer: RasdaemonConsumer.Armed?
    private var exporter: NodeExporterConsumer.Armed?
    /// Records the kernel had not consumed when the next was due (GHES status blocks).
    private var notConsumed = 0

    init(runner: CampaignRunner, step: Scenario.Step, scenario: Scenario, files: any TargetFiles) {
        self.runner = runner
        self.step = step
        self.scenario = scenario
        counter = Verifier(
            target: runner.session.options.target, files: files, processID: getpid(), purpose: "campaign")
        injector = runner.injector(verifyingEach: step.verify == "each")
    }

    /// Runs the step; `generator` draws its requests.
    mutating func run(
        _ result: inout CampaignRunner.StepResult, generator: inout SeededGenerator, stepIndex: Int,
        progress: (CampaignRunner.Progress) -> Void, interrupted: () -> Bool
    ) async {
        let started = HostClock.monotonicNanoseconds()
        func elapsed() -> Double { Double(HostClock.monotonicNanoseconds() - started) / 1e9 }
        var pacer = step.rate.flatMap { Pacer(rate: $0) }
        for index in 0..<step.count {
            if let duration = step.duration, elapsed() >= duration {
                result.stopped = .durationReached(duration)
                break
            }
            pacer?.wait(for: index, interrupted: interrupted)
            if interrupted() {
                result.stopped = .interrupted
                break
            }
            guard await inject(step.request(using: &generator), index: index, &result, elapsed: elapsed()) else {
                break
            }
            progress(
                CampaignRunner.Progress(
                    step: stepIndex + 1, steps: scenario.steps.count, name: step.name, done: index + 1,
                    total: step.count, elapsed: elapsed()))
            if let stop = stopLine() {
                result.stopped = stop
                break
            }
            if interrupted() {
                result.stopped = .interrupted
                break
            }
        }
        await finish(&result)
        result.seconds = elapsed()
    }

    /// Prepares, counts and performs one injection.
    ///
    /// - Returns: `false` when the step stops on its failure.
    private mutating func inject(
        _ request: InjectionRequest, index: Int, _ result: inout CampaignRunner.StepResult,
        elapsed: Double
    ) async -> Bool {
        result.lastRequest = request.words
        // The events counted for this injection, should the kernel not take its record.
        var plannedEvents: Int?
        do throws(InjectError) {
            // expect=sigbus: a victim holds the page the request is given.
            let prepared = try await injector.prepare(request)
            if index == 0 { await arm(for: prepared.plan, &result) }
            if step.verify == "count" {
                let traced = prepared.plan.expectations.filter { $0.kind == .traceEvent }
                for event in traced { countedEvents[event.source ?? "", default: 0] += 1 }
                plannedEvents = traced.count
            }
            account(try await injector.perform(prepared), &result)
        } catch .stepFailed(_, _, _, _, .recordNotConsumed(let address, let milliseconds)) {
            // The kernel did not take the previous record: its loss, not the injection's.
            notConsumed += 1
            result.kernelDropped = (result.kernelDropped ?? 0) + (plannedEvents ?? 0)
            result.dropReason =
                "the OS had not consumed the previous record at \(hexNumber(address)) within \(milliseconds) ms, so \(notConsumed) record(s) were not written"
            result.dropRate = Double(index + 1) / max(elapsed, 0.001)
        } catch {
            result.failed += 1
            result.firstError = result.firstError ?? error.description
            if scenario.stopOnFailure {
                result.stopped = .failure
                return false
            }
        }
        return true
    }

    /// Arms the counters by the first plan: its trace events (with `verify: count`), the console
    /// (for a stop text), and the consumer.
    private mutating func arm(for plan: InjectionPlan, _ result: inout CampaignRunner.StepResult) async {
        guard step.verify == "count" || scenario.stopOnKernelLog != nil else { return }
        var events = Set(
            step.verify == "count" ? plan.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source) : [])
        if scenario.stopOnKernelLog != nil && counter.canTraceKernelLog { events.insert("printk:console") }
        if !events.isEmpty {
            do throws(TargetError) {
                try counter.makeInstance(events: events)
                counting = true
            } catch {
                result.firstError = result.firstError ?? "cannot count events: \(error)"
            }
        }
        if step.verify == "count" {
            consumer = await RasdaemonConsumer.arm(plan, target: runner.session.options.target)
            exporter = await NodeExporterConsumer.arm(plan, target: runner.session.options.target, files: counter.files)
        }
    }

    /// Adds an injection's verified events (with `verify: each`) to the step's.
    private func account(_ outcome: Injector.Outcome, _ result: inout CampaignRunner.StepResult) {
        result.injected += 1
        guard let findings = outcome.findings else { return }
        result.lastPolicies = outcome.policies
        let kernel = findings.filter { $0.kind != .consumer }
        let recorded = findings.filter { $0.kind == .consumer && $0.consumer != NodeExporterConsumer.name }
        let counted = findings.filter { $0.kind == .consumer && $0.consumer == NodeExporterConsumer.name }
        result.expectedEvents += kernel.count
        result.seenEvents += kernel.filter(\.matched).count
        if !recorded.isEmpty {
            result.consumerExpected = (result.consumerExpected ?? 0) + recorded.count
            result.consumerSeen = (result.consumerSeen ?? 0) + recorded.filter(\.matched).count
        }
        if !counted.isEmpty {
            result.exporterExpected = (result.exporterExpected ?? 0) + counted.count
            result.exporterSeen = (result.exporterSeen ?? 0) + counted.filter(\.matched).count
        }
        result.lastFindings = findings
    }

    /// The scenario's stop text, when the kernel has logged it.
    private func stopLine() -> CampaignRunner.StopReason? {
        guard let text = scenario.stopOnKernelLog, counting,
            let line = counter.traceLines().first(where: { $0.contains(" console: ") && $0.contains(text) })
        else { return nil }
        return .kernelLog(text: text, line: String(line.split(separator: "console: ").last ?? ""))
    }

    /// The step's final count (with `verify: count`): the kernel's deferred work (the MCE pool,
    /// the GHES poller) given time to drain, then the consumer's rows of what the kernel emitted.
    private func finish(_ result: inout CampaignRunner.StepResult) async {
        guard counting else { return }
        defer { counter.removeInstance() }
        guard step.verify == "count" else { return }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(runner.verifyTimeout * 1e9)
        var kernelSeen: [String: Int] = [:]
        repeat {
            let lines = counter.traceLines()
            kernelSeen = countedEvents.reduce(into: [:]) { seen, entry in
                seen[entry.key] = min(entry.value, CampaignRunner.count(entry.key, in: lines))
            }
            result.expectedEvents = countedEvents.values.reduce(0, +)
            result.seenEvents = kernelSeen.values.reduce(0, +)
            if result.seenEvents + (result.kernelDropped ?? 0) >= result.expectedEvents { break }
            usleep(200_000)
        } while HostClock.monotonicNanoseconds() < deadline
        // What the kernel emitted, rasdaemon should have recorded: one row per event.
        if let consumer { await runner.awaitConsumer(consumer, kernelSeen: kernelSeen, &result) }
        if let exporter { await runner.awaitExporter(exporter, files: counter.files, &result) }
    }
}
