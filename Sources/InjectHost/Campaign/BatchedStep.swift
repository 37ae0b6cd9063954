import Dispatch

/// A campaign step carried out in batches where the target's kernel is: when every injection of
/// the step is made of attribute writes and the step counts its events (or does not verify), up
/// to ``CampaignRunner/batchLimit`` injections are planned and validated on the host, their intents
/// journaled (one write, one flush), handed to the target in one ``WriteBatch`` (a lab's agent runs
/// it inside the guest, files held open), and their outcomes journaled after it. The step's events
/// are counted in a tracefs instance whose buffer holds the whole step; what the kernel itself
/// lost (its MCE record pool full, the instance's buffer overrun) is reported as the kernel's, with
/// the injection rate at which it happened, not counted against the injection or the consumer.
/// With `"rate": "max"` the step paces itself to what the kernel consumes: it starts at 500 per
/// second, waits after each batch until the kernel has recorded it, runs 25% faster after a clean
/// batch and at 80% of a rate that lost records.
///
/// Confirmation and the journal's records are the ``Injector``'s; the stages here are planning a
/// batch, arming the counters, injecting it, accounting for it, judging the kernel's losses
/// (pacing by them), and the step's final count.
struct BatchedStep {
    let runner: CampaignRunner
    let step: Scenario.Step
    let scenario: Scenario
    /// The injector of the step's batches: confirmation and the journal's records (a batched step
    /// counts its events for itself, so no injection is verified on its own).
    private var injector: Injector { runner.injector(verifyingEach: false) }

    /// Whether the step can run in batches, judged by its first injection's plan.
    static func applies(_ step: Scenario.Step, _ scenario: Scenario, firstPlan: InjectionPlan, confirmed: Bool) -> Bool
    {
        step.verify != "each" && step.expect == nil && scenario.stopOnKernelLog == nil && firstPlan.outcome == nil
            && (firstPlan.confirmationReasons.isEmpty || confirmed) && WriteBatch.accepts(firstPlan)
    }

    /// A batch's injections, planned and validated before any of them runs.
    struct PlannedBatch {
        var plans: [InjectionPlan] = []
        var words: [[String]] = []
        /// The planning failure that ended the batch early, if one did.
        var error: InjectError?
    }

    /// What the step knows between batches: its pacing, its counters and what they counted.
    struct Counting {
        /// Counts the step's trace events (with `verify: count`).
        var counter: Verifier?
        /// Watches the console for the kernel's messages of loss.
        var losses: Verifier?
        var counting = false
        var watchingLosses = false
        /// Events expected so far, per kind.
        var expected: [String: Int] = [:]
        var consumer: RasdaemonConsumer.Armed?
        var exporter: NodeExporterConsumer.Armed?
        /// The highest batch rate at which the kernel lost events.
        var dropRate: Double?
        /// The kernel's loss messages seen so far.
        var lossMessages = 0
        /// What the step's backends say the kernel prints when it drops their records.
        var lossMarkers: [KernelLossMarker] = []
        /// Events the kernel has not recorded so far (a paced step's losses), so that a batch is
        /// judged by its own.
        var shortfall = 0
        var interval: UInt64
        var batchSize: Int
        var done = 0

        var expectedTotal: Int { expected.values.reduce(0, +) }
    }

