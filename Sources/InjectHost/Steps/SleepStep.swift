import InjectPluginABI

/// Pauses between steps.
public struct SleepStep: ABIStepKind, Equatable {
    public static let kind = "sleep"
    static let abiKind = INJECT_STEP_SLEEP.rawValue

    /// How long.
    public var microseconds: UInt64

    /// Creates the step.
    public init(microseconds: UInt64) { self.microseconds = microseconds }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard step.microseconds <= 60_000_000 else { throw StepContractViolation("a sleep step may last at most 60 s") }
        return Self(microseconds: step.microseconds)
    }

    public func describe(root: FilePath) -> String { "sleep \(microseconds) us" }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(microseconds, forKey: .microseconds)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        usleep(UInt32(clamping: microseconds))
        return nil
    }
}
