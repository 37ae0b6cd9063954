import InjectPluginABI

/// What the host will do for one request, as built by the backend (and the backends it asked for
/// notifications): ordered steps, expected kernel events, and reasons to ask for confirmation.
public struct InjectionPlan: Sendable, Equatable, Encodable {
    /// The backend the user asked for.
    public var backend: String
    /// The validated parameters with their sources.
    public var parameters: [ResolvedParameter]
    /// The ordered steps.
    public var steps: [PlannedStep]
    /// Kernel events the steps should cause.
    public var expectations: [ExpectedEvent]
    /// Why `--yes` is needed; empty when it is not.
    public var confirmationReasons: [String]
    /// The end state the request declares (`expect=`), checked by `--verify`.
    public var outcome: ExpectedOutcome? = nil
    /// What the kernel prints when it drops records of the planning backends' errors.
    public var lossMarkers: [KernelLossMarker] = []
    /// The consumer's table for each trace event of the planning backends.
    public var consumerTables: [String: String] = [:]
}

/// One step of a plan: what it does (one of the ``StepAction`` kinds), who planned it, and what
/// people are told about it.
public struct PlannedStep: Sendable, Equatable, Encodable {
    /// What the step does.
    public var action: any StepAction
    /// The backend that planned the step.
    public var backend: String
    /// One line for people.
    public var note: String?
    /// What to do when it fails.
    public var hint: String?
    /// Whether the step raises the error.
    public var isTrigger: Bool

    /// Creates a step.
    public init(
        action: any StepAction, backend: String, note: String? = nil, hint: String? = nil, isTrigger: Bool = false
    ) {
        self.action = action
        self.backend = backend
        self.note = note
        self.hint = hint
        self.isTrigger = isTrigger
    }

    public static func == (a: PlannedStep, b: PlannedStep) -> Bool {
        a.action.isSame(as: b.action) && a.backend == b.backend && a.note == b.note && a.hint == b.hint
            && a.isTrigger == b.isTrigger
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: StepField.self)
        try container.encode(backend, forKey: .backend)
        try container.encode(type(of: action).kind, forKey: .kind)
        try action.encodeFields(into: &container)
        try container.encodeIfPresent(note, forKey: .note)
        try container.encodeIfPresent(hint, forKey: .hint)
        try container.encode(isTrigger, forKey: .trigger)
    }
}

/// A kernel event a plan should cause.
public struct ExpectedEvent: Sendable, Equatable, Encodable {
    /// Where to look.
    public enum Kind: String, Sendable, Encodable {
        case traceEvent = "trace"
        case kernelLog = "dmesg"
        case counter
        /// A page's flag in `/proc/kpageflags` (`match` is the page frame number): set by the host
        /// for `expect=offlined`, not by backends.
        case pageFlag = "page"
    }

    /// Where to look.
    public var kind: Kind
    /// The trace event (`system:event`) or counter file; `nil` for kernel log lines.
    public var source: String?
    /// Field matches (`name=value ...`) or the log text.
    public var match: String?
    /// The counter's expected growth.
    public var delta: Int64
    /// One line for people.
    public var note: String?

    /// What is expected, for people: the event and its fields, the log text, or the counter's move.
    public var summary: String {
        switch kind {
        case .traceEvent: return [source, match].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        case .kernelLog: return match ?? ""
        case .counter where isExact:
            return "\(source ?? "") " + (delta == 0 ? "unchanged" : (delta > 0 ? "+" : "") + "\(delta) exactly")
        case .counter: return "\(source ?? "") +\(delta)"
        case .pageFlag: return "page \(match ?? "") HWPoison"
        }
    }

    /// Whether a counter must move by exactly ``delta`` (`match` is `INJECT_EXPECT_MATCH_EXACT`).
    public var isExact: Bool { kind == .counter && match == INJECT_EXPECT_MATCH_EXACT }
}