    /// Runs the step; `generator` draws the requests exactly as the per-injection path would.
    func run(
        _ result: inout CampaignRunner.StepResult, generator: inout SeededGenerator, stepIndex: Int,
        progress: (CampaignRunner.Progress) -> Void, interrupted: () -> Bool
    ) async {
        let files: any TargetFiles
        do throws(InjectError) { files = try runner.session.targetFiles() } catch {
            result.failed = step.count
            result.firstError = error.description
            return
        }
        let started = HostClock.monotonicNanoseconds()
        func elapsed() -> Double { Double(HostClock.monotonicNanoseconds() - started) / 1e9 }
        var state = startingState(files)
        result.batches = 0
        var planned: PlannedBatch?
        while state.done < step.count {
            if let duration = step.duration, elapsed() >= duration {
                result.stopped = .durationReached(duration)
                break
            }
            var batch = planned ?? plan(min(state.batchSize, step.count - state.done), &generator, &result)
            planned = nil
            if !state.counting, let first = batch.plans.first { await arm(&state, for: first, &result) }
            // Every injection of the batch is confirmed, not only the first (a step may draw an
            // uncorrected severity later); one that needs --yes keeps the whole batch from running.
            do throws(InjectError) {
                for plan in batch.plans { try injector.confirm(plan) }
            } catch {
                batch.error = error
                batch.plans.removeAll()
            }
            if !batch.plans.isEmpty {
                guard inject(batch, &state, files, &generator, &result, next: &planned) else { break }
            }
            if let error = batch.error {
                result.failed += 1
                result.firstError = result.firstError ?? error.description
                state.done += 1
                if scenario.stopOnFailure { result.stopped = .failure }
            }
            progress(
                CampaignRunner.Progress(
                    step: stepIndex + 1, steps: scenario.steps.count, name: step.name,
                    done: state.done, total: step.count, elapsed: elapsed()))
            if result.stopped != nil { break }
            if interrupted() {
                result.stopped = .interrupted
                break
            }
        }
        await finish(&state, &result, elapsed: elapsed())
        result.seconds = elapsed()
    }

    /// The counters and pacing the step starts with: a paced step at 500 per second and 128 per
    /// batch (one that does not count its events has nothing to pace by, and runs as fast as it goes).
    private func startingState(_ files: any TargetFiles) -> Counting {
        let target = runner.session.options.target
        let paced = step.pacedToKernel
        let counter =
            step.verify == "count"
            ? Verifier(target: target, files: files, processID: getpid(), purpose: "campaign") : nil
        let losses =
            counter?.canTraceKernelLog == true
            ? Verifier(target: target, files: files, processID: getpid(), purpose: "campaign-losses") : nil
        return Counting(
            counter: counter, losses: losses,
            interval: step.rate.map { UInt64(1e6 / $0) } ?? (paced && step.verify == "count" ? 2_000 : 0),
            batchSize: paced
                ? 128 : step.rate.map { max(1, min(CampaignRunner.batchLimit, Int($0))) } ?? CampaignRunner.batchLimit)
    }

    /// Plans `size` injections, stopping at the first that cannot be planned or batched.
    private func plan(_ size: Int, _ generator: inout SeededGenerator, _ result: inout CampaignRunner.StepResult)
        -> PlannedBatch
    {
        var batch = PlannedBatch()
        for _ in 0..<size {
            let request = step.request(using: &generator)
            do throws(InjectError) {
                let plan = try runner.session.plan(request)
                guard WriteBatch.accepts(plan) else {
                    throw .invalidRequest(
                        backend: step.backend,
                        message:
                            "an injection of this step is not made of attribute writes alone, so the step cannot run in batches"
                    )
                }
                batch.plans.append(plan)
                batch.words.append(request.words)
            } catch {
                result.lastRequest = request.words
                batch.error = error
                break
            }
        }
        return batch
    }

    /// Arms the step's counters by its first plan: a tracefs instance whose ring buffer holds every
    /// event of the step (about 256 bytes each at most), the consumer, and the watch for losses.
    private func arm(_ state: inout Counting, for first: InjectionPlan, _ result: inout CampaignRunner.StepResult) async
    {
        guard let counter = state.counter else { return }
        let traced = first.expectations.filter { $0.kind == .traceEvent }
        let events = Set(traced.compactMap(\.source))
        if !events.isEmpty {
            let kilobytes = min(262_144, max(1_408, step.count * traced.count / 4 + 512))
            do throws(TargetError) {
                try counter.makeInstance(events: events, bufferKilobytes: kilobytes)
                state.counting = true
            } catch {
                result.firstError = result.firstError ?? "cannot count events: \(error)"
            }
            state.consumer = await RasdaemonConsumer.arm(first, target: runner.session.options.target)
        }
        state.exporter = await NodeExporterConsumer.arm(
            first, target: runner.session.options.target, files: counter.files)
        state.lossMarkers = first.lossMarkers
        if let losses = state.losses, !first.lossMarkers.isEmpty {
            let filter = first.lossMarkers.map { "msg ~ \"\($0.match)\"" }.joined(separator: " || ")
            do throws(TargetError) {
                try losses.makeInstance(events: ["printk:console"], filters: ["printk:console": filter])
                state.watchingLosses = true
            } catch {}
        }
    }

