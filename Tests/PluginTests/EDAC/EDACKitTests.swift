import FirmwareFormats
import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import EDACKit

/// The edac backend's plans: fake_inject where the kernel has it, else a GHES record, and
/// counters expected only where a memory controller counts.
@Suite("EDAC kit")
struct EDACKitTests {
    @Test func fakeInjectWritesTheLayersThenTheTrigger() throws {
        let directory = "sys/kernel/debug/edac/mc0"
        let files = Dictionary(
            uniqueKeysWithValues: [
                "fake_inject_layer0", "fake_inject_layer1", "fake_inject_layer2", "fake_inject_ue",
                "fake_inject_count", "fake_inject",
            ].map { ("\(directory)/\($0)", "") }
                + [("sys/devices/system/edac/mc/mc0/ce_count", "0")])
        let plan = try TestTarget(files: files).plan(EDACBackend(), ["layer1": "2", "count": "3"])
        let paths = plan.steps.compactMap { step -> String? in
            if case .writeAttribute(let path, _) = step.action { return String(path.split(separator: "/").last!) }
            return nil
        }
        #expect(
            paths == [
                "fake_inject_layer0", "fake_inject_layer1", "fake_inject_layer2", "fake_inject_ue", "fake_inject_count",
                "fake_inject",
            ])
        #expect(plan.steps.last?.isTrigger == true)
        #expect(plan.expectations.contains(.counter("sys/devices/system/edac/mc/mc0/ce_count", delta: 3)))
    }

    @Test func withoutAControllerTheGHESRecordIsTheEvidenceAndNoCounterIsExpected() throws {
        let plan = try TestTarget().plan(EDACBackend(), ["via": "ghes", "address": "0x3000", "module": "2"])
        guard case .notify(let backend, let arguments) = plan.steps.first?.action else {
            Issue.record("no notification: \(plan.steps)")
            return
        }
        #expect(backend == "ghes")
        #expect(arguments["address"] == "0x3000" && arguments["module"] == "2" && arguments["severity"] == "corrected")
        #expect(
            arguments["fru_text"] == "EDAC mc0",
            "a record unlike a ghes default, which the kernel would drop as a repeat")
        #expect(plan.expectations.isEmpty)
        #expect(plan.steps.first?.note?.contains("no EDAC memory controller mc0 is registered") == true)
    }

    @Test func withAControllerTheCounterAndTheTraceEventAreExpected() throws {
        let plan = try TestTarget(files: [
            "sys/devices/system/edac/mc/mc0/ce_count": "0", "sys/devices/system/edac/mc/mc0/mc_name": "ghes_edac",
        ]).plan(EDACBackend(), ["via": "ghes", "address": "0x3000"])
        #expect(plan.expectations.contains(.counter("sys/devices/system/edac/mc/mc0/ce_count", delta: 1)))
        #expect(plan.expectations.contains(.traceEvent("ras:mc_event", fields: "error_type=Corrected mc_index=0")))
    }

    /// A ghes_edac controller with two DIMMs and the SMBIOS memory devices they stand for.
    static func ghesTarget(dimmLabels: [String] = ["P0_CH_A DIMM_A1", "P0_CH_B DIMM_B1"]) -> TestTarget {
        let mc = "sys/devices/system/edac/mc/mc0"
        var files = [
            "\(mc)/mc_name": "ghes_edac\n", "\(mc)/ce_count": "5\n", "\(mc)/ue_count": "0\n",
            "\(mc)/ce_noinfo_count": "1\n", "\(mc)/size_mb": "512\n",
        ]
        for (index, label) in dimmLabels.enumerated() {
            files["\(mc)/dimm\(index)/dimm_label"] = label + "\n"
            files["\(mc)/dimm\(index)/dimm_location"] = "memory \(index) \n"
            files["\(mc)/dimm\(index)/size"] = "256\n"
            files["\(mc)/dimm\(index)/dimm_ce_count"] = "\(index * 2)\n"
            files["\(mc)/dimm\(index)/dimm_ue_count"] = "0\n"
        }
        let target = TestTarget(files: files)
        let devices = [
            SMBIOSMemoryDevice(
                handle: 0x1100, arrayHandle: 0x1000, sizeMiB: 256, deviceLocator: "DIMM_A1", bankLocator: "P0_CH_A"),
            SMBIOSMemoryDevice(
                handle: 0x1101, arrayHandle: 0x1000, sizeMiB: 256, deviceLocator: "DIMM_B1", bankLocator: "P0_CH_B"),
        ]
        let ranges = [
            SMBIOSMemoryDeviceMappedAddress(
                handle: 0x1400, deviceHandle: 0x1100, arrayMappedAddressHandle: 0x1300, start: 0, end: 256 << 20),
            SMBIOSMemoryDeviceMappedAddress(
                handle: 0x1401, deviceHandle: 0x1101, arrayMappedAddressHandle: 0x1300, start: 256 << 20, end: 512 << 20
            ),
        ]
        target.files["sys/firmware/dmi/tables/DMI"] =
            (devices.map { $0.structure() } + ranges.map { $0.structure() }).flatMap { $0.encoded() }
            + SMBIOSStructure(type: 127, handle: 0xFEFF, formatted: []).encoded()
        return target
    }

    @Test func probeListsEveryDIMMWithItsLabelCountsAndHandle() throws {
        let capabilities = try Self.ghesTarget().probe(EDACBackend())
        let byName = Dictionary(uniqueKeysWithValues: capabilities.map { ($0.name, $0) })
        #expect(byName["controllers"]?.detail == "mc0 ghes_edac")
        #expect(byName["mc0"]?.detail == "ghes_edac, 2 DIMM(s), 512 MiB, ce 5 (without location 1) ue 0")
        #expect(
            byName["mc0/dimm0"]?.detail == "'P0_CH_A DIMM_A1' at memory 0, 256 MiB, ce 0 ue 0, SMBIOS handle 0x1100")
        #expect(
            byName["mc0/dimm1"]?.detail == "'P0_CH_B DIMM_B1' at memory 1, 256 MiB, ce 2 ue 0, SMBIOS handle 0x1101")
        #expect(byName["ghes"]?.isAvailable == true && byName["fake_inject"]?.isAvailable == false)
    }

    @Test func aDIMMByLabelGetsItsHandleAndOnlyItsCounterMayMove() throws {
        for name in ["DIMM_B1", "dimm_b1", "P0_CH_B DIMM_B1", "1"] {
            let plan = try Self.ghesTarget().plan(EDACBackend(), ["dimm": name, "count": "3"])
            guard case .notify("ghes", let arguments) = plan.steps.first?.action else {
                Issue.record("\(plan.steps)")
                return
            }
            #expect(arguments["module_handle"] == String(0x1101), "\(name)")
            #expect(plan.steps.count == 2, "one record and a repeat")
            #expect(
                plan.expectations.contains(
                    .counterExact(
                        "sys/devices/system/edac/mc/mc0/dimm1/dimm_ce_count", delta: 3,
                        note: "the DIMM 'P0_CH_B DIMM_B1'")))
            #expect(
                plan.expectations.contains(
                    .counterExact("sys/devices/system/edac/mc/mc0/dimm0/dimm_ce_count", delta: 0)))
            #expect(
                plan.expectations.contains(
                    .traceEvent("ras:mc_event", fields: "error_type=Corrected mc_index=0 label=\"P0_CH_B DIMM_B1\"")))
        }
    }

    @Test func anAddressPicksTheDIMMWhoseSMBIOSRangeHoldsIt() throws {
        let plan = try Self.ghesTarget().plan(EDACBackend(), ["address": "0x1000"])
        guard case .notify("ghes", let arguments) = plan.steps.first?.action else {
            Issue.record("\(plan.steps)")
            return
        }
        #expect(arguments["module_handle"] == String(0x1100) && arguments["address"] == "0x1000")
        #expect(
            plan.expectations.contains(
                .counterExact(
                    "sys/devices/system/edac/mc/mc0/dimm0/dimm_ce_count", delta: 1, note: "the DIMM 'P0_CH_A DIMM_A1'"))
        )
    }

    @Test func unknownAmbiguousAndMislabelledDIMMsAreRefusedWithTheChoices() throws {
        do {
            _ = try Self.ghesTarget().plan(EDACBackend(), ["dimm": "DIMM_C1"])
            Issue.record("DIMM_C1 was accepted")
        } catch let error as BackendError {
            #expect(
                error.message.contains(
                    "names no DIMM of mc0; give an index or a label: 0 'P0_CH_A DIMM_A1', 1 'P0_CH_B DIMM_B1'"))
        }
        #expect(throws: BackendError.self) {
            try Self.ghesTarget(dimmLabels: ["A DIMM_1", "B DIMM_1"]).plan(EDACBackend(), ["dimm": "DIMM_1"])
        }
        #expect(throws: BackendError.self) { try Self.ghesTarget().plan(EDACBackend(), ["dimm": "7"]) }
        // A DIMM whose label the SMBIOS table does not agree with cannot be named in a record.
        #expect(throws: BackendError.self) {
            try Self.ghesTarget(dimmLabels: ["renamed", "P0_CH_B DIMM_B1"]).plan(EDACBackend(), ["dimm": "0"])
        }
        do {
            _ = try TestTarget().plan(EDACBackend(), ["dimm": "DIMM_A1"])
            Issue.record("a DIMM was accepted without a controller")
        } catch let error as BackendError {
            #expect(
                error.message.contains("no EDAC memory controller mc0 is registered")
                    && error.message.contains("--kernel bookworm-backports"))
        }
    }

    @Test func fakeInjectTakesTheLayersFromTheDIMMsLocation() throws {
        let target = Self.ghesTarget()
        target.files["sys/devices/system/edac/mc/mc0/dimm1/dimm_location"] = Array("channel 3 slot 1 \n".utf8)
        for file in [
            "fake_inject_layer0", "fake_inject_layer1", "fake_inject_layer2", "fake_inject_ue", "fake_inject_count",
            "fake_inject",
        ] {
            target.files["sys/kernel/debug/edac/mc0/\(file)"] = []
        }
        let plan = try target.plan(EDACBackend(), ["dimm": "DIMM_B1"])
        let writes = plan.steps.compactMap { step -> String? in
            if case .writeAttribute(let path, let value) = step.action {
                return "\(path.split(separator: "/").last!)=\(value)"
            }
            return nil
        }
        #expect(writes.prefix(3) == ["fake_inject_layer0=3", "fake_inject_layer1=1", "fake_inject_layer2=0"])
    }

    @Test func uncorrectedNeedsConfirmation() throws {
        #expect(!(try TestTarget().plan(EDACBackend(), ["error": "ue", "via": "ghes"])).confirmationReasons.isEmpty)
    }
}
