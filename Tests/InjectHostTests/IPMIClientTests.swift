import Testing

@testable import InjectHost

/// The IPMI transport's command lines, endpoint parsing and response parsing (the lab tests drive
/// a real BMC).
@Suite("IPMI transport")
struct IPMIClientTests {
    let watchdog = IPMIRequest(netFunction: 0x06, command: 0x24, data: [0x04, 0x21, 59, 0x00, 0x58, 0x02])

    @Test func routesBuildTheirIpmitoolCommandLines() throws {
        #expect(
            IPMIClient.argv(watchdog, route: .inBand)
                == ["ipmitool", "-I", "open", "raw", "0x06", "0x24", "0x04", "0x21", "0x3b", "0x00", "0x58", "0x02"])
        let bmc = try BMCEndpoint(parsing: "10.0.0.5:6230", user: "ops")
        let lan = IPMIClient.argv(IPMIRequest(netFunction: 0, command: 2, data: [4]), route: .lan(bmc))
        #expect(
            lan == [
                "ipmitool", "-I", "lanplus", "-H", "10.0.0.5", "-p", "6230", "-U", "ops", "-E", "raw", "0x00", "0x02",
                "0x04",
            ])
        #expect(!lan.contains { $0.contains("-P") }, "the password never goes on the command line")
    }

    @Test func endpointsDefaultToPort623AndRefuseBadPorts() throws {
        #expect(try BMCEndpoint(parsing: "bmc.example", user: "admin").port == 623)
        #expect(throws: TargetError.self) { try BMCEndpoint(parsing: "bmc:70000", user: "admin") }
        #expect(throws: TargetError.self) { try BMCEndpoint(parsing: ":623", user: "admin") }
    }

    @Test func responsesAndRefusalsAreRead() {
        #expect(IPMITool.parseResponse(" 01 80 00\n 1f") == [0x01, 0x80, 0x00, 0x1f])
        let refusal = IPMITool.refusal(
            ["ipmitool"],
            "Unable to send RAW command (channel=0x0 netfn=0x0 lun=0x0 cmd=0x2 rsp=0xd5): Command not supported")
        #expect(refusal?.description.contains("completion code 0xd5") == true)
        #expect(IPMITool.refusal(["ipmitool"], "Could not open device at /dev/ipmi0") == nil)
    }

    @Test func onlyRealTargetsHaveARoute() {
        #expect(InjectionTarget(root: "/").ipmiRoute?.isInBand == true)
        #expect(InjectionTarget(root: "/tmp/tree").ipmiRoute == nil)
    }
}