    /// Injects one batch: intents journaled, the batch run by the target while the next one is
    /// planned, outcomes journaled, the results counted, the kernel's losses judged.
    ///
    /// - Returns: `false` when the intents could not be journaled (the step stops).
    private func inject(
        _ batch: PlannedBatch, _ state: inout Counting, _ files: any TargetFiles, _ generator: inout SeededGenerator,
        _ result: inout CampaignRunner.StepResult, next planned: inout PlannedBatch?
    ) -> Bool {
        let intents: [JournalRecord]
        do throws(InjectError) { intents = try injector.journalIntents(batch.plans) } catch {
            result.failed += batch.plans.count
            result.firstError = result.firstError ?? error.description
            result.stopped = .failure
            return false
        }
        let expectedBefore = state.expectedTotal
        let lossesBefore = state.lossMessages
        let inFlight = BatchInFlight(WriteBatch(batch.plans, intervalMicroseconds: state.interval)!, on: files)
        // While the target runs it, the next batch is planned (a paced step first waits for the
        // kernel's record of this one, so it plans afterwards).
        let remaining = step.count - state.done - batch.plans.count
        if !step.pacedToKernel && batch.error == nil && remaining > 0 {
            planned = plan(min(state.batchSize, remaining), &generator, &result)
        }
        let outcome = inFlight.wait()
        result.batches = (result.batches ?? 0) + 1
        let records = intents.indices.map { number in
            number < outcome.completed
                ? intents[number].outcome(.ok)
                : intents[number].outcome(
                    .failed,
                    error: number == outcome.completed
                        ? outcome.failure : "not run: an earlier injection of its batch failed")
        }
        for plan in batch.plans.prefix(outcome.completed) {
            for event in plan.expectations where event.kind == .traceEvent {
                state.expected[event.source ?? "", default: 0] += 1
            }
        }
        do throws(InjectError) { try injector.journalOutcomes(records) } catch {
            result.firstError = result.firstError ?? error.description
        }
        if let last = batch.words.prefix(max(outcome.completed, 1)).last { result.lastRequest = last }
        result.injected += outcome.completed
        result.failed += batch.plans.count - outcome.completed
        state.done += batch.plans.count
        if let failure = outcome.failure {
            result.firstError = result.firstError ?? failure
            if scenario.stopOnFailure { result.stopped = .failure }
        }
        judgeLosses(&state, outcome, expectedBefore: expectedBefore, lossesBefore: lossesBefore)
        return true
    }

    /// The kernel's losses in a batch: its loss messages (rate-limited: ten in five seconds), and
    /// with rate=max also events the kernel did not record once it settled. A paced step then runs
    /// at 80% of the rate that lost, and faster after a clean batch.
    private func judgeLosses(
        _ state: inout Counting, _ outcome: WriteBatch.Outcome, expectedBefore: Int, lossesBefore: Int
    ) {
        guard state.counting, let counter = state.counter, step.pacedToKernel || state.watchingLosses else { return }
        let paced = step.pacedToKernel
        let expected = state.expectedTotal
        var seen = recorded(counter, state.expected)
        if paced { seen = awaitRecords(counter, state.expected, upTo: expected - state.shortfall, from: seen) }
        state.lossMessages = state.watchingLosses ? state.losses!.traceLines().count : 0
        let lostInBatch = paced && expected - seen > state.shortfall && expected > expectedBefore
        state.shortfall = max(state.shortfall, expected - seen)
        let lost = state.lossMessages > lossesBefore || lostInBatch
        let batchRate = outcome.nanoseconds > 0 ? Double(outcome.completed) / (Double(outcome.nanoseconds) / 1e9) : nil
        if lost { state.dropRate = max(state.dropRate ?? 0, batchRate ?? 0) }
        guard paced, let batchRate, batchRate > 0 else { return }
        if lost {
            state.interval = max(state.interval * 2, UInt64(1e6 / (batchRate * 0.8)))
        } else {
            state.interval = state.interval * 4 / 5
            state.batchSize = min(CampaignRunner.batchLimit, state.batchSize * 2)
        }
    }

