import InjectPluginAPI
import InjectPluginTesting
import Testing
@testable import CXLKit

/// The cxl backend's plans: QMP commands with their fields, poison through QEMU or the kernel,
/// the poison list read, protocol errors, and the refusals.
@Suite("CXL kit")
struct CXLKitTests {
    static func target(qmp: Bool = true, qemuID: Bool = true) -> TestTarget {
        let target = TestTarget(files: [
            "sys/bus/cxl/devices/mem0/serial": "0x1\n", "sys/bus/cxl/devices/port1/uevent": "", "sys/bus/cxl/devices/decoder2.0/uevent": "",
            "sys/bus/pci/devices/0000:0d:00.0/mem0/serial": "0x1\n", "sys/bus/pci/devices/0000:01:00.0/vendor": "0x1af4\n",
            "sys/kernel/debug/cxl/mem0/inject_poison": "", "sys/kernel/debug/cxl/mem0/clear_poison": "",
        ], hasQMP: qmp)
        if qemuID { target.qemuDevices = ["0000:0d:00.0": "cxl-pmem0"] }
        return target
    }

    func qmp(_ plan: Plan) -> [(String, String?)] {
        plan.steps.compactMap { step in if case .qmp(let command, let arguments) = step.action { return (command, arguments) } else { return nil } }
    }

    @Test func eventRecordsCarryTheirFieldsAndExpectThemTraced() throws {
        let media = try Self.target().plan(CXLBackend(), ["event": "general-media", "dpa": "0x2000", "channel": "1", "rank": "2", "log": "warning", "component_id": "dimm-3"])
        let (command, arguments) = try #require(qmp(media).first)
        #expect(command == "cxl-inject-general-media-event")
        for field in ["\"path\": \"/machine/peripheral/cxl-pmem0\"", "\"dpa\": 8192", "\"channel\": 1", "\"rank\": 2", "\"log\": \"warning\"", "\"component-id\": \"dimm-3\""] {
            #expect(arguments?.contains(field) == true, "\(field) in \(arguments ?? "")")
        }
        #expect(media.expectations == [.traceEvent("cxl:cxl_general_media", fields: "memdev=mem0 serial=1 log=Warning dpa=2000 channel=1 rank=2")])
        let dram = try Self.target().plan(CXLBackend(), ["event": "dram", "bank_group": "3", "row": "5"])
        #expect(qmp(dram).first?.0 == "cxl-inject-dram-event" && qmp(dram).first?.1?.contains("\"bank-group\": 3") == true)
        let module = try Self.target().plan(CXLBackend(), ["event": "memory-module", "temperature": "-5", "log": "fatal"])
        #expect(qmp(module).first?.1?.contains("\"temperature\": -5") == true)
        #expect(module.expectations == [.traceEvent("cxl:cxl_memory_module", fields: "memdev=mem0 serial=1 log=Fatal")])
    }

