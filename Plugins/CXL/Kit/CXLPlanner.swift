import FirmwareFormats
import InjectPluginAPI

/// One CXL request's steps and the kernel events they cause.
struct CXLPlanner {
    let p: ParameterValues
    let target: Target

    func plan() throws -> Plan {
        let event = p.text("event") ?? "general-media"
        let memdev = try CXLMemdev.find(p.text("memdev"), on: target)
        let via = try route(event, memdev)
        var plan = Plan()
        let request = Request(event: event, memdev: memdev, via: via)
        switch event {
        case "general-media", "dram": try planMediaEvent(request, &plan)
        case "memory-module": try planMemoryModuleEvent(request, &plan)
        case "poison", "clear-poison": try planPoison(request, &plan)
        case "poison-list": readPoisonList(memdev, &plan, trigger: true)
        case "correctable", "uncorrectable": try planProtocolError(request, &plan)
        default:
            throw BackendError.invalid("event=\(event) is not one of \(CXLBackend.events.joined(separator: ", "))")
        }
        return plan
    }

    /// What every event's plan starts from: the event, the memory device, the route.
    struct Request {
        var event: String
        var memdev: CXLMemdev
        var via: String

        /// The fields every cxl trace event of the device has.
        var base: String {
            "memdev=\(memdev.name)"
                + (memdev.serial.map { " serial=\(UInt64($0.dropFirst(2), radix: 16).map(String.init) ?? $0)" } ?? "")
        }
    }

    private var dpa: UInt64 { p.number("dpa") ?? 0x1000 }

