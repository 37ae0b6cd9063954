import InjectPluginABI

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
