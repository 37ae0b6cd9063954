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
struct BatchedStep {
    let runner: CampaignRunner
    let step: Scenario.Step
    let scenario: Scenario

    /// Whether the step can run in batches, judged by its first injection's plan.
    static func applies(_ step: Scenario.Step, _ scenario: Scenario, firstPlan: InjectionPlan, confirmed: Bool) -> Bool {
        step.verify != "each" && step.expect == nil && scenario.stopOnKernelLog == nil && firstPlan.outcome == nil
            && (firstPlan.confirmationReasons.isEmpty || confirmed) && WriteBatch.accepts(firstPlan)
    }

    /// Runs the step; `generator` draws the requests exactly as the per-injection path would.
    func run(_ result: inout CampaignRunner.StepResult, generator: inout SeededGenerator, stepIndex: Int,
             progress: (CampaignRunner.Progress) -> Void, interrupted: () -> Bool) async {
        let session = runner.session
        let target = session.options.target
        let files: any TargetFiles
        do throws(InjectError) { files = try session.targetFiles() } catch {
            result.failed = step.count
            result.firstError = error.description
            return
        }
        let started = HostClock.monotonicNanoseconds()
        func elapsed() -> Double { Double(HostClock.monotonicNanoseconds() - started) / 1e9 }
        let paced = step.pacedToKernel
        var batchSize = paced ? 128 : step.rate.map { max(1, min(CampaignRunner.batchLimit, Int($0))) } ?? CampaignRunner.batchLimit
        // A paced step starts at 500 per second and speeds up from there (one that does not count
        // its events has nothing to pace by, and runs as fast as it goes).
        var interval = step.rate.map { UInt64(1e6 / $0) } ?? (paced && step.verify == "count" ? 2_000 : 0)
        let counter = step.verify == "count" ? Verifier(target: target, files: files, processID: getpid(), purpose: "campaign") : nil
        let losses = counter != nil && counter!.canTraceKernelLog
            ? Verifier(target: target, files: files, processID: getpid(), purpose: "campaign-losses") : nil
        var counting = false, watchingLosses = false
        var countedEvents: [String: Int] = [:]
        var consumer: RasdaemonConsumer.Armed?
        var dropRate: Double?
        var poolFull = 0
        // Events the kernel has not recorded so far (a paced step's losses), so that a batch is
        // judged by its own.
        var shortfall = 0
        result.batches = 0
        var done = 0
        // Plans and validates a batch's injections before any of them runs.
        func planBatch(_ size: Int) -> (plans: [InjectionPlan], words: [[String]], error: InjectError?) {
            var plans: [InjectionPlan] = []
            var words: [[String]] = []
            for _ in 0..<size {
                let request = step.request(using: &generator)
                do throws(InjectError) {
                    let plan = try session.plan(request)
                    guard WriteBatch.accepts(plan) else {
                        throw .invalidRequest(backend: step.backend, message: "an injection of this step is not made of attribute writes alone, so the step cannot run in batches")
                    }
                    plans.append(plan)
                    words.append(request.words)
                } catch {
                    result.lastRequest = request.words
                    return (plans, words, error)
                }
            }
            return (plans, words, nil)
        }
        var planned: (plans: [InjectionPlan], words: [[String]], error: InjectError?)?
        while done < step.count {
            if let duration = step.duration, elapsed() >= duration { result.stopped = .durationReached(duration); break }
            let next = planned ?? planBatch(min(batchSize, step.count - done))
            var plans = next.plans, planningError = next.error
            let words = next.words
            planned = nil
            if !counting, let counter, let first = plans.first {
                let events = Set(first.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source))
                if !events.isEmpty {
                    // The ring buffer holds every event of the step (about 256 bytes each at most).
                    let perInjection = first.expectations.filter { $0.kind == .traceEvent }.count
                    let kilobytes = min(262_144, max(1_408, step.count * perInjection / 4 + 512))
                    do throws(TargetError) { try counter.makeInstance(events: events, bufferKilobytes: kilobytes); counting = true } catch {
                        result.firstError = result.firstError ?? "cannot count events: \(error)"
                    }
                    consumer = await RasdaemonConsumer.arm(first, target: target)
                }
                if let losses {
                    do throws(TargetError) {
                        try losses.makeInstance(events: ["printk:console"], filters: ["printk:console": "msg ~ \"*pool full*\""])
                        watchingLosses = true
                    } catch {}
                }
            }
            if !runner.confirmed, let reasons = plans.first(where: { !$0.confirmationReasons.isEmpty })?.confirmationReasons {
                planningError = .confirmationRequired(backend: step.backend, reasons: reasons)
                plans.removeAll()
            }
            if !plans.isEmpty {
                let batch = WriteBatch(plans, intervalMicroseconds: interval)!
                var records = plans.map { InjectionRun.intent($0, target: target) }
                if let journal = runner.journal, let problem = journal.append(contentsOf: records) {
                    result.failed += plans.count
                    result.firstError = result.firstError ?? InjectError.journal(.intent(path: journal.path, reason: problem)).description
                    result.stopped = .failure
                    break
                }
                let expectedBefore = countedEvents.values.reduce(0, +)
                let poolFullBefore = poolFull
                let running = BatchRun(batch, on: files)
                // While the target runs it, the next batch is planned (a paced step first waits
                // for the kernel's record of this one, so it plans afterwards).
                let remaining = step.count - done - plans.count
                if !paced && planningError == nil && remaining > 0 { planned = planBatch(min(batchSize, remaining)) }
                let outcome = running.wait()
                result.batches = (result.batches ?? 0) + 1
                for (number, plan) in plans.enumerated() {
                    records[number].kind = "outcome"
                    records[number].steps = nil
                    records[number].time = Journal.now()
                    if number < outcome.completed {
                        records[number].outcome = "ok"
                        for event in plan.expectations where event.kind == .traceEvent { countedEvents[event.source ?? "", default: 0] += 1 }
                    } else {
                        records[number].outcome = "failed"
                        records[number].error = number == outcome.completed ? outcome.failure : "not run: an earlier injection of its batch failed"
                    }
                }
                if let journal = runner.journal, let problem = journal.append(contentsOf: records) {
                    result.firstError = result.firstError ?? InjectError.journal(.outcome(path: journal.path, reason: problem, outcome: "ok")).description
                }
                if let last = words.prefix(max(outcome.completed, 1)).last { result.lastRequest = last }
                result.injected += outcome.completed
                result.failed += plans.count - outcome.completed
                done += plans.count
                let batchRate = outcome.nanoseconds > 0 ? Double(outcome.completed) / (Double(outcome.nanoseconds) / 1e9) : nil
                if let failure = outcome.failure {
                    result.firstError = result.firstError ?? failure
                    if scenario.stopOnFailure { result.stopped = .failure }
                }
                // Losses: the kernel's pool-full messages (rate-limited: ten in five seconds); with
                // rate=max also a batch whose events the kernel did not record once it settled.
                // A paced step then runs at 80% of the rate that lost, and 10% faster after a
                // clean batch.
                if counting, let counter, paced || watchingLosses {
                    let expected = countedEvents.values.reduce(0, +)
                    var seen = recorded(counter, countedEvents)
                    if paced {
                        // Until the kernel has recorded this batch's events, less what was already lost.
                        let deadline = HostClock.monotonicNanoseconds() + 2_000_000_000
                        var lastMove = HostClock.monotonicNanoseconds()
                        while seen < expected - shortfall && HostClock.monotonicNanoseconds() < deadline
                                && HostClock.monotonicNanoseconds() - lastMove < 200_000_000 {
                            usleep(10_000)
                            let now = recorded(counter, countedEvents)
                            if now != seen { lastMove = HostClock.monotonicNanoseconds() }
                            seen = now
                        }
                    }
                    poolFull = watchingLosses ? losses!.traceLines().count : 0
                    let lostInBatch = paced && expected - seen > shortfall && expected > expectedBefore
                    shortfall = max(shortfall, expected - seen)
                    let lost = poolFull > poolFullBefore || lostInBatch
                    if lost { dropRate = max(dropRate ?? 0, batchRate ?? 0) }
                    if paced, let batchRate, batchRate > 0 {
                        if lost {
                            interval = max(interval * 2, UInt64(1e6 / (batchRate * 0.8)))
                        } else {
                            interval = interval * 4 / 5
                            batchSize = min(CampaignRunner.batchLimit, batchSize * 2)
                        }
                    }
                }
            }
            if let planningError {
                result.failed += 1
                result.firstError = result.firstError ?? planningError.description
                done += 1
                if scenario.stopOnFailure { result.stopped = .failure }
            }
            progress(CampaignRunner.Progress(step: stepIndex + 1, steps: scenario.steps.count, name: step.name, done: done, total: step.count, elapsed: elapsed()))
            if result.stopped != nil { break }
            if interrupted() { result.stopped = .interrupted; break }
        }
        if counting, let counter {
            // Give the kernel's deferred work (the MCE pool, the GHES poller) time to drain.
            let deadline = HostClock.monotonicNanoseconds() + UInt64(runner.verifyTimeout * 1e9)
            result.expectedEvents = countedEvents.values.reduce(0, +)
            // Where the kernel said it lost events, waiting ends once its count stops moving for a second.
            var lastMove = HostClock.monotonicNanoseconds()
            repeat {
                let seen = recorded(counter, countedEvents)
                if seen != result.seenEvents { lastMove = HostClock.monotonicNanoseconds() }
                result.seenEvents = seen
                if result.seenEvents >= result.expectedEvents { break }
                if poolFull > 0 && HostClock.monotonicNanoseconds() - lastMove > 1_000_000_000 { break }
                usleep(200_000)
            } while HostClock.monotonicNanoseconds() < deadline
            let overrun = counter.bufferStatistics().map { $0.overrun + $0.dropped } ?? 0
            if watchingLosses { poolFull = losses!.traceLines().count }
            if result.seenEvents < result.expectedEvents && (overrun > 0 || poolFull > 0) {
                result.kernelDropped = result.expectedEvents - result.seenEvents
                result.dropReason = [poolFull > 0 ? "the MCE record pool was full (\(poolFull) kernel message(s))" : nil,
                                     overrun > 0 ? "the trace buffer overran (\(overrun) event(s) overwritten)" : nil].compactMap { $0 }.joined(separator: "; ")
                result.dropRate = dropRate ?? (elapsed() > 0 ? Double(result.injected) / elapsed() : nil)
            }
            if let consumer { await runner.awaitConsumer(consumer, kernelSeen: recordedByKind(counter, countedEvents), &result) }
            counter.removeInstance()
        }
        losses?.removeInstance()
        result.seconds = elapsed()
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
        return counted.reduce(into: [:]) { seen, entry in seen[entry.key] = min(entry.value, CampaignRunner.count(entry.key, in: lines)) }
    }

}

/// A batch running on another thread, so that the host plans the next one meanwhile (the
/// target's files are used by that thread alone until ``wait()`` returns).
private final class BatchRun: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome = WriteBatch.Outcome(completed: 0)

    init(_ batch: WriteBatch, on files: any TargetFiles) {
        nonisolated(unsafe) let files = files
        DispatchQueue.global().async {
            do throws(TargetError) { self.outcome = try files.run(batch) } catch {
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
