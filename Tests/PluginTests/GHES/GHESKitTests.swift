import FirmwareFormats
import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import GHESKit

/// The ghes backend's knowledge on its own: records it writes decode back to what was asked, its
/// block is found through the target's HEST (the same table code the lab builds with), and its
/// notification follows the source's.
@Suite("GHES kit")
struct GHESKitTests {
    /// A target with the lab's kind of firmware: a HEST with a polled and an NMI source, and
    /// registers pointing at their blocks.
    func firmwareTarget() -> TestTarget {
        let hest = HEST(sources: [
            .ghes(
                id: 0,
                .init(
                    register: 0x1000_0000, blockLength: 0x1000,
                    notification: .init(.polled, pollIntervalMilliseconds: 100))),
            .ghes(id: 1, .init(register: 0x1000_0008, blockLength: 0x1000, notification: .init(.nmi))),
        ])
        var pointers = ByteWriter()
        pointers.put(UInt64(0x1000_1000))
        pointers.put(UInt64(0x1000_2000))
        let target = TestTarget(memory: [0x1000_0000: pointers.bytes])
        target.files["sys/firmware/acpi/tables/HEST"] = hest.encoded()
        target.files["sys/devices/system/machinecheck/machinecheck0/bank1"] = Array("1".utf8)
        return target
    }

    func record(_ plan: Plan) throws -> (UInt64, GenericErrorStatusBlock) {
        for step in plan.steps {
            if case .writeMemory(let address, let bytes) = step.action {
                return (address, try GenericErrorStatusBlock(decoding: bytes))
            }
        }
        throw BackendError.invalid("no memory write in \(plan.steps)")
    }

    @Test func aMemoryRecordLandsInThePolledSourcesBlockAndDecodesBack() throws {
        let plan = try firmwareTarget().plan(
            GHESBackend(), ["source": "0", "address": "0x2000", "node": "1", "module": "3", "fru_text": "DIMM_A1"])
        let (address, block) = try record(plan)
        #expect(address == 0x1000_1000)
        let entry = try #require(block.entries.first)
        #expect(entry.severity == .corrected && entry.fruText == "DIMM_A1")
        guard case .fixed(let section) = entry.section else {
            Issue.record("not a fixed section")
            return
        }
        #expect(section["physical_address"] == 0x2000 && section["node"] == 1 && section["module"] == 3)
        // The previous record must have been consumed before this one is written.
        guard case .waitMemoryZero(let waited, _) = plan.steps.first?.action else {
            Issue.record("no wait first")
            return
        }
        #expect(waited == 0x1000_1000)
        #expect(plan.expectations.contains(.kernelLog("physical_address: 0x0000000000002000")))
        // Polled: nothing to raise.
        #expect(!plan.steps.contains { if case .notify = $0.action { true } else { false } })
    }

    @Test func theNMISourcesRecordIsRoutedToTheNMIBackend() throws {
        let plan = try firmwareTarget().plan(
            GHESBackend(), ["source": "1", "section": "processor", "address": "0x5000"])
        #expect(try record(plan).0 == 0x1000_2000)
        #expect(plan.steps.last?.action == .notify(backend: "nmi", arguments: ["signal": "nmi"]))
    }

