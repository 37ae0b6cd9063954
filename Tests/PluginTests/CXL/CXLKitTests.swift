import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import CXLKit

/// The cxl backend's plans: QMP commands with their fields, poison through QEMU or the kernel,
/// the poison list read, protocol errors, and the refusals.
@Suite("CXL kit")
struct CXLKitTests {
    static func target(qmp: Bool = true, qemuID: Bool = true) -> TestTarget {
        let target = TestTarget(
            files: [
                "sys/bus/cxl/devices/mem0/serial": "0x1\n", "sys/bus/cxl/devices/port1/uevent": "",
                "sys/bus/cxl/devices/decoder2.0/uevent": "",
                "sys/bus/pci/devices/0000:0d:00.0/mem0/serial": "0x1\n",
                "sys/bus/pci/devices/0000:01:00.0/vendor": "0x1af4\n",
                "sys/kernel/debug/cxl/mem0/inject_poison": "", "sys/kernel/debug/cxl/mem0/clear_poison": "",
            ], hasQMP: qmp)
        if qemuID { target.qemuDevices = ["0000:0d:00.0": "cxl-pmem0"] }
        return target
    }

    func qmp(_ plan: Plan) -> [(String, String?)] {
        plan.steps.compactMap { step in
            if case .qmp(let command, let arguments) = step.action { return (command, arguments) } else { return nil }
        }
    }

