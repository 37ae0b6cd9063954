/// What a backend asks the host to do for one request, in order, without doing any of it.
///
/// The host prints a plan for `--dry-run`, journals it, executes it on the chosen target and checks
/// the expected kernel events.
public struct Plan: Sendable {
    /// The ordered steps.
    public var steps: [PlanStep] = []
    /// Kernel events the steps should cause.
    public var expectations: [Expectation] = []
    /// Why this request can crash or damage a real machine; non-empty means the user must pass `--yes`.
    public var confirmationReasons: [String] = []

    /// Creates an empty plan.
    public init() {}

    /// Appends a write of `value` to the file `path` (relative to the target root).
    public mutating func write(
        _ path: String, _ value: String, note: String? = nil,
        hint: String? = nil, trigger: Bool = false
    ) {
        steps.append(PlanStep(.writeAttribute(path: path, value: value), note: note, hint: hint, isTrigger: trigger))
    }

    /// Appends a QMP command; `arguments` is a JSON object's text, or `nil`.
    /// `hint` says what to do when QEMU refuses the command or lacks it.
    public mutating func qmp(
        _ command: String, arguments: String? = nil, note: String? = nil,
        hint: String? = nil, trigger: Bool = false
    ) {
        steps.append(PlanStep(.qmp(command: command, arguments: arguments), note: note, hint: hint, isTrigger: trigger))
    }

    /// Appends a run of an external tool (no shell).
    public mutating func exec(_ argv: [String], note: String? = nil, hint: String? = nil, trigger: Bool = false) {
        steps.append(PlanStep(.exec(argv), note: note, hint: hint, isTrigger: trigger))
    }

    /// Appends a write of bytes into a guest's firmware memory at a guest-physical address.
    public mutating func writeMemory(_ address: UInt64, _ bytes: [UInt8], note: String? = nil) {
        steps.append(PlanStep(.writeMemory(address: address, bytes: bytes), note: note))
    }

    /// Appends a write of a binary record to a character device under the target root in one
    /// write() (the kernel's `/dev/aer_inject`); the host refuses anything but a device node.
    /// Needs a host of ABI 1.4.
    public mutating func writeDevice(
        _ path: String, _ bytes: [UInt8], note: String? = nil, hint: String? = nil,
        trigger: Bool = false
    ) {
        steps.append(PlanStep(.writeDevice(path: path, bytes: bytes), note: note, hint: hint, isTrigger: trigger))
    }

    /// Appends an IPMI request (network function, command, request data) to the target's BMC;
    /// the host chooses the route (in-band, the lab's simulated BMC, or a BMC over the network).
    public mutating func ipmi(
        netFunction: UInt8, command: UInt8, data: [UInt8] = [], note: String? = nil,
        trigger: Bool = false
    ) {
        steps.append(
            PlanStep(.ipmi(netFunction: netFunction, command: command, data: data), note: note, isTrigger: trigger))
    }

    /// Appends a wait until the 32-bit word at `address` of firmware memory is zero (the OS has
    /// consumed the record there), failing after `timeoutMicroseconds`.
    public mutating func waitForZero(at address: UInt64, timeoutMicroseconds: UInt64, note: String? = nil) {
        steps.append(PlanStep(.waitMemoryZero(address: address, timeoutMicroseconds: timeoutMicroseconds), note: note))
    }

    /// Appends a request for another backend's plan (a notification, for example); the host routes it.
    public mutating func notify(_ backend: String, _ arguments: [String: String], note: String? = nil) {
        steps.append(PlanStep(.notify(backend: backend, arguments: arguments), note: note))
    }

    /// Appends a pause.
    public mutating func sleep(microseconds: UInt64, note: String? = nil) {
        steps.append(PlanStep(.sleep(microseconds: microseconds), note: note))
    }

    /// Appends a repetition: the last `stepCount` steps run `times` more times, with a pause of
    /// `intervalMicroseconds` before each time (a storm). The host runs the loop; the plan stays short.
    public mutating func repeatLast(
        _ stepCount: Int, times: UInt64, intervalMicroseconds: UInt64 = 0,
        note: String? = nil
    ) {
        steps.append(
            PlanStep(
                .repeatSteps(count: stepCount, times: times, intervalMicroseconds: intervalMicroseconds),
                note: note))
    }

    /// Declares a kernel event the plan should cause.
    public mutating func expect(_ expectation: Expectation) { expectations.append(expectation) }

    /// Demands `--yes` for this request, saying why.
    public mutating func requireConfirmation(_ reason: String) { confirmationReasons.append(reason) }
}

/// One step of a ``Plan``.
public struct PlanStep: Sendable, Equatable {
    /// What the step does.
    public enum Action: Sendable, Equatable {
        /// Write `value` to the attribute file `path` under the target root.
        case writeAttribute(path: String, value: String)
        /// Run a QMP command.
        case qmp(command: String, arguments: String?)
        /// Run an external tool.
        case exec([String])
        /// Write into a guest's firmware memory.
        case writeMemory(address: UInt64, bytes: [UInt8])
        /// Ask another backend for its plan.
        case notify(backend: String, arguments: [String: String])
        /// Wait.
        case sleep(microseconds: UInt64)
        /// Run the `count` steps before this one `times` more times, pausing before each time.
        case repeatSteps(count: Int, times: UInt64, intervalMicroseconds: UInt64)
        /// Send an IPMI request to the target's BMC.
        case ipmi(netFunction: UInt8, command: UInt8, data: [UInt8])
        /// Wait until the 32-bit word at a guest-physical address of firmware memory reads zero.
        case waitMemoryZero(address: UInt64, timeoutMicroseconds: UInt64)
        /// Write a binary record to a character device (ABI 1.4).
        case writeDevice(path: String, bytes: [UInt8])
    }

    /// What the step does.
    public var action: Action
    /// One line for people.
    public var note: String?
    /// What to do when the step fails.
    public var hint: String?
    /// Whether this step raises the error (the journal is flushed before it).
    public var isTrigger: Bool

    /// Creates a step.
    public init(_ action: Action, note: String? = nil, hint: String? = nil, isTrigger: Bool = false) {
        self.action = action
        self.note = note
        self.hint = hint
        self.isTrigger = isTrigger
    }
}

/// A kernel event a plan should cause.
public enum Expectation: Sendable, Equatable {
    /// A tracepoint (`system:event`) whose fields match `fields` (`name=value ...`).
    case traceEvent(String, fields: String, note: String? = nil)
    /// A kernel log line containing `text`.
    case kernelLog(String, note: String? = nil)
    /// The counter file `path` (under the root) grows by at least `delta`. A path `FILE#NAME`
    /// reads the number on the line `NAME value` of a keyed file (aer_dev_correctable's
    /// `TOTAL_ERR_COR 3`); it needs a host of ABI 1.4.
    case counter(String, delta: Int64, note: String? = nil)
    /// The counter file `path` grows by exactly `delta`; with 0, it does not move (another DIMM's
    /// counter, for example). Needs a host of ABI 1.3; an older one refuses the plan with that reason.
    case counterExact(String, delta: Int64, note: String? = nil)
}

/// One feature of a target, as `probe` reports it.
public struct Capability: Sendable, Equatable {
    /// Short name, such as `mce-inject`.
    public var name: String
    /// Whether the target offers it.
    public var isAvailable: Bool
    /// What was found, or why it is missing and how to get it.
    public var detail: String

    /// Creates a capability report.
    public init(_ name: String, available: Bool, _ detail: String) {
        self.name = name
        self.isAvailable = available
        self.detail = detail
    }
}
