/// The metrics side of `--verify`: where prometheus-node-exporter serves the target (the host, or
/// a lab's guest), an injection whose plan counts on an EDAC memory controller is checked in the
/// exporter's metrics as well as in sysfs. Its edac collector reads `mcN/ce_count` and
/// `mcN/ue_count` into the controller totals, and `mcN/csrowM/{ce,ue}_count` into the per-csrow
/// metrics; the controller total must move as the kernel's counter did, and the per-csrow metric's
/// fate is told with its reason when it does not move.
public enum NodeExporterConsumer {
    /// Where the exporter listens (its Debian default).
    public static let address = "127.0.0.1:9100"
    /// The consumer's name in findings.
    public static let name = "node_exporter"

    /// A scrape of its EDAC metrics: busybox's wget (a lab guest, a small server), else wget,
    /// else curl.
    public static let scrapeCommand =
        "{ busybox wget -q -O - http://\(address)/metrics || wget -q -O - http://\(address)/metrics || curl -fsS http://\(address)/metrics; } 2>/dev/null | grep '^node_edac_'"

    /// What was seen before the trigger.
    struct Armed: Sendable {
        /// The controllers the plan counts on (`0` for mc0).
        var controllers: [String]
        /// The exporter's EDAC metrics before the trigger.
        var metrics: PrometheusText
        /// The kernel's own controller counters before the trigger (`mc0/ce_count` to its value).
        var kernel: [String: Int64]
    }

    /// The EDAC sysfs directory of controllers, beneath a target's root.
    static let controllers = "sys/devices/system/edac/mc"

    /// The baselines, or `nil` when the plan counts on no EDAC controller or no exporter answers.
    static func arm(_ plan: InjectionPlan, target: InjectionTarget, files: any TargetFiles) async -> Armed? {
        guard target.guest != nil || target.root == "/" else { return nil }
        let controllers = Set(
            plan.expectations.filter { $0.kind == .counter }.compactMap { $0.source.flatMap(controller(of:)) }
        ).sorted()
        guard !controllers.isEmpty, let metrics = await scrape(target) else { return nil }
        return Armed(controllers: controllers, metrics: metrics, kernel: kernelCounters(controllers, files))
    }

    /// The controller (`0` for `.../edac/mc/mc0/...`) a counter path is under.
    static func controller(of path: String) -> String? {
        let components = path.split(separator: "/")
        guard let edac = components.firstIndex(of: "edac"), components.count > edac + 2,
            components[edac + 1] == "mc", components[edac + 2].hasPrefix("mc")
        else { return nil }
        let digits = components[edac + 2].dropFirst(2)
        return !digits.isEmpty && digits.allSatisfy(\.isNumber) ? String(digits) : nil
    }

    /// Waits up to `timeoutSeconds` until the exporter's total of each controller moved as the
    /// kernel's `mcN/ce_count` and `mcN/ue_count` did since arming; says what the per-csrow metric
    /// did. Latencies count from `since` (the injection's end, on the monotonic clock).
    static func collect(
        armed: Armed, target: InjectionTarget, files: any TargetFiles, timeoutSeconds: Double, since: UInt64
    ) async -> [Verifier.Finding] {
        let wanted = kernelMoves(armed, files)
        var findings = wanted.map {
            Verifier.Finding(
                kind: .consumer, expected: "\(name) \($0.metric){controller=\"\($0.controller)\"} +\($0.delta)",
                matched: false, consumer: name)
        }
        guard !findings.isEmpty else { return [] }
        let started = HostClock.monotonicNanoseconds()
        var latest = armed.metrics
        while true {
            let elapsed = Int((HostClock.monotonicNanoseconds() - started) / 1_000_000)
            if let metrics = await scrape(target) { latest = metrics }
            for (index, want) in wanted.enumerated() where !findings[index].matched {
                let labels = ["controller": want.controller]
                guard let before = armed.metrics.value(want.metric, labels), let now = latest.value(want.metric, labels)
                else { continue }
                findings[index].evidence =
                    "\(NumberText.decimal(before)) -> \(NumberText.decimal(now)); the kernel's mc\(want.controller)/\(want.counter) +\(want.delta)"
                if now - before >= Double(want.delta) {
                    findings[index].matched = true
                    findings[index].latencyMilliseconds = Int((HostClock.monotonicNanoseconds() - since) / 1_000_000)
                }
            }
            if findings.allSatisfy(\.matched) || Double(elapsed) / 1000 >= timeoutSeconds { break }
            usleep(250_000)
        }
        for (index, want) in wanted.enumerated() {
            if latest.value(want.metric, ["controller": want.controller]) == nil {
                findings[index].evidence =
                    "the exporter serves no \(want.metric) for controller \(want.controller): is its edac collector off (--no-collector.edac)?"
            }
            findings[index].note = csrowFate(want.controller, want.counter, armed: armed, latest: latest, files: files)
        }
        return findings
    }

