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
    /// The injector of a step: verifying each injection, and then naming the memory policies that
    /// acted on a request's page (as `run --verify` does), or not (a counted step counts for itself).
    func injector(verifyingEach: Bool) -> Injector {
        var injector = Injector(
            session: session, journal: journal, confirmed: confirmed, verify: verifyingEach,
            verifyTimeout: verifyTimeout)
        injector.watchesPolicies = verifyingEach
        return injector
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
        /// Where node_exporter serves the target and the step counts on an EDAC controller: the
        /// errors the kernel's controller counters gained, and how many of them the exporter's
        /// totals show; `nil` without one.
        public var exporterExpected: Int?
        public var exporterSeen: Int?
        /// With `verify: each`: every expectation of the last injection, matched or not.
        public var lastFindings: [Verifier.Finding]
        /// With `verify: each`, where the last injection named a page: the memory policies that
        /// acted on it (the kernel's collector, rasdaemon's page isolation), empty when none did.
        public var lastPolicies: [PolicyAction]?
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
                && (exporterSeen ?? 0) >= (exporterExpected ?? 0)
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
            let files: any TargetFiles
            do throws(InjectError) { files = try session.targetFiles() } catch {
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
            } else {
                var sequential = SequentialStep(runner: self, step: step, scenario: scenario, files: files)
                await sequential.run(
                    &result, generator: &generator, stepIndex: stepIndex, progress: progress, interrupted: interrupted)
            }
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

    /// Waits (up to the verify timeout) for node_exporter's totals to show what the kernel's
    /// controller counters gained, and records the counts in `result`.
    func awaitExporter(_ exporter: NodeExporterConsumer.Armed, files: any TargetFiles, _ result: inout StepResult) async
    {
        let tally = await NodeExporterConsumer.tally(
            armed: exporter, target: session.options.target, files: files, timeoutSeconds: verifyTimeout)
        guard tally.expected > 0 else { return }
        result.exporterExpected = tally.expected
        result.exporterSeen = tally.seen
    }

    /// Trace lines of `event` (`system:event`).
    static func count(_ event: String, in lines: [Substring]) -> Int {
        let name = (event.split(separator: ":").last.map(String.init) ?? event) + ":"
        return lines.filter { $0.contains(" \(name) ") }.count
    }
}