    @Test func aSourceTheHESTLacksIsRefusedNamingTheOnesItHas() {
        do {
            _ = try firmwareTarget().plan(GHESBackend(), ["source": "7"])
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("source=7 is not a GHES source") && "\(error)".contains("GHES sources: 0, 1"))
        }
    }

    @Test func probeListsTheHESTSources() throws {
        let hest = try #require(try firmwareTarget().probe(GHESBackend()).first { $0.name == "hest" })
        #expect(hest.isAvailable)
        #expect(hest.detail.contains("source 0: GHES, notified by polled every 100 ms"))
        #expect(hest.detail.contains("source 1: GHES, notified by NMI"))
    }

    @Test func itsEventsDecodeTheSectionType() {
        #expect(
            GHESBackend().decode(
                event: "ras:non_standard_event", fields: ["sec_type": "a5bc1114-6f64-4ede-b863-3e83ed7c83b1"])
                == ["section": "platform memory error"])
        #expect(
            GHESBackend().decode(
                event: "ras:non_standard_event", fields: ["sec_type": "12345678-1234-1234-1234-123456789abc"])
                == ["section": "vendor-defined"])
    }

    func einjWrites(_ values: [String: String]) throws -> [String: String] {
        let directory = "sys/kernel/debug/apei/einj"
        let target = TestTarget(
            files: Dictionary(
                uniqueKeysWithValues: [
                    "available_error_type", "error_type", "flags", "param1", "param2",
                    "param3", "param4", "notrigger", "error_inject",
                ].map { ("\(directory)/\($0)", "") }))
        let plan = try target.plan(GHESBackend(), ["via": "einj"].merging(values) { $1 })
        return Dictionary(
            uniqueKeysWithValues: plan.steps.compactMap { step -> (String, String)? in
                if case .writeAttribute(let path, let value) = step.action {
                    return (String(path.split(separator: "/").last!), value)
                }
                return nil
            })
    }

    @Test func einjFlagsSayWhichParametersAreValid() throws {
        // A memory address: bit 1 with param1/param2.
        let memory = try einjWrites(["address": "0x3456000"])
        #expect(memory["flags"] == "0x2" && memory["param1"] == "0x3456000" && memory["param2"] == "0xfffffffffffff000")
        // param3 is the APIC ID (bit 0), not a PCIe SBDF.
        let processor = try einjWrites(["section": "processor", "param3": "2"])
        #expect(
            processor["error_type"] == "0x1" && processor["flags"] == "0x1" && processor["param3"] == "0x2"
                && processor["param4"] == nil)
        // A PCIe device is param4 (bit 2): segment, bus, device, function as ACPI lays them out.
        let pcie = try einjWrites(["section": "pcie", "bus": "1", "pcie_device": "3", "pcie_function": "1"])
        #expect(pcie["error_type"] == "0x40" && pcie["flags"] == "0x4" && pcie["param4"] == "0x11900")
        // EINJ holds a segment in 8 bits: a wider one is refused, naming the value and the range.
        #expect(throws: BackendError.self) { try einjWrites(["section": "pcie", "segment": "0x100", "bus": "1"]) }
        do {
            _ = try einjWrites(["section": "pcie", "segment": "256", "bus": "1"])
        } catch {
            #expect("\(error)".contains("segment=256") && "\(error)".contains("0-255"), "\(error)")
        }
    }

    /// EINJ's CXL types: kernels without einj-cxl do not list them in available_error_type (the
    /// error_type write checks the platform's), so they are not refused for that; where the kernel
    /// does list CXL types, one it does not list is refused. The report is the cxl backend's to expect.
    @Test func einjCXLTypesAreLeftToThePlatformWhereTheKernelListsNone() throws {
        let directory = "sys/kernel/debug/apei/einj"
        func target(_ offered: String) -> TestTarget {
            TestTarget(files: ["\(directory)/available_error_type": offered + "\n", "\(directory)/error_type": ""])
        }
        let basic = "0x00000008\tMemory Correctable\n0x00000040\tPCI Express Correctable"
        let plan = try target(basic).plan(GHESBackend(), ["via": "einj", "error_type": "0x8000", "param4": "0xc0000"])
        #expect(plan.steps.contains { $0.action == .writeAttribute(path: "\(directory)/error_type", value: "0x8000") })
        #expect(plan.steps.contains { $0.action == .writeAttribute(path: "\(directory)/flags", value: "0x4") })
        #expect(plan.expectations.isEmpty && plan.confirmationReasons.isEmpty)
        #expect(
            try !target(basic).plan(GHESBackend(), ["via": "einj", "error_type": "0x10000", "param4": "0xc0000"])
                .confirmationReasons.isEmpty)
        #expect(throws: BackendError.self) {
            try target(basic).plan(GHESBackend(), ["via": "einj", "error_type": "0x80", "bus": "1", "section": "pcie"])
        }
        #expect(throws: BackendError.self) {
            try target(basic + "\n0x00001000\tCXL.cache Protocol Correctable").plan(
                GHESBackend(), ["via": "einj", "error_type": "0x8000", "param4": "0xc0000"])
        }
    }
}
