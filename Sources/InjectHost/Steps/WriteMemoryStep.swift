import InjectPluginABI

/// Writes bytes at a guest-physical address of the target's firmware memory (a GHES status block).
public struct WriteMemoryStep: ABIStepKind, Equatable {
    public static let kind = "memory"
    static let abiKind = INJECT_STEP_WRITE_MEMORY.rawValue

    /// The guest-physical address.
    public var address: UInt64
    /// What is written there.
    public var bytes: [UInt8]

    /// Creates the step.
    public init(address: UInt64, bytes: [UInt8]) {
        self.address = address
        self.bytes = bytes
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let bytes = step.bytes(in: 1...(1 << 20)) else {
            throw StepContractViolation("a memory step needs 1 byte to 1 MiB of data")
        }
        return Self(address: step.address, bytes: bytes)
    }

    public func describe(root: FilePath) -> String {
        "memory \(hexNumber(address)) <- \(bytes.count) bytes (\(hexDigits(bytes.prefix(16)))\(bytes.count > 16 ? "..." : ""))"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(hexNumber(address), forKey: .address)
        try container.encode(hexDigits(bytes), forKey: .bytes)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        try FileIO.write(bytes, at: Int64(bitPattern: address), of: try performer.firmwareMemory())
        return nil
    }
}