    /// Poison through QEMU is seen when the kernel reads the list; the kernel's own injector and
    /// clearing trace it at once; QEMU cannot clear.
    @Test func poisonThroughQEMUOrTheKernel() throws {
        let viaQEMU = try Self.target().plan(CXLBackend(), ["event": "poison", "dpa": "0x4000", "length": "128"])
        #expect(qmp(viaQEMU).first?.1?.contains("\"start\": 16384, \"length\": 128") == true)
        #expect(viaQEMU.steps.last?.action == .writeAttribute(path: "sys/bus/cxl/devices/mem0/trigger_poison_list", value: "1"))
        #expect(viaQEMU.expectations == [.traceEvent("cxl:cxl_poison", fields: "memdev=mem0 serial=1 trace_type=List dpa=0x4000 dpa_length=0x80")])
        let clear = try Self.target().plan(CXLBackend(), ["event": "clear-poison", "dpa": "0x4000"])
        #expect(clear.steps.map(\.action) == [.writeAttribute(path: "sys/kernel/debug/cxl/mem0/clear_poison", value: "0x4000")])
        // Without a QEMU id, poison goes through the kernel.
        let host = try Self.target(qmp: false, qemuID: false).plan(CXLBackend(), ["event": "poison", "dpa": "0x5000"])
        #expect(host.steps.map(\.action) == [.writeAttribute(path: "sys/kernel/debug/cxl/mem0/inject_poison", value: "0x5000")])
        for (values, words) in [(["event": "poison", "dpa": "0x4010"], ["multiples of 64"]), (["event": "clear-poison", "via": "qemu"], ["via=debugfs"]),
                                (["event": "general-media", "via": "debugfs"], ["via=qemu"]), (["event": "poison", "via": "debugfs", "length": "128"], ["one 64-byte line"])] {
            do {
                _ = try Self.target().plan(CXLBackend(), values)
                Issue.record("accepted \(values)")
            } catch {
                for word in words { #expect("\(error)".contains(word), "\(values): \(error)") }
            }
        }
    }

    @Test func protocolErrorsAndTheirRefusals() throws {
        let correctable = try Self.target().plan(CXLBackend(), ["event": "correctable", "error": "crc-threshold"])
        #expect(qmp(correctable).first?.1?.contains("\"type\": \"crc-threshold\"") == true && correctable.confirmationReasons.isEmpty)
        let uncorrectable = try Self.target().plan(CXLBackend(), ["event": "uncorrectable", "error": "mem-data-ecc,internal"])
        #expect(qmp(uncorrectable).first?.1?.contains("{\"type\": \"mem-data-ecc\", \"header\": []}, {\"type\": \"internal\", \"header\": []}") == true)
        #expect(!uncorrectable.confirmationReasons.isEmpty)
        for (values, word) in [(["event": "correctable", "error": "nope"], "crc-threshold"), (["event": "correctable", "error": "physical,crc-threshold"], "one error"),
                               (["memdev": "mem7"], "mem0 (serial 0x1, 0000:0d:00.0, QEMU cxl-pmem0)")] {
            do {
                _ = try Self.target().plan(CXLBackend(), values)
                Issue.record("accepted \(values)")
            } catch {
                #expect("\(error)".contains(word), "\(values): \(error)")
            }
        }
        #expect(throws: BackendError.self) { try Self.target(qmp: false).plan(CXLBackend(), [:]) }
        #expect(throws: BackendError.self) { try TestTarget(hasQMP: true).plan(CXLBackend(), [:]) }
        // serial:N and the QEMU id find the same memdev.
        for spec in ["serial:1", "cxl-pmem0", "0d:00.0"] {
            #expect(try qmp(Self.target().plan(CXLBackend(), ["memdev": spec])).count == 1, "\(spec)")
        }
    }

    /// Firmware first: a CPER CXL component event section, 144 bytes, that names the device by its
    /// PCI identity and serial and carries the record with its log in the header flags.
    @Test func firmwareFirstEventsAreCPERComponentEventSections() throws {
        let target = Self.target()
        target.hasFirmwareMemory = true
        target.files["sys/bus/pci/devices/0000:0d:00.0/vendor"] = Array("0x8086\n".utf8)
        target.files["sys/bus/pci/devices/0000:0d:00.0/device"] = Array("0x0d93\n".utf8)
        let plan = try target.plan(CXLBackend(), ["event": "general-media", "via": "ghes", "dpa": "0x2040", "channel": "3", "log": "warning"])
        guard case .notify("ghes", let arguments) = plan.steps.first?.action, let hex = arguments["data"] else { Issue.record("\(plan.steps)"); return }
        #expect(arguments["section"] == "vendor" && arguments["section_type"] == CXLComponentEvent.Kind.generalMedia.sectionType && arguments["severity"] == "corrected")
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex { let next = hex.index(index, offsetBy: 2); bytes.append(UInt8(hex[index..<next], radix: 16)!); index = next }
        #expect(bytes.count == 144 && bytes[0] == 144 && bytes[4] == 0b111)
        #expect(Array(bytes[12..<16]) == [0x86, 0x80, 0x93, 0x0d], "vendor and device id")
        #expect(bytes[16] == 0 && bytes[17] == 0 && bytes[18] == 0x0d, "function, device, bus")
        #expect(bytes[24] == 1, "serial")
        #expect(bytes[32] == 128 && bytes[33] == 1, "record length, log warning in the flags")
        #expect(Array(bytes[64..<72]) == [0x40, 0x20, 0, 0, 0, 0, 0, 0] && bytes[75] == 1 && bytes[77] == 3, "dpa, channel valid, channel")
        #expect(plan.expectations == [.traceEvent("cxl:cxl_general_media", fields: "memdev=mem0 serial=1 log=Warning dpa=2040 channel=3")])
        #expect(throws: BackendError.self) { try target.plan(CXLBackend(), ["event": "poison", "via": "ghes"]) }
    }
}
