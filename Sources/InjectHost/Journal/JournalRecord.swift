/// One line of the journal: an intent (written and flushed to disk before the trigger) or the
/// outcome that follows it, tied together by `id`.
public struct JournalRecord: Codable, Sendable, Equatable {
    /// Which of the pair a record is.
    public enum Kind: String, Codable, Sendable {
        /// What is about to be injected, written before the trigger.
        case intent
        /// What happened.
        case outcome
    }

    /// How an injection ended.
    public enum Result: String, Codable, Sendable, CaseIterable {
        /// Every step ran (and, with `--verify`, every expected event was seen).
        case ok
        /// A step failed, or plugin code ended the process.
        case failed
        /// Every step ran, but `--verify` missed an expected event.
        case unverified
        /// The kernel panicked although the request did not declare it.
        case panicked
    }

    public var kind: Kind
    /// Pairs an intent with its outcome.
    public var id: String
    /// UTC, ISO 8601 with milliseconds.
    public var time: String
    public var user: String
    public var target: String
    public var backend: String
    /// Parameters that have a value, as `name=value`.
    public var parameters: [String]
    /// The steps, as `--dry-run` shows them (intent only).
    public var steps: [String]?
    /// How it ended (outcome only).
    public var outcome: Result?
    /// The error, when the injection failed.
    public var error: String?
    /// Matched and expected events, with `--verify`.
    public var verified: String?
    /// The outcome the request declared (`expect=`), when it declared one.
    public var expect: String?
    /// The kernel's panic line, when the injection ended in a panic (outcome only).
    public var panic: String?
    /// Whether the guest was booted again after that panic.
    public var restarted: Bool?

    /// Creates a record.
    public init(
        kind: Kind, id: String, time: String, user: String, target: String, backend: String, parameters: [String],
        steps: [String]? = nil, outcome: Result? = nil, error: String? = nil, verified: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.time = time
        self.user = user
        self.target = target
        self.backend = backend
        self.parameters = parameters
        self.steps = steps
        self.outcome = outcome
        self.error = error
        self.verified = verified
    }

    /// The intent of `plan` on `target`: who, what, with which parameters and steps, now.
    public static func intent(of plan: InjectionPlan, on target: InjectionTarget) -> JournalRecord {
        let now = Journal.now()
        var record = JournalRecord(
            kind: .intent, id: "\(getpid())-\(now)-\(UInt32.random(in: 0...UInt32.max))", time: now,
            user: Journal.user(),
            target: target.summary, backend: plan.backend,
            parameters: plan.parameters.compactMap { p in p.value.map { "\(p.spec.name)=\($0.text)" } },
            steps: plan.steps.enumerated().map { PlanRenderer.describe($0.element, at: $0.offset, root: target.root) })
        record.expect = plan.outcome?.description
        return record
    }

    /// The outcome record of this intent: `result`, now, `error` when given.
    public func outcome(_ result: Result, error: String? = nil) -> JournalRecord {
        var record = self
        record.kind = .outcome
        record.steps = nil
        record.time = Journal.now()
        record.outcome = result
        record.error = error
        return record
    }
}