    @Test func eventRecordsCarryTheirFieldsAndExpectThemTraced() throws {
        let media = try Self.target().plan(
            CXLBackend(),
            [
                "event": "general-media", "dpa": "0x2000", "channel": "1", "rank": "2", "log": "warning",
                "component_id": "dimm-3",
            ])
        let (command, arguments) = try #require(qmp(media).first)
        #expect(command == "cxl-inject-general-media-event")
        for field in [
            "\"path\": \"/machine/peripheral/cxl-pmem0\"", "\"dpa\": 8192", "\"channel\": 1", "\"rank\": 2",
            "\"log\": \"warning\"", "\"component-id\": \"dimm-3\"",
        ] {
            #expect(arguments?.contains(field) == true, "\(field) in \(arguments ?? "")")
        }
        #expect(
            media.expectations == [
                .traceEvent(
                    "cxl:cxl_general_media", fields: "memdev=mem0 serial=1 log=Warning dpa=2000 channel=1 rank=2")
            ])
        let dram = try Self.target().plan(CXLBackend(), ["event": "dram", "bank_group": "3", "row": "5"])
        #expect(
            qmp(dram).first?.0 == "cxl-inject-dram-event" && qmp(dram).first?.1?.contains("\"bank-group\": 3") == true)
        let module = try Self.target().plan(
            CXLBackend(), ["event": "memory-module", "temperature": "-5", "log": "fatal"])
        #expect(qmp(module).first?.1?.contains("\"temperature\": -5") == true)
        #expect(module.expectations == [.traceEvent("cxl:cxl_memory_module", fields: "memdev=mem0 serial=1 log=Fatal")])
    }

    /// Poison through QEMU is seen when the kernel reads the list; the kernel's own injector and
    /// clearing trace it at once; QEMU cannot clear.
    @Test func poisonThroughQEMUOrTheKernel() throws {
        let viaQEMU = try Self.target().plan(CXLBackend(), ["event": "poison", "dpa": "0x4000", "length": "128"])
        #expect(qmp(viaQEMU).first?.1?.contains("\"start\": 16384, \"length\": 128") == true)
        #expect(
            viaQEMU.steps.last?.action
                == .writeAttribute(path: "sys/bus/cxl/devices/mem0/trigger_poison_list", value: "1"))
        #expect(
            viaQEMU.expectations == [
                .traceEvent("cxl:cxl_poison", fields: "memdev=mem0 serial=1 trace_type=List dpa=0x4000 dpa_length=0x80")
            ])
        let clear = try Self.target().plan(CXLBackend(), ["event": "clear-poison", "dpa": "0x4000"])
        #expect(
            clear.steps.map(\.action) == [
                .writeAttribute(path: "sys/kernel/debug/cxl/mem0/clear_poison", value: "0x4000")
            ])
        // Without a QEMU id, poison goes through the kernel.
        let host = try Self.target(qmp: false, qemuID: false).plan(CXLBackend(), ["event": "poison", "dpa": "0x5000"])
        #expect(
            host.steps.map(\.action) == [
                .writeAttribute(path: "sys/kernel/debug/cxl/mem0/inject_poison", value: "0x5000")
            ])
        for (values, words) in [
            (["event": "poison", "dpa": "0x4010"], ["multiples of 64"]),
            (["event": "clear-poison", "via": "qemu"], ["via=debugfs"]),
            (["event": "general-media", "via": "debugfs"], ["via=qemu"]),
            (["event": "poison", "via": "debugfs", "length": "128"], ["one 64-byte line"]),
        ] {
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
        #expect(
            qmp(correctable).first?.1?.contains("\"type\": \"crc-threshold\"") == true
                && correctable.confirmationReasons.isEmpty)
        let uncorrectable = try Self.target().plan(
            CXLBackend(), ["event": "uncorrectable", "error": "mem-data-ecc,internal"])
        #expect(
            qmp(uncorrectable).first?.1?.contains(
                "{\"type\": \"mem-data-ecc\", \"header\": []}, {\"type\": \"internal\", \"header\": []}") == true)
        #expect(!uncorrectable.confirmationReasons.isEmpty)
        for (values, word) in [
            (["event": "correctable", "error": "nope"], "crc-threshold"),
            (["event": "correctable", "error": "physical,crc-threshold"], "one error"),
            (["memdev": "mem7"], "mem0 (serial 0x1, 0000:0d:00.0, QEMU cxl-pmem0)"),
        ] {
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
        let plan = try target.plan(
            CXLBackend(), ["event": "general-media", "via": "ghes", "dpa": "0x2040", "channel": "3", "log": "warning"])
        guard case .notify("ghes", let arguments) = plan.steps.first?.action,
            let bytes = arguments["data"].map(Self.bytes)
        else {
            Issue.record("\(plan.steps)")
            return
        }
        #expect(
            arguments["section"] == "vendor"
                && arguments["section_type"] == CXLComponentEvent.Kind.generalMedia.sectionType
                && arguments["severity"] == "corrected")
        #expect(bytes.count == 144 && bytes[0] == 144 && bytes[4] == 0b111)
        #expect(Array(bytes[12..<16]) == [0x86, 0x80, 0x93, 0x0d], "vendor and device id")
        #expect(bytes[16] == 0 && bytes[17] == 0 && bytes[18] == 0x0d, "function, device, bus")
        #expect(bytes[24] == 1, "serial")
        #expect(bytes[32] == 128 && bytes[33] == 1, "record length, log warning in the flags")
        #expect(
            Array(bytes[64..<72]) == [0x40, 0x20, 0, 0, 0, 0, 0, 0] && bytes[75] == 1 && bytes[77] == 3,
            "dpa, channel valid, channel")
        #expect(
            plan.expectations == [
                .traceEvent("cxl:cxl_general_media", fields: "memdev=mem0 serial=1 log=Warning dpa=2040 channel=3")
            ])
        #expect(throws: BackendError.self) { try target.plan(CXLBackend(), ["event": "poison", "via": "ghes"]) }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func identified(_ target: TestTarget) -> TestTarget {
        target.hasFirmwareMemory = true
        for (file, value) in [
            ("vendor", "0x8086"), ("device", "0x0d93"), ("subsystem_vendor", "0x1af4"), ("subsystem_device", "0x1100"),
            ("class", "0x050210"),
        ] {
            target.files["sys/bus/pci/devices/0000:0d:00.0/\(file)"] = Array("\(value)\n".utf8)
        }
        return target
    }

    /// Firmware first: a CPER CXL protocol error section (204 bytes) naming the device and carrying
    /// its RAS registers with the requested errors' status bits; the kernel's printed lines expected.
    @Test func firmwareFirstProtocolErrorsCarryTheRASRegisters() throws {
        let target = Self.identified(Self.target())
        let correctable = try target.plan(
            CXLBackend(), ["event": "correctable", "error": "mem-data-ecc", "via": "ghes"])
        guard case .notify("ghes", let arguments) = correctable.steps.first?.action,
            let bytes = arguments["data"].map(Self.bytes)
        else {
            Issue.record("\(correctable.steps)")
            return
        }
        #expect(
            arguments["section_type"] == CXLProtocolErrorSection.sectionType && arguments["severity"] == "corrected")
        #expect(bytes.count == 204 && bytes[0] == 0x4F && bytes[8] == 2, "valid bits, agent type CXL Device")
        #expect(Array(bytes[16..<21]) == [0, 0, 0x0d, 0, 0], "function, device, bus, segment")
        #expect(
            Array(bytes[24..<34]) == [0x86, 0x80, 0x93, 0x0d, 0xf4, 0x1a, 0x00, 0x11, 0x02, 0x05], "ids and class code")
        #expect(bytes[40] == 1, "serial")
        #expect(bytes[110] == 88, "error log length")
        #expect(bytes[116 + 12] == 2 && bytes[116] == 0, "correctable status: Memory Data ECC (bit 1)")
        for line in [
            "agent_address: 0000:0d:00.0", "vendor_id: 0x8086, device_id: 0x0d93", "cxl_ras_cor_status: 0x00000002",
            "cxl_ras_uncor_status: 0x00000000",
        ] {
            #expect(correctable.expectations.contains(.kernelLog(line)), "\(line)")
        }
        let uncorrectable = try target.plan(
            CXLBackend(), ["event": "uncorrectable", "error": "internal,mem-data-ecc", "via": "ghes"])
        guard case .notify("ghes", let more) = uncorrectable.steps.first?.action,
            let section = more["data"].map(Self.bytes)
        else { return }
        #expect(more["severity"] == "recoverable" && !uncorrectable.confirmationReasons.isEmpty)
        #expect(
            Array(section[116..<120]) == [0x80, 0x40, 0, 0] && section[116 + 20] == 7,
            "internal is bit 14; the first error pointer names bit 7")
        #expect(uncorrectable.expectations.contains(.kernelLog("cxl_ras_uncor_status: 0x00004080")))
    }

    /// EINJ's CXL types go to the device's downstream port by SBDF; the protocol comes from the
    /// error's name, and a name of neither protocol is refused.
    @Test func einjAimsAtTheDownstreamPort() throws {
        let target = Self.target()
        target.files["sys/bus/pci/devices/0000:0c:00.0/0000:0d:00.0/vendor"] = Array("0x8086\n".utf8)
        target.files["sys/bus/pci/devices/0000:0c:00.0/vendor"] = Array("0x8086\n".utf8)
        let mem = try target.plan(CXLBackend(), ["event": "correctable", "error": "mem-data-ecc", "via": "einj"])
        #expect(
            mem.steps.map(\.action) == [
                .notify(backend: "ghes", arguments: ["via": "einj", "error_type": "0x8000", "param4": "0xc0000"])
            ])
        #expect(mem.expectations.contains(.traceEvent("cxl:cxl_aer_correctable_error", fields: "memdev=mem0 serial=1")))
        let cache = try target.plan(CXLBackend(), ["event": "uncorrectable", "error": "cache-data-ecc", "via": "einj"])
        #expect(
            cache.steps.map(\.action) == [
                .notify(backend: "ghes", arguments: ["via": "einj", "error_type": "0x2000", "param4": "0xc0000"])
            ])
        #expect(!cache.confirmationReasons.isEmpty)
        for (values, word) in [
            (["error": "crc-threshold"], "names only the protocol"),
            (["error": "cache-data-ecc,mem-data-ecc", "event": "uncorrectable"], "one protocol"),
            (["event": "poison"], "protocol errors"),
        ] {
            do {
                _ = try target.plan(CXLBackend(), ["event": "correctable", "via": "einj"].merging(values) { $1 })
                Issue.record("accepted \(values)")
            } catch {
                #expect("\(error)".contains(word), "\(values): \(error)")
            }
        }
        #expect(throws: BackendError.self) {
            try Self.target().plan(CXLBackend(), ["event": "correctable", "via": "einj"])
        }
    }

    /// `inject watch` shows the device, log, addresses and kinds of the kernel's cxl events, read
    /// from payloads as the 6.12 kernel printed them in the lab.
    @Test func watchDecodesTheKernelsCXLEvents() {
        let media =
            "memdev=mem0 host=0000:0d:00.0 serial=1 log=Informational : time=1796262302595127722 uuid=fbcd0a77-c260-417f-85a9-088b1621eba6 len=128 flags='' handle=1 related_handle=0 maint_op_class=0 : dpa=2000 dpa_flags='' descriptor='UNCORRECTABLE_EVENT|THRESHOLD_EVENT' type='ECC Error' transaction_type='Unknown' channel=0 rank=0 device=0 comp_id=00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 validity_flags='' hpa=ffffffffffffffff region= region_uuid=00000000-0000-0000-0000-000000000000"
        #expect(
            CXLBackend().decode(event: "cxl:cxl_general_media", payload: media)
                == [
                    "memdev": "mem0", "log": "Informational", "dpa": "0x2000",
                    "descriptor": "UNCORRECTABLE_EVENT|THRESHOLD_EVENT", "type": "ECC Error",
                    "transaction_type": "Unknown",
                ])
        let mapped = media.replacing("hpa=ffffffffffffffff region=", with: "hpa=110002000 region=region0")
        #expect(CXLBackend().decode(event: "cxl:cxl_general_media", payload: mapped)["hpa"] == "0x110002000")
        #expect(CXLBackend().decode(event: "cxl:cxl_general_media", payload: mapped)["region"] == "region0")
        let poison =
            "memdev=mem0 host=0000:0d:00.0 serial=1 trace_type=List region= region_uuid=00000000-0000-0000-0000-000000000000 hpa=0xffffffffffffffff dpa=0x4000 dpa_length=0x80 source=Internal flags= overflow_time=0"
        #expect(
            CXLBackend().decode(event: "cxl:cxl_poison", payload: poison)
                == [
                    "memdev": "mem0", "trace_type": "List", "dpa": "0x4000", "dpa_length": "0x80", "source": "Internal",
                ])
        let correctable = "memdev=mem0 host=0000:0d:00.0 serial=1: status: 'Memory Data ECC Error'"
        #expect(
            CXLBackend().decode(event: "cxl:cxl_aer_correctable_error", payload: correctable) == [
                "memdev": "mem0", "status": "Memory Data ECC Error",
            ])
        #expect(CXLBackend().decode(event: "mce:mce_record", payload: correctable).isEmpty)
    }
}
