import InjectPluginABI

/// Runs a command on the target's QEMU monitor (QMP); HMP through `human-monitor-command`.
public struct QMPStep: ABIStepKind, Equatable {
    public static let kind = "qmp"
    static let abiKind = INJECT_STEP_QMP.rawValue

    /// The QMP command.
    public var command: String
    /// Its arguments (a JSON object), if any.
    public var arguments: JSONValue?

    /// Creates the step.
    public init(command: String, arguments: JSONValue?) {
        self.command = command
        self.arguments = arguments
    }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let command = inject_step.text(step.command), !command.isEmpty else {
            throw StepContractViolation("a QMP step needs a command")
        }
        guard let text = inject_step.text(step.arguments), !text.trimmed().isEmpty else {
            return Self(command: command, arguments: nil)
        }
        guard let parsed = try? JSONValue.parse(text), case .object = parsed else {
            throw StepContractViolation("QMP arguments for \(command) are not a JSON object: \(text)")
        }
        return Self(command: command, arguments: parsed)
    }

    public func describe(root: FilePath) -> String {
        var request: [String: JSONValue] = ["execute": .string(command)]
        if let arguments { request["arguments"] = arguments }
        return "qmp \(JSONValue.object(request))"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(command, forKey: .command)
        try container.encodeIfPresent(arguments, forKey: .arguments)
    }

    /// Runs the command on the performer's connection; a refusal says which QEMU answered and
    /// what the plan suggests instead.
    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        let qmp = try performer.monitor(for: command)
        do throws(TargetError) {
            let reply = try qmp.execute(command, arguments: arguments)
            // HMP reports a failure only as text in a successful QMP reply.
            if command == "human-monitor-command", let text = reply.stringValue, QMPClient.isHMPFailure(text) {
                throw TargetError.qmpCommandFailed(command: command, errorClass: "HMP", message: text.trimmed())
            }
            return reply.description
        } catch .qmpCommandFailed(let failed, let errorClass, let message) {
            var text = message
            if errorClass == "CommandNotFound", let version = try? qmp.execute("query-version")["qemu"] {
                let number = ["major", "minor", "micro"].compactMap { version[$0]?.description }.joined(separator: ".")
                text += " (this QEMU is \(number))"
            }
            if let hint { text += "; \(hint)" }
            throw TargetError.qmpCommandFailed(command: failed, errorClass: errorClass, message: text)
        }
    }
}
