import InjectPluginABI

/// One kind of step a plan may hold. Each kind is one type that describes itself for `--dry-run`,
/// encodes its fields for the journal and `--json`, and performs itself against a target; the
/// kinds plugins plan through the C ABI also read themselves from `inject_step`
/// (``ABIStepKind``), found through ``StepKinds/table``. A new transport is one such type, one
/// line in that table, its slot in the header and the SDK's case.
public protocol StepAction: Sendable {
    /// The word naming this kind in the journal and in `--json` (`write`, `qmp`, `device`, ...).
    static var kind: String { get }
    /// One line for people, as `--dry-run` prints it: paths shown under `root`, QMP as JSON,
    /// command lines quoted.
    func describe(root: FilePath) -> String
    /// Adds the step's own fields (not its kind, note, hint or trigger flag) to a journal record.
    func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws
    /// Carries the step out on the performer's target.
    ///
    /// - Parameter hint: the plan's advice for when it fails (a module to load, a mount).
    /// - Returns: output worth showing (a QMP reply, a tool's output), or `nil`.
    func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String?
    /// Whether `other` is the same step (same kind, same fields).
    func isSame(as other: any StepAction) -> Bool
}

extension StepAction where Self: Equatable {
    public func isSame(as other: any StepAction) -> Bool { (other as? Self) == self }
}

/// The field names of a step in the journal and in `--json`.
public enum StepField: String, CodingKey {
    case kind, backend, path, value, command, arguments, argv, address, bytes, assignments, microseconds
    case note, hint, trigger, steps, times
}

/// A step kind that plugins plan through the C ABI: an `INJECT_STEP_*` value and a reader of its
/// `inject_step` struct.
protocol ABIStepKind: StepAction {
    /// The `INJECT_STEP_*` value.
    static var abiKind: UInt32 { get }
    /// Reads the step from `step`, whose `struct_size` is `size`; `earlier` are the steps the
    /// plugin planned before it in this call.
    ///
    /// - Throws: ``StepContractViolation`` naming what the struct got wrong; the call then fails.
    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self
}

/// What a plugin's step struct got wrong, in one line.
struct StepContractViolation: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The step kinds plugins can plan, by their `INJECT_STEP_*` value.
enum StepKinds {
    /// Every kind the host reads from the ABI. A new transport adds its type here.
    static let all: [any ABIStepKind.Type] = [
        WriteAttributeStep.self, QMPStep.self, ExecStep.self, WriteMemoryStep.self, NotifyStep.self,
        SleepStep.self, RepeatStep.self, IPMIStep.self, WaitMemoryZeroStep.self, WriteDeviceStep.self,
    ]

    /// The kinds keyed by `INJECT_STEP_*`.
    static let table: [UInt32: any ABIStepKind.Type] = Dictionary(uniqueKeysWithValues: all.map { ($0.abiKind, $0) })

    /// The lowest and highest `INJECT_STEP_*` this host knows, for messages.
    static var knownRange: ClosedRange<UInt32> { table.keys.min()!...table.keys.max()! }
}

extension inject_step {
    /// A C string field as text; `nil` for NULL.
    static func text(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }

    /// `data_length` bytes at `data`, when the length is within `range` and the pointer is set.
    func bytes(in range: ClosedRange<Int>) -> [UInt8]? {
        guard range.contains(data_length), let data else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: data_length))
    }
}
