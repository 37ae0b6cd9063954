/// Where IPMI requests go, and how they get there.
public enum IPMIRoute: Sendable {
    /// This machine's BMC through `/dev/ipmi0` (`ipmitool -I open`).
    case inBand
    /// A guest's BMC through the guest's `/dev/ipmi0`: ipmitool runs in the guest.
    case guest(any GuestConnection)
    /// A BMC over the network (RMCP+, `ipmitool -I lanplus`); the password is read from
    /// `IPMI_PASSWORD` (`ipmitool -E`), never put on a command line.
    case lan(BMCEndpoint)
}

extension IPMIRoute {
    /// Whether requests go to this machine's own BMC.
    public var isInBand: Bool { if case .inBand = self { true } else { false } }
}

/// Sends IPMI requests with ipmitool along a route: here, or in the guest that has the BMC.
enum IPMIClient {
    /// The ipmitool command line for `request` along `route`.
    static func argv(_ request: IPMIRequest, route: IPMIRoute) -> [String] {
        switch route {
        case .inBand, .guest: IPMITool.argv(request, interface: IPMITool.inBandInterface)
        case .lan(let bmc): IPMITool.argv(request, interface: IPMITool.lanInterface(bmc))
        }
    }

    /// Sends `request` and returns the response data (the completion code already checked by ipmitool).
    static func send(_ request: IPMIRequest, route: IPMIRoute) async throws(TargetError) -> [UInt8] {
        let command = argv(request, route: route)
        guard case .guest(let guest) = route else { return try await IPMITool.run(command) }
        let result = try guest.shell(command.map(shellQuote).joined(separator: " "), timeoutSeconds: 30)
        guard result.status == 0 else {
            let reason = "failed in \(guest.name): \(result.errorText.trimmed())"
            throw IPMITool.refusal(command, reason) ?? .tool(argv: command, reason: reason, hint: IPMITool.hint)
        }
        return IPMITool.parseResponse(result.text)
    }
}
