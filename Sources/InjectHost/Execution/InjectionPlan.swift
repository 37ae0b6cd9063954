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
}

/// One step of a plan.
public struct PlannedStep: Sendable, Equatable, Encodable {
    /// What the step does.
    public enum Action: Sendable, Equatable {
        case writeAttribute(path: TargetPath, value: String)
        case qmp(command: String, arguments: JSONValue?)
        case exec(argv: [String])
        case writeMemory(address: UInt64, bytes: [UInt8])
        case notify(backend: String, assignments: [ParameterAssignment])
        case sleep(microseconds: UInt64)
        /// Run the `count` steps before this one `times` more times, pausing before each time.
        case repeatSteps(count: Int, times: UInt64, intervalMicroseconds: UInt64)
        /// Send an IPMI request to the target's BMC.
        case ipmi(IPMIRequest)
        /// Call a vendor library's function (a manifest backend).
        case vendorCall(VendorCall)
        /// Wait until the 32-bit word at a guest-physical address of firmware memory reads zero.
        case waitMemoryZero(address: UInt64, microseconds: UInt64)
        /// Write a binary record to a character device in one write() (ABI 1.4).
        case writeDevice(path: TargetPath, bytes: [UInt8])
    }

    /// What the step does.
    public var action: Action
    /// The backend that planned the step.
    public var backend: String
    /// One line for people.
    public var note: String?
    /// What to do when it fails.
    public var hint: String?
    /// Whether the step raises the error.
    public var isTrigger: Bool

    private enum Keys: String, CodingKey {
        case kind, backend, path, value, command, arguments, argv, address, bytes, assignments, microseconds, note, hint, trigger
        case steps, times
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(backend, forKey: .backend)
        switch action {
        case .writeAttribute(let path, let value):
            try c.encode("write", forKey: .kind)
            try c.encode(path.relative, forKey: .path)
            try c.encode(value, forKey: .value)
        case .qmp(let command, let arguments):
            try c.encode("qmp", forKey: .kind)
            try c.encode(command, forKey: .command)
            try c.encodeIfPresent(arguments, forKey: .arguments)
        case .exec(let argv):
            try c.encode("exec", forKey: .kind)
            try c.encode(argv, forKey: .argv)
        case .writeMemory(let address, let bytes):
            try c.encode("memory", forKey: .kind)
            try c.encode(hexNumber(address), forKey: .address)
            try c.encode(hexDigits(bytes), forKey: .bytes)
        case .writeDevice(let path, let bytes):
            try c.encode("device", forKey: .kind)
            try c.encode(path.relative, forKey: .path)
            try c.encode(hexDigits(bytes), forKey: .bytes)
        case .notify(let backend, let assignments):
            try c.encode("notify", forKey: .kind)
            try c.encode(backend, forKey: .command)
            try c.encode(assignments, forKey: .assignments)
        case .sleep(let microseconds):
            try c.encode("sleep", forKey: .kind)
            try c.encode(microseconds, forKey: .microseconds)
        case .waitMemoryZero(let address, let microseconds):
            try c.encode("wait-zero", forKey: .kind)
            try c.encode(hexNumber(address), forKey: .address)
            try c.encode(microseconds, forKey: .microseconds)
        case .vendorCall(let call):
            try c.encode("call", forKey: .kind)
            try c.encode(call.description, forKey: .command)
        case .ipmi(let request):
            try c.encode("ipmi", forKey: .kind)
            try c.encode(request.hexWords.joined(separator: " "), forKey: .bytes)
        case .repeatSteps(let count, let times, let interval):
            try c.encode("repeat", forKey: .kind)
            try c.encode(count, forKey: .steps)
            try c.encode(times, forKey: .times)
            try c.encode(interval, forKey: .microseconds)
        }
        try c.encodeIfPresent(note, forKey: .note)
        try c.encodeIfPresent(hint, forKey: .hint)
        try c.encode(isTrigger, forKey: .trigger)
    }
}

/// A kernel event a plan should cause.
public struct ExpectedEvent: Sendable, Equatable, Encodable {
    /// Where to look.
    public enum Kind: String, Sendable, Encodable {
        case traceEvent = "trace", kernelLog = "dmesg", counter
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
        case .counter where isExact: return "\(source ?? "") " + (delta == 0 ? "unchanged" : "+\(delta) exactly")
        case .counter: return "\(source ?? "") +\(delta)"
        case .pageFlag: return "page \(match ?? "") HWPoison"
        }
    }

    /// Whether a counter must move by exactly ``delta`` (`match` is `INJECT_EXPECT_MATCH_EXACT`).
    public var isExact: Bool { kind == .counter && match == INJECT_EXPECT_MATCH_EXACT }
}
