import Testing

@testable import InjectHost

/// Which policy a log line tells of, for the request's page and no other.
@Suite struct PolicyWatchTests {
    @Test func theCollectorTheSoftOfflineAndRasdaemonAreToldApartAndOtherPagesIgnored() {
        let pfn: UInt64 = 0x5a5a
        #expect(
            PolicyWatch.action("kernel [   12.5] RAS: Soft-offlining pfn: 0x5a5a", pfn: pfn)?.policy == "kernel CEC")
        #expect(
            PolicyWatch.action("kernel [   12.6] Soft offline: 0x5a5a: page already poisoned", pfn: pfn)?.policy
                == "kernel soft offline")
        #expect(
            PolicyWatch.action("rasdaemon Result of offlining page at 0x5a5a000: offlined", pfn: pfn)?.policy
                == "rasdaemon page isolation")
        // Another page, another source, or a line that is not a policy's.
        #expect(PolicyWatch.action("kernel RAS: Soft-offlining pfn: 0x5a5b", pfn: pfn) == nil)
        #expect(PolicyWatch.action("kernel RAS: Soft-offlining pfn: 0x5a5a0", pfn: pfn) == nil)
        #expect(PolicyWatch.action("rasdaemon Result of offlining page at 0x5a5b000: offlined", pfn: pfn) == nil)
        #expect(PolicyWatch.action("kernel Hardware error from APEI Generic Hardware Error Source: 0", pfn: pfn) == nil)
        #expect(PolicyWatch.action("other RAS: Soft-offlining pfn: 0x5a5a", pfn: pfn) == nil)
    }

    @Test func expectPolicyNamesAnOwnerAndIsJudgedByWhatActed() throws {
        #expect(try ExpectedOutcome(parsing: "policy:rasdaemon", backend: "edac") == .policy(name: "rasdaemon"))
        #expect(try ExpectedOutcome(parsing: "Policy:Kernel", backend: "edac") == .policy(name: "kernel"))
        #expect(throws: ConfigurationError.self) { try ExpectedOutcome(parsing: "policy:mcelog", backend: "edac") }
        #expect(ExpectedOutcome.policy(name: "kernel").needsEachVerification)
        let actions = [
            PolicyAction(policy: "kernel CEC", line: "RAS: Soft-offlining pfn: 0x5a5a", latencyMilliseconds: 800)
        ]
        let kernel = PolicyWatch.finding("kernel", pfn: 0x5a5a, actions: actions)
        #expect(kernel.matched && kernel.latencyMilliseconds == 800 && kernel.expected.contains("page 0x5a5a"))
        let rasdaemon = PolicyWatch.finding("rasdaemon", pfn: 0x5a5a, actions: actions)
        #expect(!rasdaemon.matched && rasdaemon.evidence == "only kernel CEC acted")
        #expect(PolicyWatch.finding("rasdaemon", pfn: 0x5a5a, actions: []).evidence == "no policy acted on the page")
    }

    /// A page the collector chose that soft offline could not take is named as kernel memory from
    /// its flags (7.2's lab, measured: pfn 0x5b5b was 0x80, slab; once 0x100000000, reserved).
    @Test func anUnmovablePageIsNamedFromItsFlags() {
        #expect(ExpectedOutcome.unmovable(0x80)?.contains("kernel memory (slab)") == true)
        #expect(ExpectedOutcome.unmovable(0x1_0000_0000)?.contains("(reserved)") == true)
        #expect(ExpectedOutcome.unmovable(0x28) == nil, "uptodate and LRU: a page-cache page is movable")
    }
}
