/// One injection's way through the stack, stage by stage, from `--verify`'s findings: the
/// kernel's trace event, its log line, its counters and page state, then each consumer (rasdaemon's
/// row, node_exporter's metric) and the outcome; each stage with how much of it was seen and how
/// long the slowest part took, and the first stage that dropped the event with the reason where
/// one is known (the collector that absorbed it, `buffer_percent`, no csrow files, ...).
public struct VerificationPipeline: Sendable, Encodable {
    /// One stage.
    public struct Stage: Sendable, Encodable, Equatable {
        /// Its name: `kernel trace`, `kernel log`, `counter`, `page`, a consumer's name, `outcome`.
        public var name: String
        /// Expectations of this stage, and how many were seen.
        public var expected: Int
        public var seen: Int
        /// Milliseconds from the injection to the slowest expectation of the stage that was seen.
        public var latencyMilliseconds: Int?
        /// The first expectation of the stage that was not seen, and why, where known.
        public var missing: String?
        public var reason: String?

        /// Whether every expectation of the stage was seen.
        public var passed: Bool { seen == expected }
    }

    /// The stages, in the order an event travels.
    public var stages: [Stage]

    /// The first stage that did not see all it expected.
    public var firstDrop: Stage? { stages.first { !$0.passed } }

    /// The pipeline of `findings`.
    public init(_ findings: [Verifier.Finding]) {
        var order: [String] = []
        var grouped: [String: [Verifier.Finding]] = [:]
        for finding in findings.sorted(by: { Self.rank($0) < Self.rank($1) }) {
            let name = Self.stageName(finding)
            if grouped[name] == nil { order.append(name) }
            grouped[name, default: []].append(finding)
        }
        stages = order.map { name in
            let members = grouped[name] ?? []
            let seen = members.filter(\.matched)
            let missing = members.first { !$0.matched }
            return Stage(
                name: name, expected: members.count, seen: seen.count,
                latencyMilliseconds: seen.compactMap(\.latencyMilliseconds).max(), missing: missing?.expected,
                reason: missing.flatMap { $0.evidence ?? $0.note })
        }
    }

    /// One line: each stage's count and latency, in order.
    public var summary: String {
        stages.map { stage in
            "\(stage.name) \(stage.seen)/\(stage.expected)" + (stage.latencyMilliseconds.map { " (\($0) ms)" } ?? "")
        }.joined(separator: " -> ")
    }

    private static func stageName(_ finding: Verifier.Finding) -> String {
        switch finding.kind {
        case .trace: "kernel trace"
        case .dmesg: "kernel log"
        case .counter: "counter"
        case .page: "page"
        case .outcome: "outcome"
        case .stored: "pstore"
        case .consumer: finding.consumer ?? "consumer"
        }
    }

    /// Where a finding's stage stands on the event's way: the kernel's own evidence first, the
    /// consumers (rasdaemon's row before the exporter's scrape) after it, the outcome last.
    private static func rank(_ finding: Verifier.Finding) -> Int {
        switch finding.kind {
        case .trace: 0
        case .dmesg: 1
        case .counter: 2
        case .page: 3
        case .consumer: finding.consumer == NodeExporterConsumer.name ? 5 : 4
        case .outcome: 6
        case .stored: 7
        }
    }
}
