import InjectPluginABI

/// Runs the `count` steps before it `times` more times, pausing before each time: a storm. The
/// executor runs the repetitions itself (holding files open, or in batches where the kernel is).
public struct RepeatStep: ABIStepKind, Equatable {
    public static let kind = "repeat"
    static let abiKind = INJECT_STEP_REPEAT.rawValue

    /// How many steps before this one are repeated.
    public var count: Int
    /// How many more times.
    public var times: UInt64
    /// The pause before each time.
    public var intervalMicroseconds: UInt64

    /// Creates the step.
    public init(count: Int, times: UInt64, intervalMicroseconds: UInt64) {
        self.count = count
        self.times = times
        self.intervalMicroseconds = intervalMicroseconds
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard size >= INJECT_STEP_SIZE_1_1 else {
            throw StepContractViolation(
                "a repeat step needs ABI 1.1's inject_step (struct_size \(INJECT_STEP_SIZE_1_1))")
        }
        let count = Int(step.repeat_steps)
        guard count >= 1, count <= earlier.count else {
            throw StepContractViolation("a repeat step covers 1...\(earlier.count) earlier steps, not \(count)")
        }
        guard !earlier.suffix(count).contains(where: { $0.action is RepeatStep }) else {
            throw StepContractViolation("a repeat step may not repeat another repeat step")
        }
        guard step.repeat_times >= 1, step.repeat_times <= 10_000_000 else {
            throw StepContractViolation("a repeat step runs 1...10000000 more times, not \(step.repeat_times)")
        }
        guard step.microseconds <= 60_000_000 else { throw StepContractViolation("a repeat step pauses at most 60 s") }
        return Self(count: count, times: step.repeat_times, intervalMicroseconds: step.microseconds)
    }

    public func describe(root: FilePath) -> String { "repeat the \(count) step(s) before \(times) more time(s)" }

    /// The step as `--dry-run` shows it at position `index` (from 0): which steps it repeats.
    public func describe(at index: Int) -> String {
        let block = count == 1 ? "step \(index)" : "steps \(index - count + 1)-\(index)"
        return "repeat \(block) \(times) more time(s)"
            + (intervalMicroseconds > 0 ? ", \(intervalMicroseconds) us before each" : "")
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(count, forKey: .steps)
        try container.encode(times, forKey: .times)
        try container.encode(intervalMicroseconds, forKey: .microseconds)
    }

    /// Nothing: the executor runs the repetitions.
    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? { nil }
}
