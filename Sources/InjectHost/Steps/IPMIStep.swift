import InjectPluginABI

/// Sends an IPMI request to the target's BMC.
public struct IPMIStep: ABIStepKind, Equatable {
    public static let kind = "ipmi"
    static let abiKind = INJECT_STEP_IPMI.rawValue

    /// The request.
    public var request: IPMIRequest

    /// Creates the step.
    public init(_ request: IPMIRequest) { self.request = request }

    static func read(_ step: inject_step, size: UInt32, earlier: [PlannedStep]) throws(StepContractViolation) -> Self {
        guard let bytes = step.bytes(in: 2...64) else {
            throw StepContractViolation("an IPMI step needs 2...64 bytes: network function, command, request data")
        }
        return Self(IPMIRequest(netFunction: bytes[0], command: bytes[1], data: Array(bytes.dropFirst(2))))
    }

    public func describe(root: FilePath) -> String {
        "ipmi \(request.hexWords.joined(separator: " "))  (\(request.name))"
    }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(request.hexWords.joined(separator: " "), forKey: .bytes)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        guard let route = performer.target.ipmiRoute else { throw TargetError.noIPMI }
        let response = try await IPMIClient.send(request, route: route)
        return response.isEmpty ? nil : "response " + hexDigits(response, separator: " ")
    }
}