    /// Waits until the kernel has recorded `target` events, at most 2 s and while its count moves
    /// at least every 200 ms; the count it reached.
    private func awaitRecords(_ counter: Verifier, _ expected: [String: Int], upTo target: Int, from seen: Int) -> Int {
        var seen = seen
        let deadline = HostClock.monotonicNanoseconds() + 2_000_000_000
        var lastMove = HostClock.monotonicNanoseconds()
        while seen < target && HostClock.monotonicNanoseconds() < deadline
            && HostClock.monotonicNanoseconds() - lastMove < 200_000_000
        {
            usleep(10_000)
            let now = recorded(counter, expected)
            if now != seen { lastMove = HostClock.monotonicNanoseconds() }
            seen = now
        }
        return seen
    }

    /// The step's final count: the kernel's deferred work (the MCE pool, the GHES poller) given
    /// time to drain, its losses reported as its own, the consumer awaited, the counters removed.
    private func finish(_ state: inout Counting, _ result: inout CampaignRunner.StepResult, elapsed: Double) async {
        defer { state.losses?.removeInstance() }
        guard state.counting, let counter = state.counter else { return }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(runner.verifyTimeout * 1e9)
        result.expectedEvents = state.expectedTotal
        // Where the kernel said it lost events, waiting ends once its count stops moving for a second.
        var lastMove = HostClock.monotonicNanoseconds()
        repeat {
            let seen = recorded(counter, state.expected)
            if seen != result.seenEvents { lastMove = HostClock.monotonicNanoseconds() }
            result.seenEvents = seen
            if result.seenEvents >= result.expectedEvents { break }
            if state.lossMessages > 0 && HostClock.monotonicNanoseconds() - lastMove > 1_000_000_000 { break }
            usleep(200_000)
        } while HostClock.monotonicNanoseconds() < deadline
        let overrun = counter.bufferStatistics().map { $0.overrun + $0.dropped } ?? 0
        if state.watchingLosses { state.lossMessages = state.losses!.traceLines().count }
        if result.seenEvents < result.expectedEvents && (overrun > 0 || state.lossMessages > 0) {
            result.kernelDropped = result.expectedEvents - result.seenEvents
            let said = state.lossMarkers.map(\.reason).joined(separator: " or ")
            let reasons = [
                state.lossMessages > 0 ? "\(said) (\(state.lossMessages) kernel message(s))" : nil,
                overrun > 0 ? "the trace buffer overran (\(overrun) event(s) overwritten)" : nil,
            ]
            result.dropReason = reasons.compactMap { $0 }.joined(separator: "; ")
            result.dropRate = state.dropRate ?? (elapsed > 0 ? Double(result.injected) / elapsed : nil)
        }
        if let consumer = state.consumer {
            await runner.awaitConsumer(consumer, kernelSeen: recordedByKind(counter, state.expected), &result)
        }
        if let exporter = state.exporter { await runner.awaitExporter(exporter, files: counter.files, &result) }
        counter.removeInstance()
    }

    /// Events of the counted kinds the kernel has recorded: the instance's entry count when it
    /// traces one kind of event (cheap, whatever the number), else its lines counted per kind.
    private func recorded(_ counter: Verifier, _ counted: [String: Int]) -> Int {
        recordedByKind(counter, counted).values.reduce(0, +)
    }

    /// The same, per kind (`system:event` to its count).
    private func recordedByKind(_ counter: Verifier, _ counted: [String: Int]) -> [String: Int] {
        if counted.count == 1, let (event, expected) = counted.first, let statistics = counter.bufferStatistics() {
            return [event: min(expected, statistics.entries)]
        }
        let lines = counter.traceLines()
        return counted.reduce(into: [:]) { seen, entry in
            seen[entry.key] = min(entry.value, CampaignRunner.count(entry.key, in: lines))
        }
    }
}

/// A batch the target is carrying out on another thread, so that the host plans the next one
/// meanwhile (the target's files are used by that thread alone until ``wait()`` returns).
private final class BatchInFlight: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome = WriteBatch.Outcome(completed: 0)

    init(_ batch: WriteBatch, on files: any TargetFiles) {
        nonisolated(unsafe) let files = files
        DispatchQueue.global().async {
            do throws(TargetError) { self.outcome = try files.perform(batch) } catch {
                self.outcome = WriteBatch.Outcome(completed: 0, failure: error.description)
            }
            self.done.signal()
        }
    }

    /// The batch's outcome, once it has run.
    func wait() -> WriteBatch.Outcome {
        done.wait()
        return outcome
    }
}