    /// What the per-csrow metric did for `controller`, and why when it did not move.
    static func csrowFate(
        _ controller: String, _ counter: String, armed: Armed, latest: PrometheusText, files: any TargetFiles
    ) -> String {
        let metric =
            counter == "ce_count"
            ? "node_edac_csrow_correctable_errors_total" : "node_edac_csrow_uncorrectable_errors_total"
        let directory = "\(controllers)/mc\(controller)"
        let entries = (try? TargetPath(directory)).flatMap { try? files.list($0) } ?? []
        let csrows = entries.filter { $0.isDirectory && $0.name.hasPrefix("csrow") }.map(\.name)
        guard !csrows.isEmpty else {
            return
                "the per-csrow metric (\(metric)) cannot move: this kernel has no csrow files under \(directory) (built without EDAC_LEGACY_SYSFS)"
        }
        let moved = latest.samples(metric).filter { $0.labels["controller"] == controller }.compactMap { sample in
            let before = armed.metrics.value(metric, sample.labels) ?? 0
            return sample.value > before
                ? "csrow=\(sample.labels["csrow"] ?? "?") +\(NumberText.decimal(sample.value - before))" : nil
        }
        guard moved.isEmpty else { return "the per-csrow metric moved too: \(metric) \(moved.joined(separator: ", "))" }
        let driver = files.text("\(directory)/mc_name")?.trimmed() ?? "its driver"
        return
            "the per-csrow metric (\(metric)) did not move on any csrow: the kernel counted the error on the DIMM (dimmN/dimm_\(counter)), which node_exporter does not read. "
            + "mc\(controller) is \(driver); a driver that reports through edac_raw_mc_handle_error (ghes_edac does) never raises csrowN/\(counter): in drivers/edac/edac_mc.c only edac_mc_handle_error counts per csrow"
    }

    /// A campaign step's count: the kernel's controller counters' moves since arming (`expected`),
    /// and how much of them the exporter's totals show (`seen`), waiting up to `timeoutSeconds`
    /// for the exporter to catch up.
    static func tally(armed: Armed, target: InjectionTarget, files: any TargetFiles, timeoutSeconds: Double)
        async -> (expected: Int, seen: Int)
    {
        let moves = kernelMoves(armed, files)
        let deadline = HostClock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        var tally = (expected: 0, seen: 0)
        repeat {
            let latest = await scrape(target) ?? armed.metrics
            tally = (0, 0)
            for move in moves {
                let labels = ["controller": move.controller]
                let shown = (latest.value(move.metric, labels) ?? 0) - (armed.metrics.value(move.metric, labels) ?? 0)
                tally.expected += Int(move.delta)
                tally.seen += min(Int(move.delta), max(0, Int(shown)))
            }
            if tally.seen >= tally.expected { break }
            usleep(250_000)
        } while HostClock.monotonicNanoseconds() < deadline
        return tally
    }

    /// The exporter's controller totals and the kernel counters they read.
    static let totals = [
        ("node_edac_correctable_errors_total", "ce_count"), ("node_edac_uncorrectable_errors_total", "ue_count"),
    ]

    /// The exporter's EDAC metrics on the target, or `nil` when none answer.
    static func scrape(_ target: InjectionTarget) async -> PrometheusText? {
        defer { target.guest?.release() }
        guard let text = try? await target.shell(scrapeCommand, timeoutSeconds: 10), !text.isEmpty else { return nil }
        return PrometheusText(text)
    }

    /// How the kernel's controller totals moved since arming: one entry per controller and
    /// counter that grew, with the exporter's metric that reads it.
    private static func kernelMoves(_ armed: Armed, _ files: any TargetFiles) -> [(
        metric: String, controller: String, counter: String, delta: Int64
    )] {
        let kernelNow = kernelCounters(armed.controllers, files)
        return armed.controllers.flatMap { controller in
            totals.compactMap { metric, counter in
                let key = "mc\(controller)/\(counter)"
                guard let before = armed.kernel[key], let now = kernelNow[key], now > before else { return nil }
                return (metric, controller, counter, now - before)
            }
        }
    }

    /// The kernel's controller totals (`mcN/ce_count`, `mcN/ue_count`).
    private static func kernelCounters(_ controllers: [String], _ files: any TargetFiles) -> [String: Int64] {
        var values: [String: Int64] = [:]
        for controller in controllers {
            for (_, counter) in totals {
                let key = "mc\(controller)/\(counter)"
                if let value = files.text("\(Self.controllers)/\(key)").flatMap({ Int64($0.trimmed()) }) {
                    values[key] = value
                }
            }
        }
        return values
    }
}

/// `inject watch --consumer node_exporter`: each change of the exporter's EDAC metrics, as a scrape
/// sees it, beside the kernel's events (`node_exporter:METRIC`, its labels, value and delta as fields).
public struct NodeExporterWatcher: ConsumerFeed {
    let target: InjectionTarget
    private var last: PrometheusText

    /// Starts at the exporter's current metrics.
    ///
    /// - Throws: a ``TargetError/tool(argv:reason:hint:)`` when no exporter answers on the target.
    public init(target: InjectionTarget) async throws(TargetError) {
        self.target = target
        guard let metrics = await NodeExporterConsumer.scrape(target) else {
            throw .tool(
                argv: ["prometheus-node-exporter"],
                reason:
                    "no node_exporter answers with EDAC metrics on \(NodeExporterConsumer.address) of \(target.summary)",
                hint: target.guest != nil
                    ? "start the lab with it: inject lab up \(Setting.labConsumers.named(NodeExporterConsumer.name))"
                    : "systemctl start prometheus-node-exporter")
        }
        last = metrics
    }

    /// The metrics that changed since the last call, one event each.
    public mutating func poll() async -> [EventWatcher.Event] {
        guard let metrics = await NodeExporterConsumer.scrape(target) else { return [] }
        defer { last = metrics }
        return metrics.samples.compactMap { sample in
            let before = last.value(sample.name, sample.labels)
            guard before != sample.value else { return nil }
            var fields = sample.labels
            fields["value"] = NumberText.decimal(sample.value)
            if let before { fields["delta"] = NumberText.decimal(sample.value - before) }
            let text = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return EventWatcher.Event(
                timestamp: 0, event: "\(NodeExporterConsumer.name):\(sample.name)", fields: fields, decoded: [:],
                decodedBy: nil, text: text)
        }
    }
}

/// A consumer whose records `inject watch --consumer` shows beside the kernel's events.
public protocol ConsumerFeed {
    /// What the consumer recorded since the last call.
    mutating func poll() async -> [EventWatcher.Event]
}
