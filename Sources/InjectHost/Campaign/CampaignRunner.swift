/// Runs a ``Scenario`` on a session's target: every injection validated, planned, journaled and
/// executed through an ``Injector``,
/// at the step's rate and within its duration, verified by counting the kernel's trace events for
/// the whole step (or awaiting each injection's), until done, a stop condition, or an
/// interruption after the current injection.
public struct CampaignRunner {
    let session: InjectSession
    let journal: Journal?
    let confirmed: Bool
    let verifyTimeout: Double
    /// The injector of a step: verifying each injection, or not (a counted step counts for itself).
    func injector(verifyingEach: Bool) -> Injector {
        Injector(
            session: session, journal: journal, confirmed: confirmed, verify: verifyingEach,
            verifyTimeout: verifyTimeout)
    }

    /// The most injections a batch holds (``BatchedStep``).
    static let batchLimit = 1000

    /// Creates a runner.
    public init(session: InjectSession, journal: Journal?, confirmed: Bool, verifyTimeout: Double) {
        self.session = session
        self.journal = journal
        self.confirmed = confirmed
        self.verifyTimeout = verifyTimeout
    }

    /// Why a step ended before its count.
    public enum StopReason: Sendable, Equatable, Encodable, CustomStringConvertible {
        /// The step's duration passed (the step still counts as passed).
        case durationReached(Double)
        /// An injection failed and the scenario stops on failure.
        case failure
        /// The kernel logged the scenario's stop text.
        case kernelLog(text: String, line: String)
        /// The user asked to stop (Ctrl-C).
        case interrupted

        public var description: String {
            switch self {
            case .durationReached(let seconds): return "duration \(seconds) s reached"
            case .failure: return "stopped on failure"
            case .kernelLog(let text, let line): return "stop condition: the kernel logged '\(text)' (\(line))"
            case .interrupted: return "interrupted"
            }
        }

        /// Whether the campaign goes on with its next step.
        public var continuesCampaign: Bool { if case .durationReached = self { true } else { false } }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// What one step did.
    public struct StepResult: Sendable, Encodable {
        public var name: String
        public var backend: String
        /// The step's title, when the scenario gives one.
        public var title: String?
        /// The last request injected, as `name=value` words.
        public var lastRequest: [String]
        public var planned: Int
        public var injected: Int
        public var failed: Int
        /// Expected and seen kernel events (trace events counted for the step, or per injection).
        public var expectedEvents: Int
        public var seenEvents: Int
        /// Where rasdaemon runs: the kernel events of this step it should have recorded (those the
        /// kernel was seen to emit), and the rows it did record; `nil` without a consumer.
        public var consumerExpected: Int?
        public var consumerSeen: Int?
        /// With `verify: each`: every expectation of the last injection, matched or not.
        public var lastFindings: [Verifier.Finding]
        public var seconds: Double
        /// Why the step ended early.
        public var stopped: StopReason?
        public var firstError: String?
        /// Batches the step ran in, when it ran in batches where the kernel is (``BatchedStep``).
        public var batches: Int?
        /// Events the kernel itself lost (its MCE record pool full, the trace buffer overrun),
        /// not counted against the injection or the consumer; `nil` when it lost none.
        public var kernelDropped: Int?
        /// What the kernel said about the loss.
        public var dropReason: String?
        /// Injections per second when the kernel lost events.
        public var dropRate: Double?

        /// Whether the step counts as passed: the kernel's own losses are reported, not failed.
        public var passed: Bool {
            failed == 0 && seenEvents + (kernelDropped ?? 0) >= expectedEvents
                && (consumerSeen ?? 0) >= (consumerExpected ?? 0)
                && (stopped?.continuesCampaign ?? true)
        }
    }

    /// A progress report after each injection.
    public struct Progress: Sendable {
        public var step: Int
        public var steps: Int
        public var name: String
        public var done: Int
        public var total: Int
        public var elapsed: Double
    }

