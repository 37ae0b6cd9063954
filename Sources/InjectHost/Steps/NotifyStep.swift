import InjectPluginABI

/// Asks another backend for its steps (the planner expands it: plugins never call each other);
/// a GHES record notified through NMI, for example.
public struct NotifyStep: ABIStepKind, Equatable {
    public static let kind = "notify"
    static let abiKind = INJECT_STEP_NOTIFY.rawValue

    /// The backend that notifies.
    public var backend: String
    /// Its parameters.
    public var assignments: [ParameterAssignment]

    /// Creates the step.
    public init(backend: String, assignments: [ParameterAssignment]) {
        self.backend = backend
        self.assignments = assignments
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let backend = inject_step.text(step.backend), !backend.isEmpty else {
            throw StepContractViolation("a notify step needs a backend name")
        }
        guard size >= INJECT_STEP_SIZE_1_2 && step.argument_count > 0 else {
            // ABI 1.0's form: name=value words in one string.
            let text = inject_step.text(step.arguments) ?? ""
            guard let request = try? InjectionRequest(backend, words: text.split(separator: " ").map(String.init))
            else {
                throw StepContractViolation("notify arguments must be name=value words: \(text)")
            }
            return Self(backend: backend, assignments: request.assignments)
        }
        guard step.argument_count <= 256, let names = step.argument_names, let values = step.argument_values else {
            throw StepContractViolation("a notify step's arguments need 1...256 names and values")
        }
        var assignments: [ParameterAssignment] = []
        for index in 0..<Int(step.argument_count) {
            guard let name = inject_step.text(names[index]), let value = inject_step.text(values[index]) else {
                throw StepContractViolation("notify argument \(index) has a NULL name or value")
            }
            assignments.append(ParameterAssignment(name, .text(value)))
        }
        return Self(backend: backend, assignments: assignments)
    }

    public func describe(root: FilePath) -> String {
        "notify \(backend) \(assignments.map { "\($0.name)=\($0.value.text)" }.joined(separator: " "))"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(backend, forKey: .command)
        try container.encode(assignments, forKey: .assignments)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        throw TargetError.tool(
            argv: ["notify", backend], reason: "notification was not routed by the planner", hint: nil)
    }
}
