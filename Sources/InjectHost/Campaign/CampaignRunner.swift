#if canImport(Glibc)
import Glibc
#endif

/// Runs a ``Scenario`` on a target: every injection validated, planned, journaled and executed as
/// `inject run` would, at the step's rate and within its duration, verified by counting the
/// kernel's trace events for the whole step (or each injection), until done, a stop condition, or
/// an interruption after the current injection.
public struct CampaignRunner {
    let session: InjectSession
    let files: any TargetFiles
    let journal: Journal?
    let confirmed: Bool
    let verifyTimeout: Double

    /// Creates a runner.
    public init(session: InjectSession, files: any TargetFiles, journal: Journal?, confirmed: Bool, verifyTimeout: Double) {
        self.session = session
        self.files = files
        self.journal = journal
        self.confirmed = confirmed
        self.verifyTimeout = verifyTimeout
    }

    /// What one step did.
    public struct StepResult: Sendable, Encodable {
        public var name: String
        public var backend: String
        public var planned: Int
        public var injected: Int
        public var failed: Int
        /// Expected and seen kernel events (trace events counted for the step, or per injection).
        public var expectedEvents: Int
        public var seenEvents: Int
        public var seconds: Double
        /// Why the step ended early (a failure, a stop condition, an interruption, its duration).
        public var stopped: String?
        public var firstError: String?

        /// Whether the step counts as passed.
        public var passed: Bool { failed == 0 && seenEvents >= expectedEvents && (stopped == nil || stopped!.hasPrefix("duration")) }
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

    /// Runs the campaign; `interrupted` is asked after each injection.
    public func run(_ scenario: Scenario, progress: (Progress) -> Void, interrupted: () -> Bool) async -> [StepResult] {
        var results: [StepResult] = []
        let target = session.options.target
        for (stepIndex, step) in scenario.steps.enumerated() {
            var generator = SeededGenerator(seed: scenario.seed &+ UInt64(stepIndex) &* 0x9E37_79B9)
            var result = StepResult(name: step.name, backend: step.backend, planned: step.count, injected: 0, failed: 0,
                                    expectedEvents: 0, seenEvents: 0, seconds: 0)
            let verifier = Verifier(target: target, files: files, processID: getpid(), purpose: "campaign")
            var counting = false
            var countedEvents: [String: Int] = [:]
            let started = HostClock.monotonicNanoseconds()
            func elapsed() -> Double { Double(HostClock.monotonicNanoseconds() - started) / 1e9 }
            for index in 0..<step.count {
                if let duration = step.duration, elapsed() >= duration { result.stopped = "duration \(duration) s reached"; break }
                if let rate = step.rate {
                    let due = Double(index) / rate
                    if due > elapsed() { usleep(UInt32(min((due - elapsed()) * 1e6, 60e6))) }
                }
                let assignments = step.parameters.map { "\($0.name)=\($0.value.value(using: &generator))" }
                do throws(InjectError) {
                    let plan = try session.plan(backend: step.backend, arguments: assignments)
                    if index == 0 && (step.verify == "count" || scenario.stopOnKernelLog != nil) {
                        var events = Set(step.verify == "count" ? plan.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source) : [])
                        if scenario.stopOnKernelLog != nil && verifier.canTraceKernelLog { events.insert("printk:console") }
                        if !events.isEmpty {
                            do throws(TargetError) { try verifier.makeInstance(events: events); counting = true } catch {
                                result.firstError = result.firstError ?? "cannot count events: \(error)"
                            }
                        }
                    }
                    if step.verify == "count" {
                        for event in plan.expectations where event.kind == .traceEvent { countedEvents[event.source ?? "", default: 0] += 1 }
                    }
                    let seen = try await inject(plan, verify: step.verify == "each")
                    result.injected += 1
                    if let (expected, matched) = seen { result.expectedEvents += expected; result.seenEvents += matched }
                } catch {
                    result.failed += 1
                    result.firstError = result.firstError ?? error.description
                    if scenario.stopOnFailure { result.stopped = "stopped on failure"; break }
                }
                progress(Progress(step: stepIndex + 1, steps: scenario.steps.count, name: step.name, done: index + 1, total: step.count, elapsed: elapsed()))
                if let text = scenario.stopOnKernelLog, counting,
                   let line = verifier.traceLines().first(where: { $0.contains(" console: ") && $0.contains(text) }) {
                    result.stopped = "stop condition: the kernel logged '\(text)' (\(line.split(separator: "console: ").last ?? ""))"
                    break
                }
                if interrupted() { result.stopped = "interrupted"; break }
            }
            if counting {
                if step.verify == "count" {
                    // Give the kernel's deferred work (the MCE pool, the GHES poller) time to drain.
                    let deadline = HostClock.monotonicNanoseconds() + UInt64(verifyTimeout * 1e9)
                    var lines: [Substring] = []
                    repeat {
                        lines = verifier.traceLines()
                        let seen = countedEvents.keys.reduce(0) { total, event in total + min(countedEvents[event]!, count(event, in: lines)) }
                        result.expectedEvents = countedEvents.values.reduce(0, +)
                        result.seenEvents = seen
                        if seen >= result.expectedEvents { break }
                        usleep(200_000)
                    } while HostClock.monotonicNanoseconds() < deadline
                }
                verifier.removeInstance()
            }
            result.seconds = elapsed()
            results.append(result)
            if result.stopped != nil && !(result.stopped!.hasPrefix("duration")) { break }
        }
        return results
    }

    /// Trace lines of `event` (`system:event`).
    private func count(_ event: String, in lines: [Substring]) -> Int {
        let name = (event.split(separator: ":").last.map(String.init) ?? event) + ":"
        return lines.filter { $0.contains(" \(name) ") }.count
    }

    /// One injection, journaled; with `verify`, its events are awaited. Returns (expected, seen).
    private func inject(_ plan: InjectionPlan, verify: Bool) async throws(InjectError) -> (Int, Int)? {
        let outcome = try await InjectionRun.perform(plan, target: session.options.target, files: files, journal: journal,
                                                     confirmed: confirmed, verify: verify, verifyTimeout: verifyTimeout)
        return outcome.findings.map { ($0.count, $0.filter(\.matched).count) }
    }
}
