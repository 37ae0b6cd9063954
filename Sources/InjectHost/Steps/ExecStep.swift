import InjectPluginABI

/// Runs an external tool, without a shell.
public struct ExecStep: ABIStepKind, Equatable {
    public static let kind = "exec"
    static let abiKind = INJECT_STEP_EXEC.rawValue

    /// The tool (looked up in PATH) and its arguments.
    public var argv: [String]

    /// Creates the step.
    public init(argv: [String]) { self.argv = argv }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard step.argc > 0, step.argc <= 256, let argv = step.argv else {
            throw StepContractViolation("an exec step needs 1...256 arguments")
        }
        var words: [String] = []
        for index in 0..<Int(step.argc) {
            guard let word = inject_step.text(argv[index]) else {
                throw StepContractViolation("exec argv[\(index)] is NULL")
            }
            words.append(word)
        }
        return Self(argv: words)
    }

    public func describe(root: FilePath) -> String { "exec \(argv.map(shellWord).joined(separator: " "))" }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(argv, forKey: .argv)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        try await ToolRunner.run(argv, hint: hint).output
    }
}
