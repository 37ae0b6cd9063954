/// Closes the loop of an injection: before the trigger it arms observers for the events the plan
/// declares (its own tracefs instance with those events enabled, the kernel log's length, the
/// counters' values); afterwards it waits, bounded, until each is seen, and reports what matched
/// with its latency and evidence, and what is missing.
public struct Verifier {
    /// The target.
    public let target: InjectionTarget
    let files: any TargetFiles

    /// The tracefs instance of this process, so that other users of tracing are not disturbed.
    let instance: String

    /// Creates a verifier for `target` (with the session's files); `purpose` keeps the instances of
    /// one process apart (a campaign's counting instance and a run's own, for example).
    public init(target: InjectionTarget, files: any TargetFiles, processID: Int32, purpose: String = "run") {
        self.target = target
        self.files = files
        self.instance = "sys/kernel/tracing/instances/inject-\(processID)-\(purpose)"
    }

    /// The observers' state before the trigger.
    public struct Armed: Sendable {
        var logLines: Int
        var counters: [String: Int64]
        var traceReady: Bool
        var logThroughTrace: Bool
        /// rasdaemon's database before the trigger, where rasdaemon runs.
        var consumer: RasdaemonConsumer.Armed?
        /// prometheus-node-exporter's EDAC metrics before the trigger, where it serves and the plan
        /// counts on a memory controller.
        var exporter: NodeExporterConsumer.Armed?
        /// Observers that could not be armed, and why.
        public var problems: [String]
    }

    /// One expectation's result.
    public struct Finding: Sendable, Encodable {
        /// What kind of evidence was looked for.
        public enum Kind: String, Sendable, Encodable, CustomStringConvertible {
            /// A trace event, a kernel log line, a counter's move, a page's flag (the kernel's).
            case trace, dmesg, counter, page
            /// Whether the kernel panicked as the request declared (or did not panic).
            case outcome
            /// What a consumer made of it: a row in rasdaemon's database, a metric node_exporter serves.
            case consumer
            /// What the platform kept of it across a restart: a pstore record.
            case stored

            /// The finding for an expected kernel event of `kind`.
            public init(_ kind: ExpectedEvent.Kind) {
                switch kind {
                case .traceEvent: self = .trace
                case .kernelLog: self = .dmesg
                case .counter: self = .counter
                case .pageFlag: self = .page
                }
            }

            public var description: String { rawValue }
        }

        /// What kind of evidence was looked for.
        public var kind: Kind
        /// What was expected.
        public var expected: String
        /// Whether it was seen.
        public var matched: Bool
        /// Milliseconds from the end of the injection to the poll that saw it.
        public var latencyMilliseconds: Int?
        /// The matching line, or the counter's values.
        public var evidence: String?
        /// What the plan said about this event: why it looks the way it does (the kernel policy
        /// that takes it, what a consumer does with it).
        public var note: String?
        /// The consumer that was asked (`rasdaemon`, `node_exporter`), for findings of kind `consumer`.
        public var consumer: String?

        public init(
            kind: Kind, expected: String, matched: Bool, latencyMilliseconds: Int? = nil, evidence: String? = nil,
            note: String? = nil, consumer: String? = nil
        ) {
            self.kind = kind
            self.expected = expected
            self.matched = matched
            self.latencyMilliseconds = latencyMilliseconds
            self.evidence = evidence
            self.note = note
            self.consumer = consumer
        }
    }

