/// The end state a request is declared to reach (`expect=` on any request, `expect` in a campaign
/// step), which `--verify` checks beside the backend's own events. The host owns it, so every
/// backend has it and no backend declares it.
public enum ExpectedOutcome: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// The kernel reported the error (the backend's events) and kept running.
    case logged
    /// As logged, and the kernel's memory-failure handling of the request's page, where it names
    /// one, reports it Recovered.
    case recovered
    /// The request's page is taken out of use: memory_failure() handled it and the page carries the
    /// HWPoison flag (`/proc/kpageflags`).
    case offlined
    /// A process using the page is killed with SIGBUS: a ``Victim`` started in the target before
    /// the injection gives the request its page and is killed when it next reads it.
    case sigbus
    /// The kernel panicked; its panic line contains `message` when one is given.
    case panic(message: String?)
    /// A memory policy acts on the request's page at this error: `kernel` (the correctable-error
    /// collector or the kernel's soft offline) or `rasdaemon` (its page isolation), as
    /// ``PolicyAction/policy`` names them.
    case policy(name: String)

    /// The owners of the policies `policy:NAME` can name (the first word of a ``PolicyAction``'s policy).
    static let policyOwners = ["kernel", "rasdaemon"]

    /// The request parameter that declares it.
    public static let parameterName = "expect"
    /// The spellings, for help and errors.
    public static let spellings =
        "logged, recovered, offlined, sigbus, panic, panic:TEXT (TEXT in the kernel's panic line), policy:kernel or policy:rasdaemon (that memory policy acts on the request's page)"
    /// The page flag `/proc/kpageflags` sets for a poisoned page (KPF_HWPOISON).
    static let hwpoisonFlag: UInt64 = 1 << 19

    /// Why a page without HWPoison could not have been offlined, from its other kpageflags: kernel
    /// memory that soft offline cannot move or free (Documentation/admin-guide/mm/pagemap.rst:
    /// SLAB bit 7, RESERVED bit 32, PGTABLE bit 26), or `nil`.
    static func unmovable(_ flags: UInt64) -> String? {
        let kinds = [(7, "slab"), (26, "page table"), (32, "reserved")].filter { flags & (1 << UInt64($0.0)) != 0 }
        guard !kinds.isEmpty else { return nil }
        let names = kinds.map(\.1).joined(separator: ", ")
        return "the page is kernel memory (\(names)), which soft offline cannot move: pick another page"
    }

    /// Parses `logged`, `recovered`, `offlined`, `panic` or `panic:TEXT`.
    ///
    /// - Throws: ``ConfigurationError/invalidValue(backend:parameter:value:source:reason:)`` naming
    ///   the spellings.
    public init(parsing text: String, backend: String) throws(ConfigurationError) {
        let word = text.trimmed()
        switch word.lowercased() {
        case "logged": self = .logged
        case "recovered": self = .recovered
        case "offlined": self = .offlined
        case "sigbus": self = .sigbus
        case "panic": self = .panic(message: nil)
        default:
            if word.lowercased().hasPrefix("panic:"), word.count > 6 {
                self = .panic(message: String(word.dropFirst(6)))
                return
            }
            if word.lowercased().hasPrefix("policy:"),
                let name = Self.policyOwners.first(where: { $0 == word.dropFirst(7).lowercased() })
            {
                self = .policy(name: name)
                return
            }
            throw .invalidValue(
                backend: backend, parameter: Self.parameterName, value: text, source: .commandLine,
                reason: "expected one of \(Self.spellings)")
        }
    }

    public var description: String {
        switch self {
        case .logged: return "logged"
        case .recovered: return "recovered"
        case .offlined: return "offlined"
        case .sigbus: return "sigbus"
        case .panic(let message): return message.map { "panic:\($0)" } ?? "panic"
        case .policy(let name): return "policy:\(name)"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The address parameter a victim's page goes into: the backend's first parameter of type
    /// address, which the request must leave unset.
    ///
    /// - Throws: ``InjectError/invalidRequest(backend:message:)`` when there is none, or the request sets it.
    static func victimParameter(_ info: BackendInfo, _ assignments: [ParameterAssignment]) throws(InjectError) -> String
    {
        guard let parameter = info.parameters.first(where: { $0.type == .address }) else {
            throw .invalidRequest(
                backend: info.name,
                message: "expect=sigbus needs a backend that takes a physical address; \(info.name) has none")
        }
        func canonical(_ name: String) -> String {
            name.lowercased().split(separator: "-", omittingEmptySubsequences: false).joined(separator: "_")
        }
        if assignments.contains(where: { canonical($0.name) == canonical(parameter.name) }) {
            throw .invalidRequest(
                backend: info.name,
                message: "expect=sigbus gives \(parameter.name)= the victim's page: leave \(parameter.name) unset")
        }
        return parameter.name
    }

    /// Whether a campaign step must verify each injection (a panic loses the trace a counting step
    /// reads at its end; a victim's kill is a log line, which counting does not look at; a policy
    /// acts at one error of the step).
    public var needsEachVerification: Bool { isPanic || self == .sigbus || isPolicy }

    /// Whether a memory policy is expected to act (`policy:NAME`).
    public var isPolicy: Bool { if case .policy = self { true } else { false } }

    /// Whether `--verify` names the policy that acted on the page (also for `offlined`: a soft
    /// offline is a policy's act).
    public var namesPolicies: Bool { isPolicy || self == .offlined }

    /// Whether the kernel is expected to panic.
    public var isPanic: Bool { if case .panic = self { true } else { false } }

    /// What a finding about the panic expects, for people.
    var panicSummary: String {
        switch self {
        case .panic(let message): return "kernel panic" + (message.map { " with '\($0)'" } ?? "")
        default: return "no kernel panic"
        }
    }

    /// Whether `panic` (or its absence) is what this outcome declares.
    func judges(_ panic: GuestPanic?) -> Bool {
        switch self {
        case .panic(let message):
            guard let panic else { return false }
            return message.map {
                panic.message.lowercased().contains($0.lowercased())
                    || panic.console.lowercased().contains($0.lowercased())
            } ?? true
        default:
            return panic == nil
        }
    }

    /// The events this outcome adds to `plan`'s (the page's memory failure, its recovery or its
    /// poison flag), and why `--yes` is needed for it.
    ///
    /// - Throws: ``InjectError/invalidRequest(backend:message:)`` for `offlined` without a page.
    func complete(_ plan: inout InjectionPlan) throws(InjectError) {
        switch self {
        case .logged:
            break
        case .policy:
            guard Self.page(of: plan) != nil else {
                throw .invalidRequest(
                    backend: plan.backend,
                    message:
                        "expect=\(self) needs the page the policy acts on: give the request a physical address (such as address=0x5a5a000)"
                )
            }
        case .sigbus:
            Self.expectCorruptedToGrow(&plan, self)
        case .recovered:
            if let pfn = Self.page(of: plan) {
                plan.expectations.append(
                    ExpectedEvent(
                        kind: .traceEvent, source: Self.memoryFailure, match: "pfn=\(Self.hex(pfn)) result=Recovered",
                        delta: 0, note: "expect=recovered: the kernel recovered page \(Self.hex(pfn))"))
            }
        case .offlined:
            guard let pfn = Self.page(of: plan) else {
                throw .invalidRequest(
                    backend: plan.backend,
                    message:
                        "expect=offlined needs the page: give the request a physical address (such as addr=0x12345000), or expect=logged"
                )
            }
            // The page's state is the evidence, whichever way the kernel took it: memory_failure()
            // (the backend expects its trace event where its path leads there) or a soft offline
            // (the correctable-error collector at its threshold, a policy), which `--verify` names.
            plan.expectations.append(
                ExpectedEvent(
                    kind: .pageFlag, source: "/proc/kpageflags", match: Self.hex(pfn), delta: 0,
                    note: "expect=offlined: page \(Self.hex(pfn)) carries HWPoison"))
            Self.expectCorruptedToGrow(&plan, self)
        case .panic:
            plan.confirmationReasons.append(
                "expect=\(self): the target's kernel is to panic (a lab restarts its guest; a host goes down)")
        }
    }

    static let memoryFailure = "ras:memory_failure_event"

    /// The kernel's count of poisoned memory (`HardwareCorrupted:` of /proc/meminfo, kB).
    static let corrupted = "proc/meminfo#HardwareCorrupted"

    /// Expects the kernel's count of poisoned memory to grow by the page the outcome takes,
    /// unless the backend's plan already expects it to move.
    static func expectCorruptedToGrow(_ plan: inout InjectionPlan, _ outcome: ExpectedOutcome) {
        guard !plan.expectations.contains(where: { $0.source == corrupted }) else { return }
        plan.expectations.append(
            ExpectedEvent(
                kind: .counter, source: corrupted, match: nil, delta: 4,
                note: "expect=\(outcome): the kernel counts the page among its corrupted memory (HardwareCorrupted, kB)"
            ))
    }

    /// The page the request is about: the one the backend expects memory_failure() of, else the
    /// first physical address among the request's parameters.
    static func page(of plan: InjectionPlan) -> UInt64? {
        for event in plan.expectations where event.source == memoryFailure {
            let word = (event.match ?? "").split(separator: " ").first { $0.hasPrefix("pfn=") }
            if let word, let pfn = NumberText.unsigned(String(word.dropFirst(4))) { return pfn }
        }
        for parameter in plan.parameters where parameter.spec.type == .address {
            if let value = parameter.value { return value.number >> 12 }
        }
        return nil
    }

    static func hex(_ value: UInt64) -> String { hexNumber(value) }
}
