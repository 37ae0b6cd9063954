import InjectPluginABI

/// Writes a binary record to a character device in one write() (ABI 1.4): the kernel's
/// `/dev/aer_inject` takes one `struct aer_error_inj` per write.
public struct WriteDeviceStep: ABIStepKind, Equatable {
    public static let kind = "device"
    static let abiKind = INJECT_STEP_WRITE_DEVICE.rawValue

    /// The device node, relative to the target's root.
    public var path: TargetPath
    /// The record.
    public var bytes: [UInt8]

    /// Creates the step.
    public init(path: TargetPath, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let path = inject_step.text(step.path), let bytes = step.bytes(in: 1...4096) else {
            throw StepContractViolation("a device write step needs a path and 1...4096 bytes of data")
        }
        guard let target = try? TargetPath(path) else {
            throw StepContractViolation(TargetError.unsafePath(path).description)
        }
        return Self(path: target, bytes: bytes)
    }

    public func describe(root: FilePath) -> String {
        "device \(path.under(root).string) <- \(bytes.count) bytes (\(hexDigits(bytes)))"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(path.relative, forKey: .path)
        try container.encode(hexDigits(bytes), forKey: .bytes)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        try performer.files.writeDevice(bytes, to: path, hint: hint)
        return nil
    }
}
