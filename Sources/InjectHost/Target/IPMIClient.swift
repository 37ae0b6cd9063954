/// One raw IPMI request: network function, command and request data.
public struct IPMIRequest: Sendable, Equatable {
    /// The network function (0x00 chassis, 0x06 application, ...).
    public var netFunction: UInt8
    /// The command within the network function.
    public var command: UInt8
    /// The request data.
    public var data: [UInt8]

    /// Creates a request.
    public init(netFunction: UInt8, command: UInt8, data: [UInt8] = []) {
        self.netFunction = netFunction
        self.command = command
        self.data = data
    }

    /// Every byte as `0x..`, as `ipmitool raw` takes them.
    public var hexWords: [String] { ([netFunction, command] + data).map { "0x" + ValueParser.hexByte($0) } }

    /// The request's name where it is a well-known one.
    public var name: String {
        switch (netFunction, command) {
        case (0x00, 0x02): return "Chassis Control" + (data.first == 0x04 ? ": pulse diagnostic interrupt" : "")
        case (0x06, 0x22): return "Reset Watchdog Timer: start the countdown"
        case (0x06, 0x24): return "Set Watchdog Timer"
        default: return "netfn 0x\(ValueParser.hexByte(netFunction)) cmd 0x\(ValueParser.hexByte(command))"
        }
    }
}

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

/// A BMC reached over the network.
public struct BMCEndpoint: Sendable, Equatable {
    /// Host name or address.
    public var host: String
    /// RMCP+ port.
    public var port: Int
    /// User name.
    public var user: String

    /// Parses `HOST[:PORT]` (port 623 by default).
    ///
    /// - Throws: ``TargetError/tool(argv:reason:hint:)`` for an empty host or a bad port.
    public init(parsing text: String, user: String) throws(TargetError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let host = parts.first, !host.isEmpty else {
            throw .tool(argv: ["--bmc", text], reason: "no host", hint: "give --bmc HOST[:PORT], e.g. --bmc 10.0.0.5:623")
        }
        var port = 623
        if parts.count == 2 {
            guard let given = Int(parts[1]), (1...65535).contains(given) else {
                throw .tool(argv: ["--bmc", text], reason: "port '\(parts[1])' is outside 1...65535", hint: "give --bmc HOST[:PORT]")
            }
            port = given
        }
        self.host = host
        self.port = port
        self.user = user
    }
}

/// Sends IPMI requests with ipmitool along a route.
enum IPMIClient {
    /// The ipmitool command line for `request` along `route`.
    static func argv(_ request: IPMIRequest, route: IPMIRoute) -> [String] {
        let interface: [String]
        switch route {
        case .inBand, .guest: interface = ["-I", "open"]
        case .lan(let bmc): interface = ["-I", "lanplus", "-H", bmc.host, "-p", String(bmc.port), "-U", bmc.user, "-E"]
        }
        return ["ipmitool"] + interface + ["raw"] + request.hexWords
    }

    /// Sends `request` and returns the response data (the completion code already checked by ipmitool).
    static func send(_ request: IPMIRequest, route: IPMIRoute) async throws(TargetError) -> [UInt8] {
        let command = argv(request, route: route)
        let hint = "apt-get install ipmitool; in-band needs `modprobe ipmi_si ipmi_devintf` and /dev/ipmi0"
        let output: String
        switch route {
        case .inBand, .lan:
            do {
                output = try await ToolRunner.run(command, hint: hint).output
            } catch .tool(_, let reason, _) {
                throw refusal(command, reason) ?? .tool(argv: command, reason: reason, hint: hint)
            }
        case .guest(let guest):
            let result = try guest.shell(command.map(shellQuote).joined(separator: " "), timeoutSeconds: 30)
            guard result.status == 0 else {
                let reason = "failed in \(guest.name): \(result.errorText.trimmed())"
                throw refusal(command, reason) ?? .tool(argv: command, reason: reason, hint: hint)
            }
            output = result.text
        }
        return parseResponse(output)
    }

    /// The error for a request the BMC answered with a failing completion code (`rsp=0x..` in
    /// ipmitool's message): the transport worked, so no installation hint applies.
    static func refusal(_ command: [String], _ reason: String) -> TargetError? {
        guard let range = reason.firstRange(of: "rsp=0x") else { return nil }
        let code = reason[range.upperBound...].prefix(2)
        return .tool(argv: command, reason: "the BMC refused it with completion code 0x\(code): \(reason)",
                     hint: "see the BMC's documentation for what it supports (IPMI 2.0 table 5-2 lists the codes)")
    }

    /// The bytes of ipmitool's `raw` output (hex pairs separated by spaces and newlines).
    static func parseResponse(_ text: String) -> [UInt8] {
        text.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0, radix: 16) }
    }
}