    /// Checks every value each step can draw before anything is injected.
    ///
    /// - Throws: the first request that cannot be planned.
    public func validate(_ scenario: Scenario) throws(InjectError) {
        for step in scenario.steps {
            for request in step.extremeRequests { _ = try session.plan(request) }
        }
    }

    /// Runs the campaign; `interrupted` is asked after each injection.
    public func run(_ scenario: Scenario, progress: (Progress) -> Void, interrupted: () -> Bool) async -> [StepResult] {
        var results: [StepResult] = []
        for (stepIndex, step) in scenario.steps.enumerated() {
            var generator = SeededGenerator(seed: scenario.seed &+ UInt64(stepIndex) &* 0x9E37_79B9)
            var result = StepResult(
                name: step.name, backend: step.backend, title: step.title, lastRequest: [], planned: step.count,
                injected: 0, failed: 0, expectedEvents: 0, seenEvents: 0, lastFindings: [], seconds: 0)
            let counter: Verifier?
            do throws(InjectError) {
                counter = Verifier(
                    target: session.options.target, files: try session.targetFiles(), processID: getpid(),
                    purpose: "campaign")
            } catch {
                result.failed = step.count
                result.firstError = error.description
                results.append(result)
                break
            }
            // Attribute writes only, counted or not verified: the step runs in batches where the kernel is.
            var probe = generator
            if let first = try? session.plan(step.request(using: &probe)),
                BatchedStep.applies(step, scenario, firstPlan: first, confirmed: confirmed)
            {
                await BatchedStep(runner: self, step: step, scenario: scenario)
                    .run(
                        &result, generator: &generator, stepIndex: stepIndex, progress: progress,
                        interrupted: interrupted)
                results.append(result)
                if let stopped = result.stopped, !stopped.continuesCampaign { break }
                continue
            }
            var counting = false
            var countedEvents: [String: Int] = [:]
            var consumer: RasdaemonConsumer.Armed?
            var notConsumed = 0
            let started = HostClock.monotonicNanoseconds()
            func elapsed() -> Double { Double(HostClock.monotonicNanoseconds() - started) / 1e9 }
            var pacer = step.rate.flatMap { Pacer(rate: $0) }
            let injector = injector(verifyingEach: step.verify == "each")
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
                let request = step.request(using: &generator)
                result.lastRequest = request.words
                // The events counted for this injection, should the kernel not take its record.
                var plannedEvents: Int?
                do throws(InjectError) {
                    // expect=sigbus: a victim holds the page the request is given.
                    let prepared = try await injector.prepare(request)
                    let plan = prepared.plan
                    if index == 0 && (step.verify == "count" || scenario.stopOnKernelLog != nil), let counter {
                        var events = Set(
                            step.verify == "count"
                                ? plan.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source) : [])
                        if scenario.stopOnKernelLog != nil && counter.canTraceKernelLog {
                            events.insert("printk:console")
                        }
                        if !events.isEmpty {
                            do throws(TargetError) {
                                try counter.makeInstance(events: events)
                                counting = true
                            } catch {
                                result.firstError = result.firstError ?? "cannot count events: \(error)"
                            }
                        }
                    }
                    if step.verify == "count" {
                        if index == 0 { consumer = await RasdaemonConsumer.arm(plan, target: session.options.target) }
                        for event in plan.expectations where event.kind == .traceEvent {
                            countedEvents[event.source ?? "", default: 0] += 1
                        }
                        plannedEvents = plan.expectations.filter { $0.kind == .traceEvent }.count
                    }
                    let outcome = try await injector.perform(prepared)
                    result.injected += 1
                    if let findings = outcome.findings {
                        let kernel = findings.filter { $0.kind != .consumer }
                        let recorded = findings.filter { $0.kind == .consumer }
                        result.expectedEvents += kernel.count
                        result.seenEvents += kernel.filter(\.matched).count
                        if !recorded.isEmpty {
                            result.consumerExpected = (result.consumerExpected ?? 0) + recorded.count
                            result.consumerSeen = (result.consumerSeen ?? 0) + recorded.filter(\.matched).count
                        }
                        result.lastFindings = findings
                    }
                } catch .stepFailed(_, _, _, _, .recordNotConsumed(let address, let milliseconds)) {
                    // The kernel did not take the previous record: its loss, not the injection's.
                    notConsumed += 1
                    result.kernelDropped = (result.kernelDropped ?? 0) + (plannedEvents ?? 0)
                    result.dropReason =
                        "the OS had not consumed the previous record at \(hexNumber(address)) within \(milliseconds) ms, so \(notConsumed) record(s) were not written"
                    result.dropRate = Double(index + 1) / max(elapsed(), 0.001)
                } catch {
                    result.failed += 1
                    result.firstError = result.firstError ?? error.description
                    if scenario.stopOnFailure {
                        result.stopped = .failure
                        break
                    }
                }
                progress(
                    Progress(
                        step: stepIndex + 1, steps: scenario.steps.count, name: step.name, done: index + 1,
                        total: step.count, elapsed: elapsed()))
                if let text = scenario.stopOnKernelLog, counting, let counter,
                    let line = counter.traceLines().first(where: { $0.contains(" console: ") && $0.contains(text) })
                {
                    result.stopped = .kernelLog(text: text, line: String(line.split(separator: "console: ").last ?? ""))
                    break
                }
                if interrupted() {
                    result.stopped = .interrupted
                    break
                }
            }
            if counting, let counter {
                if step.verify == "count" {
                    // Give the kernel's deferred work (the MCE pool, the GHES poller) time to drain.
                    let deadline = HostClock.monotonicNanoseconds() + UInt64(verifyTimeout * 1e9)
                    var kernelSeen: [String: Int] = [:]
                    repeat {
                        let lines = counter.traceLines()
                        kernelSeen = countedEvents.reduce(into: [:]) { seen, entry in
                            seen[entry.key] = min(entry.value, Self.count(entry.key, in: lines))
                        }
                        result.expectedEvents = countedEvents.values.reduce(0, +)
                        result.seenEvents = kernelSeen.values.reduce(0, +)
                        if result.seenEvents + (result.kernelDropped ?? 0) >= result.expectedEvents { break }
                        usleep(200_000)
                    } while HostClock.monotonicNanoseconds() < deadline
                    // What the kernel emitted, rasdaemon should have recorded: one row per event.
                    if let consumer { await awaitConsumer(consumer, kernelSeen: kernelSeen, &result) }
                }
                counter.removeInstance()
            }
            result.seconds = elapsed()
            results.append(result)
            if let stopped = result.stopped, !stopped.continuesCampaign { break }
        }
        return results
    }

    /// Waits (up to the verify timeout) for rasdaemon's rows of what the kernel emitted, one row
    /// per event (`kernelSeen`: `system:event` to its count), and records the counts in `result`.
    func awaitConsumer(_ consumer: RasdaemonConsumer.Armed, kernelSeen: [String: Int], _ result: inout StepResult) async
    {
        var expected: [String: Int] = [:]
        for (event, seen) in kernelSeen {
            if let table = consumer.tables[event] { expected[table, default: 0] += seen }
        }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(verifyTimeout * 1e9)
        repeat {
            let rows = await RasdaemonConsumer.rowsAdded(since: consumer, target: session.options.target)
            result.consumerExpected = expected.values.reduce(0, +)
            result.consumerSeen = expected.reduce(0) { $0 + min($1.value, rows[$1.key] ?? 0) }
            if (result.consumerSeen ?? 0) >= (result.consumerExpected ?? 0) { break }
            usleep(250_000)
        } while HostClock.monotonicNanoseconds() < deadline
    }

    /// Trace lines of `event` (`system:event`).
    static func count(_ event: String, in lines: [Substring]) -> Int {
        let name = (event.split(separator: ":").last.map(String.init) ?? event) + ":"
        return lines.filter { $0.contains(" \(name) ") }.count
    }
}
