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