    /// Arms the observers for `plan`'s expectations: trace events and, for kernel log lines, the
    /// `printk:console` event (every printk, in order) in this process's tracefs instance;
    /// counters are sampled. Where the instance cannot be made, the kernel log is read with dmesg.
    public func arm(_ plan: InjectionPlan) async -> Armed {
        var armed = Armed(logLines: 0, counters: [:], traceReady: false, logThroughTrace: false, problems: [])
        var events = Set(plan.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source))
        let wantsLog = plan.expectations.contains { $0.kind == .kernelLog }
        if wantsLog && files.exists("sys/kernel/tracing/events/printk/console") { events.insert("printk:console") }
        if !events.isEmpty {
            do {
                try files.makeDirectory(try TargetPath(instance))
                for event in events {
                    try files.write(
                        "1",
                        to: try TargetPath(
                            "\(instance)/events/\(event.split(separator: ":").joined(separator: "/"))/enable"),
                        hint: nil)
                }
                armed.traceReady = true
                armed.logThroughTrace = events.contains("printk:console")
            } catch {
                armed.problems.append("tracefs instance \(instance): \(error)")
            }
        }
        if wantsLog && !armed.logThroughTrace {
            do { armed.logLines = try await kernelLog().count } catch { armed.problems.append("kernel log: \(error)") }
        }
        for expectation in plan.expectations where expectation.kind == .counter {
            guard let path = expectation.source else { continue }
            if let value = readCounter(path) {
                armed.counters[path] = value
            } else {
                armed.problems.append("counter \(path) cannot be read")
            }
        }
        // rasdaemon makes its trace instance when it starts: without one, no consumer to ask.
        if files.exists(RasdaemonConsumer.instancePath) {
            armed.consumer = await RasdaemonConsumer.arm(plan, target: target)
        }
        armed.exporter = await NodeExporterConsumer.arm(plan, target: target, files: files)
        return armed
    }

    /// Makes this process's tracefs instance with `events` (`system:event`) enabled, its ring
    /// buffer at least `bufferKilobytes` per CPU when given (a campaign batch's events must fit),
    /// and `filters` (`system:event` to a tracefs filter expression) applied before enabling.
    public func makeInstance(events: Set<String>, bufferKilobytes: Int? = nil, filters: [String: String] = [:])
        throws(TargetError)
    {
        try files.makeDirectory(try TargetPath(instance))
        if let bufferKilobytes {
            try files.write(String(bufferKilobytes), to: try TargetPath("\(instance)/buffer_size_kb"), hint: nil)
        }
        for (event, filter) in filters {
            try files.write(
                filter,
                to: try TargetPath("\(instance)/events/\(event.split(separator: ":").joined(separator: "/"))/filter"),
                hint: nil)
        }
        for event in events {
            try files.write(
                "1",
                to: try TargetPath("\(instance)/events/\(event.split(separator: ":").joined(separator: "/"))/enable"),
                hint: nil)
        }
    }

    /// The instance's trace lines (comments dropped).
    public func traceLines() -> [Substring] {
        guard let path = try? TargetPath("\(instance)/trace"), let bytes = try? files.read(path) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
    }

    /// The instance's ring buffer totals over its CPUs (`per_cpu/cpuN/stats`): events held, events
    /// overwritten because the buffer was full, events dropped; `nil` when unreadable.
    public func bufferStatistics() -> (entries: Int, overrun: Int, dropped: Int)? {
        guard let cpus = try? files.list(try TargetPath("\(instance)/per_cpu")) else { return nil }
        var totals = (entries: 0, overrun: 0, dropped: 0)
        for cpu in cpus where cpu.isDirectory {
            guard let text = files.text("\(instance)/per_cpu/\(cpu.name)/stats") else { return nil }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let value = Int(parts[1].trimmed()) else { continue }
                switch parts[0] {
                case "entries": totals.entries += value
                case "overrun": totals.overrun += value
                case "dropped events": totals.dropped += value
                default: break
                }
            }
        }
        return totals
    }

    /// Removes the instance.
    public func removeInstance() {
        if let path = try? TargetPath(instance) { try? files.removeDirectory(path) }
    }

    /// Whether the target's kernel can trace its log lines (`printk:console`).
    public var canTraceKernelLog: Bool { files.exists("sys/kernel/tracing/events/printk/console") }

    /// Waits up to `timeoutSeconds` for every expectation, then removes the tracefs instance.
    ///
    /// Where the target can say that its kernel panicked, each look asks first: a panic ends the
    /// wait, the kernel log lines are then looked for in the panic's console text, and the trace
    /// events and counters that a dead kernel can no longer show are said to be unreadable (left
    /// out when the plan declares the panic). With a declared outcome, a finding of kind `outcome`
    /// says whether the kernel panicked as declared.
    public func collect(_ plan: InjectionPlan, armed: Armed, timeoutSeconds: Double) async -> (
        findings: [Finding], panic: GuestPanic?
    ) {
        let started = HostClock.monotonicNanoseconds()
        var findings = plan.expectations.map {
            Finding(kind: Finding.Kind($0.kind), expected: $0.summary, matched: false, note: $0.note)
        }
        let panics = PanicWatch(target)
        let awaitsPanic = plan.outcome?.isPanic == true
        var panic: GuestPanic?
        while true {
            let elapsed = Int((HostClock.monotonicNanoseconds() - started) / 1_000_000)
            if let stopped = panics.check() {
                panic = stopped
                Self.judgeAfterPanic(plan, stopped, &findings, elapsed: elapsed)
                break
            }
            await look(plan, armed, &findings, elapsed: elapsed)
            if (findings.allSatisfy(\.matched) && !awaitsPanic) || Double(elapsed) / 1000 >= timeoutSeconds { break }
            usleep(100_000)
        }
        // A kernel that panicked late (a fatal error graded after its log lines) is still a panic.
        if panic == nil { panic = panics.check() }
        judgeOutcome(
            plan, panic, &findings, milliseconds: Int((HostClock.monotonicNanoseconds() - started) / 1_000_000))
        if panic != nil { return (findings, panic) }
        if armed.traceReady, let path = try? TargetPath(instance) { try? files.removeDirectory(path) }
        // What the kernel emitted must also reach the consumer, where one runs.
        if let consumer = armed.consumer {
            findings += await RasdaemonConsumer.collect(
                plan, kernel: findings, armed: consumer, target: target, timeoutSeconds: timeoutSeconds,
                since: started)
        }
        if let exporter = armed.exporter {
            findings += await NodeExporterConsumer.collect(
                armed: exporter, target: target, files: files, timeoutSeconds: timeoutSeconds, since: started)
        }
        return (findings, nil)
    }

    /// After a panic: the kernel log lines are looked for in the panic's console text, and what a
    /// dead kernel can no longer show is said to be unreadable.
    private static func judgeAfterPanic(
        _ plan: InjectionPlan, _ panic: GuestPanic, _ findings: inout [Finding],
        elapsed: Int
    ) {
        let console = panic.console.split(whereSeparator: \.isNewline)
        for (index, expectation) in plan.expectations.enumerated() where !findings[index].matched {
            if expectation.kind == .kernelLog, let line = console.first(where: { $0.contains(expectation.match ?? "") })
            {
                findings[index].matched = true
                findings[index].evidence = line.trimmed() + " (console)"
                findings[index].latencyMilliseconds = elapsed
            } else if expectation.kind != .kernelLog {
                findings[index].evidence = "not readable: the kernel panicked"
            }
        }
    }

    /// One look at the trace instance, the kernel log, the counters and the page flags.
    private func look(_ plan: InjectionPlan, _ armed: Armed, _ findings: inout [Finding], elapsed: Int) async {
        let trace =
            armed.traceReady
            ? String(decoding: (try? files.read(try TargetPath("\(instance)/trace"))) ?? [], as: UTF8.self)
                .split(separator: "\n").filter { !$0.hasPrefix("#") } : []
        let log: [Substring]
        if armed.logThroughTrace {
            log = trace.filter { $0.contains(" console: ") }
        } else if plan.expectations.contains(where: { $0.kind == .kernelLog }) {
            log = (try? await kernelLog()).map { $0.dropFirst(armed.logLines).map { Substring($0) } } ?? []
        } else {
            log = []
        }
        for (index, expectation) in plan.expectations.enumerated()
        where !findings[index].matched || expectation.isExact {
            let seenBefore = findings[index].matched
            switch expectation.kind {
            case .kernelLog:
                if let line = log.first(where: { $0.contains(expectation.match ?? "") }) {
                    findings[index].matched = true
                    findings[index].evidence = line.trimmed()
                }
            case .traceEvent:
                let name = (expectation.source ?? "").split(separator: ":").last.map { String($0) + ":" } ?? ""
                let values = Self.fieldValues(expectation.match ?? "")
                if let line = trace.first(where: { line in
                    line.contains(name) && values.allSatisfy { line.lowercased().contains($0) }
                }) {
                    findings[index].matched = true
                    findings[index].evidence = line.trimmed()
                }
            case .counter:
                judgeCounter(expectation, armed, &findings[index])
            case .pageFlag:
                if let flags = await pageFlags(expectation.match ?? "") {
                    findings[index].matched = flags & ExpectedOutcome.hwpoisonFlag != 0
                    findings[index].evidence =
                        "/proc/kpageflags[\(expectation.match ?? "")] = \(hexNumber(flags))"
                        + (findings[index].matched
                            ? " (HWPoison)"
                            : " (no HWPoison\(ExpectedOutcome.unmovable(flags).map { "; " + $0 } ?? ""))")
                }
            }
            // An exact counter is judged on every look; it was seen when it first matched.
            if findings[index].matched && !(seenBefore && findings[index].latencyMilliseconds != nil) {
                findings[index].latencyMilliseconds = elapsed
            }
        }
    }

    /// A counter's move since arming: at least `delta`, or exactly it, re-judged on every look
    /// until the end (a counter that must stay put can move late).
    private func judgeCounter(_ expectation: ExpectedEvent, _ armed: Armed, _ finding: inout Finding) {
        guard let path = expectation.source, let before = armed.counters[path], let now = readCounter(path) else {
            return
        }
        if expectation.isExact {
            finding.matched = now - before == expectation.delta
            finding.evidence = "\(path): \(before) -> \(now)" + (finding.matched ? "" : " (moved by \(now - before))")
        } else if now - before >= expectation.delta {
            finding.matched = true
            finding.evidence = "\(path): \(before) -> \(now)"
        }
    }

    /// The finding of kind `outcome`: with a declared outcome whether the kernel reached it (a
    /// declared panic drops what only a live kernel could show), and without one an undeclared panic.
    private func judgeOutcome(
        _ plan: InjectionPlan, _ panic: GuestPanic?, _ findings: inout [Finding],
        milliseconds: Int
    ) {
        if let outcome = plan.outcome {
            if outcome.isPanic {
                findings = zip(plan.expectations, findings).filter { $0.0.kind == .kernelLog || $0.1.matched }.map(\.1)
            }
            findings.append(
                Finding(
                    kind: .outcome, expected: outcome.panicSummary, matched: outcome.judges(panic),
                    latencyMilliseconds: panic.map { _ in milliseconds },
                    evidence: panic.map { "\($0.message) (\($0.noticedBy))" } ?? keptRunning))
        } else if let panic {
            findings.append(
                Finding(
                    kind: .outcome, expected: "no kernel panic", matched: false,
                    evidence: "\(panic.message) (\(panic.noticedBy))"))
        }
    }

    /// Why the target's kernel is known to be running (no panic seen), for the outcome's evidence.
    private var keptRunning: String {
        if target.reportsPanics { return "the kernel kept running" }
        // This process runs on the target's kernel: that it is here to say so is the evidence.
        return target.root == "/"
            ? "the kernel kept running (this process runs on it)" : "a \(Setting.root) tree has no kernel to panic"
    }

    /// Page `pfn`'s flags from `/proc/kpageflags` (8 bytes per page), read where the kernel is.
    private func pageFlags(_ pfn: String) async -> UInt64? {
        guard let page = NumberText.unsigned(pfn) else { return nil }
        return await target.procWord("/proc/kpageflags", index: page)
    }

    /// The kernel log, one line per entry.
    private func kernelLog() async throws(TargetError) -> [String] {
        try await target.shell("dmesg").split(separator: "\n").map(String.init)
    }

    /// The first integer in a counter file (such as `/sys/firmware/acpi/interrupts/sci`), or with
    /// `FILE#NAME` the number on the line `NAME value` of a keyed file (aer_dev_correctable).
    private func readCounter(_ source: String) -> Int64? {
        let (path, key) = Self.counterSource(source)
        guard let target = try? TargetPath(path), let bytes = try? files.read(target) else { return nil }
        return Self.counterValue(String(decoding: bytes, as: UTF8.self), key: key)
    }

    /// A counter source split into its file and, for a keyed file, the line's name.
    static func counterSource(_ source: String) -> (path: String, key: String?) {
        guard let hash = source.lastIndex(of: "#") else { return (source, nil) }
        return (String(source[..<hash]), String(source[source.index(after: hash)...]))
    }

    /// The counter in a file's text: its first integer, or the value on the line named `key`.
    static func counterValue(_ text: String, key: String?) -> Int64? {
        guard let key else { return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int64($0) } }
        for line in text.split(separator: "\n") {
            // `name value`, or /proc/meminfo's `Name:   value kB`.
            let words = line.split(whereSeparator: \.isWhitespace)
            if words.count >= 2, words[0] == key || words[0] == key + ":" { return Int64(words[1]) }
        }
        return nil
    }

    /// The values of `name=value` fields, lowercased, hex without its `0x`; a value in double
    /// quotes may hold spaces (`label="P0_CH_A DIMM_A1"`).
    static func fieldValues(_ fields: String) -> [String] {
        var values: [String] = []
        var rest = Substring(fields)
        while let equals = rest.firstIndex(of: "=") {
            var value: Substring
            let start = rest.index(after: equals)
            if start < rest.endIndex, rest[start] == "\"" {
                let open = rest.index(after: start)
                let close = rest[open...].firstIndex(of: "\"") ?? rest.endIndex
                value = rest[open..<close]
                rest = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
            } else {
                let end = rest[start...].firstIndex(of: " ") ?? rest.endIndex
                value = rest[start..<end]
                rest = rest[end...]
            }
            let text = value.lowercased()
            values.append(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text)
            // The next field starts after the white space.
            rest = rest.drop(while: { $0 == " " })
            if let space = rest.firstIndex(of: " "), let nextEquals = rest.firstIndex(of: "="), space < nextEquals {
                rest = rest[rest.index(after: space)...]
            }
        }
        return values
    }
}