    /// A General Media or DRAM event record, through QEMU or firmware first.
    private func planMediaEvent(_ request: Request, _ plan: inout Plan) throws {
        let (event, memdev) = (request.event, request.memdev)
        var fields = [
            "log": p.text("log") ?? "informational", "flags": "\(p.number("flags") ?? 0)", "dpa": "\(dpa)",
            "descriptor": "\(p.number("descriptor") ?? 1)", "type": "\(p.number("type") ?? 0)",
            "transaction-type": "\(p.number("transaction_type") ?? 0)",
        ]
        var expected = "\(request.base) log=\(capitalized(p.text("log") ?? "informational")) dpa=\(hexText(dpa))"
        let optional =
            event == "dram"
            ? ["channel", "rank", "bank_group", "bank", "row", "column"] : ["channel", "rank", "device"]
        for name in optional {
            if let value = p.number(name) {
                fields[name.replacing("_", with: "-")] = "\(value)"
                expected += " \(name)=\(value)"
            }
        }
        var json = fields.sorted { $0.key < $1.key }.map {
            "\"\($0.key)\": \($0.key == "log" ? "\"\($0.value)\"" : $0.value)"
        }
        if event == "general-media", let component = p.text("component_id") {
            guard component.count <= 16,
                component.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else {
                throw BackendError.invalid(
                    "component_id=\(component) must be at most 16 letters, digits, '-', '_' or '.'")
            }
            json.append("\"component-id\": \"\(component)\"")
        }
        if request.via == "ghes" {
            try firmwareFirst(
                event == "dram" ? .dram : .generalMedia, memdev, body: mediaBody(dram: event == "dram", dpa: dpa), &plan
            )
        } else {
            try qmp(
                event == "dram" ? "cxl-inject-dram-event" : "cxl-inject-general-media-event", memdev, json,
                note:
                    "QEMU adds a \(event) event record to \(memdev.name)'s \(p.text("log") ?? "informational") log and interrupts the driver",
                &plan)
        }
        plan.expect(.traceEvent(event == "dram" ? "cxl:cxl_dram" : "cxl:cxl_general_media", fields: expected))
    }

    /// A Memory Module event record, through QEMU or firmware first.
    private func planMemoryModuleEvent(_ request: Request, _ plan: inout Plan) throws {
        let memdev = request.memdev
        if request.via == "ghes" {
            var body = ByteWriter()
            for name in ["type", "health_status", "media_status", "additional_status", "life_used"] {
                body.put(UInt8(p.number(name) ?? 0))
            }
            body.put(Int16(truncatingIfNeeded: p.signed("temperature") ?? 25))
            for name in ["dirty_shutdowns", "corrected_volatile", "corrected_persistent"] {
                body.put(UInt32(p.number(name) ?? 0))
            }
            try firmwareFirst(.memoryModule, memdev, body: body.bytes, &plan)
        } else {
            let json = [
                "\"log\": \"\(p.text("log") ?? "informational")\"", "\"flags\": \(p.number("flags") ?? 0)",
                "\"type\": \(p.number("type") ?? 0)",
                "\"health-status\": \(p.number("health_status") ?? 0)",
                "\"media-status\": \(p.number("media_status") ?? 0)",
                "\"additional-status\": \(p.number("additional_status") ?? 0)",
                "\"life-used\": \(p.number("life_used") ?? 0)",
                "\"temperature\": \(p.signed("temperature") ?? 25)",
                "\"dirty-shutdown-count\": \(p.number("dirty_shutdowns") ?? 0)",
                "\"corrected-volatile-error-count\": \(p.number("corrected_volatile") ?? 0)",
                "\"corrected-persistent-error-count\": \(p.number("corrected_persistent") ?? 0)",
            ]
            try qmp(
                "cxl-inject-memory-module-event", memdev, json,
                note: "QEMU adds a memory module event record to \(memdev.name)'s log", &plan)
        }
        plan.expect(
            .traceEvent(
                "cxl:cxl_memory_module", fields: "\(request.base) log=\(capitalized(p.text("log") ?? "informational"))")
        )
    }

    /// Poison added through QEMU (then the list read), or one line injected or cleared by the kernel.
    private func planPoison(_ request: Request, _ plan: inout Plan) throws {
        let (memdev, base) = (request.memdev, request.base)
        let length = p.number("length") ?? 64
        guard dpa % 64 == 0, length % 64 == 0 else {
            throw BackendError.invalid(
                "poison takes 64-byte units: dpa=\(hexNumber(dpa)) and length=\(length) must be multiples of 64")
        }
        let clear = request.event == "clear-poison"
        if request.via == "qemu" {
            try qmp(
                "cxl-inject-poison", memdev, ["\"start\": \(dpa)", "\"length\": \(length)"],
                note: "QEMU adds \(hexNumber(dpa))+\(length) to \(memdev.name)'s poison list", &plan)
            readPoisonList(memdev, &plan)
            plan.expect(
                .traceEvent(
                    "cxl:cxl_poison",
                    fields: "\(base) trace_type=List dpa=\(hexNumber(dpa)) dpa_length=\(hexNumber(length))"))
            return
        }
        guard length == 64 else {
            throw BackendError.invalid(
                "the kernel's \(clear ? "clear_poison" : "inject_poison") takes one 64-byte line: leave length= at 64")
        }
        plan.write(
            "sys/kernel/debug/cxl/\(memdev.name)/\(clear ? "clear_poison" : "inject_poison")", hexNumber(dpa),
            note:
                "the kernel sends the device \(clear ? "Clear" : "Inject") Poison for the line at DPA \(hexNumber(dpa))",
            hint:
                "needs CONFIG_CXL_MEM debugfs and a device that supports the command; EBUSY: the address is mapped in a region (offline it first)",
            trigger: true)
        plan.expect(
            .traceEvent(
                "cxl:cxl_poison", fields: "\(base) trace_type=\(clear ? "Clear" : "Inject") dpa=\(hexNumber(dpa))"))
    }

    /// A CXL.cache or CXL.mem protocol error: through QEMU, firmware first, or EINJ.
    private func planProtocolError(_ request: Request, _ plan: inout Plan) throws {
        let (event, memdev) = (request.event, request.memdev)
        let correctable = event == "correctable"
        let names = (p.text("error") ?? "mem-data-ecc").split(separator: ",").map { String($0).trimmingWhitespace }
        let known = correctable ? Self.correctableNames : Self.uncorrectableNames
        for name in names where !known.contains(name) {
            throw BackendError.invalid(
                "error=\(name) is not a CXL \(event) protocol error; use \(known.joined(separator: ", "))")
        }
        if correctable {
            guard names.count == 1 else {
                throw BackendError.invalid(
                    "correctable takes one error per request (QEMU's cxl-inject-correctable-error)")
            }
        } else {
            plan.requireConfirmation(
                "an uncorrectable CXL protocol error is fatal to the link: the kernel resets the device and may take its memory away"
            )
        }
        switch request.via {
        case "ghes":
            try firmwareFirstProtocolError(names, correctable: correctable, memdev, &plan)
            return
        case "einj":
            try einjProtocolError(names, correctable: correctable, memdev, &plan)
        case _ where correctable:
            try qmp(
                "cxl-inject-correctable-error", memdev, ["\"type\": \"\(names[0])\""],
                note:
                    "QEMU sets \(names[0]) in \(memdev.name)'s RAS capability and signals a Corrected Internal Error through AER",
                &plan)
        default:
            let list = names.map { "{\"type\": \"\($0)\", \"header\": []}" }.joined(separator: ", ")
            try qmp(
                "cxl-inject-uncorrectable-errors", memdev, ["\"errors\": [\(list)]"],
                note:
                    "QEMU records \(names.joined(separator: ", ")) in \(memdev.name)'s RAS capability and signals an Uncorrectable Internal Error",
                &plan)
        }
        if correctable {
            plan.expect(.traceEvent("cxl:cxl_aer_correctable_error", fields: request.base))
            plan.expect(
                .kernelLog(
                    "[14] CorrIntErr",
                    note: "AER delivers it only where Corrected Internal Error is unmasked (the lab does it)"))
        } else {
            plan.expect(.traceEvent("cxl:cxl_aer_uncorrectable_error", fields: request.base))
        }
    }

    static let correctableNames = CXLBackend.correctableErrors.map(\.key)
    static let uncorrectableNames = CXLBackend.uncorrectableErrors

    /// `via=`: QEMU for everything it can do, the kernel's debugfs for clearing (and for poison on
    /// request), firmware first for event records on request.
    private func route(_ event: String, _ memdev: CXLMemdev) throws -> String {
        let via = p.text("via") ?? "auto"
        let poison = event == "poison" || event == "clear-poison"
        switch via {
        case "ghes":
            guard !poison && event != "poison-list" else {
                throw BackendError.invalid(
                    "via=ghes reports event records and protocol errors; event=\(event) needs via=qemu or via=debugfs")
            }
            guard target.hasFirmwareMemory else {
                throw BackendError.unsupported(
                    "via=ghes writes a firmware-first record: it needs --lab NAME or --guest-memory")
            }
            return "ghes"
        case "einj":
            guard event == "correctable" || event == "uncorrectable" else {
                throw BackendError.invalid(
                    "via=einj injects protocol errors (EINJ's CXL.cache and CXL.mem types); event=\(event) needs another path"
                )
            }
            return "einj"
        case "debugfs":
            guard poison else {
                throw BackendError.invalid("via=debugfs only injects and clears poison; event=\(event) needs via=qemu")
            }
            return "debugfs"
        case "qemu":
            guard event != "clear-poison" else {
                throw BackendError.invalid(
                    "QEMU has no command that clears poison; use via=debugfs (the kernel's clear_poison)")
            }
            return "qemu"
        default:
            if event == "clear-poison" { return "debugfs" }
            if event == "poison-list" { return "files" }
            if event == "poison" && memdev.qomPath == nil { return "debugfs" }
            return "qemu"
        }
    }

    /// A general media or DRAM event's 80 bytes, from the request.
    private func mediaBody(dram: Bool, dpa: UInt64) throws -> [UInt8] {
        var validity: UInt16 = 0
        var rest = ByteWriter()
        func field(_ name: String, _ bit: UInt16, _ size: Int) {
            let value = p.number(name)
            if value != nil { validity |= bit }
            rest.put(value ?? 0, count: size)
        }
        field("channel", 1, 1)
        field("rank", 2, 1)
        if dram {
            rest.put([], padTo: 3)
            field("bank_group", 8, 1)
            field("bank", 0x10, 1)
            field("row", 0x20, 3)
            field("column", 0x40, 2)
        } else {
            field("device", 4, 3)
            if let text = p.text("component_id") {
                validity |= 8
                rest.put(Array(text.utf8), padTo: 16)
            } else {
                rest.put([], padTo: 16)
            }
        }
        return CXLComponentEvent.media(
            dpa: dpa, descriptor: UInt8(p.number("descriptor") ?? 1), type: UInt8(p.number("type") ?? 0),
            transactionType: UInt8(p.number("transaction_type") ?? 0), validity: validity, rest: rest.bytes)
    }

    /// The memdev's PCI identity as firmware names a device in a record.
    private struct PCIIdentity {
        var at: (segment: UInt16, bus: UInt8, device: UInt8, function: UInt8)
        var address: String
        var vendorID: UInt16, deviceID: UInt16, subsystemVendorID: UInt16, subsystemID: UInt16, classCode: UInt16
        var serial: UInt64
    }

    private func identity(_ memdev: CXLMemdev) throws -> PCIIdentity {
        guard let pci = memdev.pci else {
            throw BackendError.unsupported("\(memdev.name) has no PCI device to name in the record")
        }
        let at = try pci.requireLocation()
        func id(_ file: String) -> UInt32 {
            UInt32(target.value("\(pci.sysfsPath)/\(file)")?.dropFirst(2) ?? "", radix: 16) ?? 0
        }
        return PCIIdentity(
            at: at, address: pci.address, vendorID: UInt16(truncatingIfNeeded: id("vendor")),
            deviceID: UInt16(truncatingIfNeeded: id("device")),
            subsystemVendorID: UInt16(truncatingIfNeeded: id("subsystem_vendor")),
            subsystemID: UInt16(truncatingIfNeeded: id("subsystem_device")),
            classCode: UInt16(truncatingIfNeeded: id("class") >> 8),
            serial: memdev.serial.flatMap { UInt64($0.dropFirst(2), radix: 16) } ?? 0)
    }

    /// The event as firmware reports it: a CPER CXL component event section, composed here and
    /// written and notified by the ghes backend.
    private func firmwareFirst(_ kind: CXLComponentEvent.Kind, _ memdev: CXLMemdev, body: [UInt8], _ plan: inout Plan)
        throws
    {
        let device = try identity(memdev)
        let logs = ["informational", "warning", "failure", "fatal"]
        let log = UInt8(logs.firstIndex(of: p.text("log") ?? "informational") ?? 0)
        let event = CXLComponentEvent(
            kind: kind, segment: device.at.segment, bus: device.at.bus, device: device.at.device,
            function: device.at.function,
            vendorID: device.vendorID, deviceID: device.deviceID, serial: device.serial, log: log, body: body)
        plan.notify(
            "ghes",
            [
                "section": "vendor", "section_type": kind.sectionType, "data": hexDigits(event.bytes),
                "severity": log >= 2 ? "recoverable" : "corrected",
            ],
            note:
                "a firmware-first CXL \(kind.rawValue) event for \(memdev.name) (\(device.address), serial \(device.serial)): a CPER section the kernel hands to cxl_pci"
        )
    }

    /// A protocol error as firmware reports it: a CPER CXL protocol error section with the
    /// device's RAS registers, written and notified by the ghes backend. The kernel prints it
    /// (6.3 and later); which driver then handles it depends on the kernel.
    private func firmwareFirstProtocolError(
        _ names: [String], correctable: Bool, _ memdev: CXLMemdev, _ plan: inout Plan
    ) throws {
        let device = try identity(memdev)
        let status = names.compactMap { CXLProtocolErrorSection.statusBit($0, correctable: correctable) }.reduce(0, |)
        let section = CXLProtocolErrorSection(
            segment: device.at.segment, bus: device.at.bus, device: device.at.device, function: device.at.function,
            vendorID: device.vendorID, deviceID: device.deviceID, subsystemVendorID: device.subsystemVendorID,
            subsystemID: device.subsystemID, classCode: device.classCode, serial: device.serial,
            correctableStatus: correctable ? status : 0, uncorrectableStatus: correctable ? 0 : status)
        plan.notify(
            "ghes",
            [
                "section": "vendor", "section_type": CXLProtocolErrorSection.sectionType,
                "data": hexDigits(section.bytes),
                "severity": correctable ? "corrected" : "recoverable",
            ],
            note:
                "a firmware-first CXL protocol error (\(names.joined(separator: ", "))) for \(memdev.name) (\(device.address)): its RAS registers in a CPER section"
        )
        for line in section.kernelLines {
            plan.expect(.kernelLog(line, note: line.hasPrefix("agent_type") ? "printed by kernels 6.3 and later" : nil))
        }
    }

    /// A protocol error through APEI EINJ's CXL types (ACPI 6.5: CXL.cache and CXL.mem,
    /// correctable and uncorrectable non-fatal), aimed, as Linux's einj-cxl does, at the device's
    /// downstream port by its SBDF; the ghes backend writes EINJ's files. The platform picks the
    /// error within the protocol and reports it the way it reports CXL errors (the lab: natively,
    /// through the device's RAS capability and AER).
    private func einjProtocolError(_ names: [String], correctable: Bool, _ memdev: CXLMemdev, _ plan: inout Plan) throws
    {
        let protocols = Set(names.map { $0.hasPrefix("cache-") ? "cache" : $0.hasPrefix("mem-") ? "mem" : "" })
        guard protocols.count == 1, let protocolName = protocols.first, !protocolName.isEmpty else {
            throw BackendError.invalid(
                "via=einj names only the protocol: give cache-* or mem-* errors of one protocol (error=\(names.joined(separator: ","))); the platform picks the error"
            )
        }
        guard let pci = memdev.pci else {
            throw BackendError.unsupported("\(memdev.name) has no PCI device, so it has no port to inject into")
        }
        let devices = (try? target.list("sys/bus/pci/devices")) ?? []
        guard let port = devices.first(where: { target.exists("sys/bus/pci/devices/\($0)/\(pci.address)") }),
            let at = (try? target.pciDevice(port))?.location
        else {
            throw BackendError.unsupported(
                "no PCI port above \(pci.address) is listed: EINJ's CXL types take the device's downstream port")
        }
        let type: UInt64 = (protocolName == "cache" ? 0x1000 : 0x8000) << (correctable ? 0 : 1)
        guard
            let sbdf = PCIeSBDF(
                segment: UInt16(at.segment), bus: UInt16(at.bus), device: UInt16(at.device),
                function: UInt16(at.function))
        else {
            throw BackendError.unsupported("\(port) is in segment \(at.segment): EINJ's SBDF names segments 0-255 only")
        }
        plan.notify(
            "ghes", ["via": "einj", "error_type": hexNumber(type), "param4": hexNumber(sbdf.raw)],
            note:
                "EINJ \(protocolName == "cache" ? "CXL.cache" : "CXL.mem") protocol \(correctable ? "correctable" : "uncorrectable non-fatal") error into \(port), \(memdev.name)'s downstream port"
        )
    }

    /// A QMP `cxl-inject-*` command on the memdev's QEMU device.
    private func qmp(_ command: String, _ memdev: CXLMemdev, _ fields: [String], note: String, _ plan: inout Plan)
        throws
    {
        guard target.hasQMP else {
            throw BackendError.unsupported(
                "\(command) needs QEMU's monitor: --lab NAME (with --with cxl) or --qmp SOCKET")
        }
        guard let path = memdev.qomPath else {
            throw BackendError.unsupported(
                "\(memdev.name)'s PCI device has no QEMU id, so QMP cannot name it; give the cxl-type3 device an id")
        }
        plan.qmp(
            command, arguments: "{" + (["\"path\": \"\(path)\""] + fields).joined(separator: ", ") + "}", note: note,
            hint: "the cxl-inject-* commands need QEMU 10 (inject lab up --with cxl, or --qemu bookworm-backports)",
            trigger: true)
    }

    /// Asks the kernel to read the device's poison list: each entry becomes a cxl_poison event.
    private func readPoisonList(_ memdev: CXLMemdev, _ plan: inout Plan, trigger: Bool = false) {
        plan.write(
            "sys/bus/cxl/devices/\(memdev.name)/trigger_poison_list", "1",
            note: "the kernel reads \(memdev.name)'s poison list (Get Poison List): one cxl_poison event per entry",
            hint: "needs a kernel with CXL poison list support (6.5 and later)", trigger: trigger)
    }

    private func capitalized(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }
}
