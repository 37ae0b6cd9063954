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
    public var hexWords: [String] { ([netFunction, command] + data).map { "0x" + hexByte($0) } }

    /// The request's name where it is a well-known one.
    public var name: String {
        switch (netFunction, command) {
        case (0x00, 0x02): return "Chassis Control" + (data.first == 0x04 ? ": pulse diagnostic interrupt" : "")
        case (0x06, 0x22): return "Reset Watchdog Timer: start the countdown"
        case (0x06, 0x24): return "Set Watchdog Timer"
        default: return "netfn 0x\(hexByte(netFunction)) cmd 0x\(hexByte(command))"
        }
    }
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
            throw .tool(
                argv: [Setting.bmc.named(text)], reason: "no host",
                hint: "give \(Setting.bmc.named("HOST[:PORT]")), e.g. \(Setting.bmc.named("10.0.0.5:623"))")
        }
        var port = 623
        if parts.count == 2 {
            guard let given = Int(parts[1]), (1...65535).contains(given) else {
                throw .tool(
                    argv: [Setting.bmc.named(text)], reason: "port '\(parts[1])' is outside 1...65535",
                    hint: "give \(Setting.bmc.named("HOST[:PORT]"))")
            }
            port = given
        }
        self.host = host
        self.port = port
        self.user = user
    }
}

/// Runs ipmitool: the command line for a request, its answer read back, and a refusal told apart
/// from a failure to reach the BMC.
public enum IPMITool {
    /// ipmitool's interface words for this machine's BMC (`/dev/ipmi0`).
    public static let inBandInterface = ["-I", "open"]

    /// ipmitool's interface words for a BMC over the network (RMCP+); the password is read from
    /// `IPMI_PASSWORD` (`-E`), never put on a command line.
    public static func lanInterface(_ bmc: BMCEndpoint) -> [String] {
        ["-I", "lanplus", "-H", bmc.host, "-p", String(bmc.port), "-U", bmc.user, "-E"]
    }

    /// The ipmitool command line for `request` through `interface`.
    public static func argv(_ request: IPMIRequest, interface: [String]) -> [String] {
        ["ipmitool"] + interface + ["raw"] + request.hexWords
    }

    /// What to tell a user whose ipmitool failed.
    public static let hint = "apt-get install ipmitool; in-band needs `modprobe ipmi_si ipmi_devintf` and /dev/ipmi0"

    /// Runs `command` (from ``argv(_:interface:)``) here and returns the response data (the
    /// completion code already checked by ipmitool).
    public static func run(_ command: [String]) async throws(TargetError) -> [UInt8] {
        do {
            return parseResponse(try await ToolRunner.run(command, hint: hint).output)
        } catch .tool(_, let reason, _) {
            throw refusal(command, reason) ?? .tool(argv: command, reason: reason, hint: hint)
        }
    }

    /// The error for a request the BMC answered with a failing completion code (`rsp=0x..` in
    /// ipmitool's message): the transport worked, so no installation hint applies.
    public static func refusal(_ command: [String], _ reason: String) -> TargetError? {
        guard let range = reason.firstRange(of: "rsp=0x") else { return nil }
        let code = reason[range.upperBound...].prefix(2)
        return .tool(
            argv: command, reason: "the BMC refused it with completion code 0x\(code): \(reason)",
            hint: "see the BMC's documentation for what it supports (IPMI 2.0 table 5-2 lists the codes)")
    }

    /// The bytes of ipmitool's `raw` output (hex pairs separated by spaces and newlines).
    public static func parseResponse(_ text: String) -> [UInt8] {
        text.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0, radix: 16) }
    }
}
