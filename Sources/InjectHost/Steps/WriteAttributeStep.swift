import InjectPluginABI

/// Writes a value to an attribute file of the target (sysfs, debugfs, procfs) in one write.
public struct WriteAttributeStep: ABIStepKind, Equatable {
    public static let kind = "write"
    static let abiKind = INJECT_STEP_WRITE_ATTRIBUTE.rawValue

    /// The attribute, relative to the target's root.
    public var path: TargetPath
    /// The text written.
    public var value: String

    /// Creates the step.
    public init(path: TargetPath, value: String) {
        self.path = path
        self.value = value
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let path = inject_step.text(step.path), let value = inject_step.text(step.value) else {
            throw StepContractViolation("a write step needs path and value")
        }
        guard let target = try? TargetPath(path) else {
            throw StepContractViolation(TargetError.unsafePath(path).description)
        }
        return Self(path: target, value: value)
    }

    public func describe(root: FilePath) -> String {
        "write \(path.under(root).string) = \"\(cEscaped(value))\""
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(path.relative, forKey: .path)
        try container.encode(value, forKey: .value)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        try performer.write(value, to: path, hint: hint)
        return nil
    }
}
