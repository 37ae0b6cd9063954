import InjectPluginABI

/// Waits until the 32-bit word at a guest-physical address of firmware memory reads zero: the OS
/// has consumed the previous record of a GHES status block.
public struct WaitMemoryZeroStep: ABIStepKind, Equatable {
    public static let kind = "wait-zero"
    static let abiKind = INJECT_STEP_WAIT_MEMORY_ZERO.rawValue

    /// The guest-physical address of the word.
    public var address: UInt64
    /// The longest wait.
    public var microseconds: UInt64

    /// Creates the step.
    public init(address: UInt64, microseconds: UInt64) {
        self.address = address
        self.microseconds = microseconds
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard step.microseconds <= 60_000_000 else { throw StepContractViolation("a wait step waits at most 60 s") }
        return Self(address: step.address, microseconds: step.microseconds)
    }

    public func describe(root: FilePath) -> String {
        "wait until memory \(hexNumber(address)) reads zero (at most \(microseconds / 1000) ms)"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(hexNumber(address), forKey: .address)
        try container.encode(microseconds, forKey: .microseconds)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        let memory = try performer.firmwareMemory()
        let deadline = HostClock.monotonicNanoseconds() + microseconds * 1000
        while try FileIO.read(4, at: Int64(bitPattern: address), of: memory) != [0, 0, 0, 0] {
            guard HostClock.monotonicNanoseconds() < deadline else {
                throw TargetError.recordNotConsumed(address: address, milliseconds: microseconds / 1000)
            }
            usleep(1000)
        }
        return nil
    }
}
