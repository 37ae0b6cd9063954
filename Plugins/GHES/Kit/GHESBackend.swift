import FirmwareFormats
import InjectPluginAPI

/// Firmware-first errors: CPER records written into a GHES error status block and delivered by
/// its notification (routed by the host to the nmi backend) or found by the kernel's poller;
/// APEI EINJ, where the platform's firmware makes the record; and QEMU's inject-ghes-v2-error.
public struct GHESBackend: InjectBackend {
    public static let descriptor = BackendDescriptor(
        name: "ghes", version: "0.2.0",
        summary: "Firmware-first CPER records: GHES error sources (the lab), APEI EINJ, QEMU inject-ghes-v2-error",
        families: ["firmware-first", "memory", "processor", "pcie", "cper"],
        parameters: GHESParameters.all,
        kernelModules: ["einj"],
        traceEvents: ["ras:non_standard_event", "ras:arm_event"],
        // A memory record also reaches the machine-check log (bank 255) and memory_failure().
        consumerTables: [
            "mce:mce_record": "mce_record", "ras:memory_failure_event": "memory_failure_event",
            "ras:mc_event": "mc_event",
        ],
        logMarkers: ["APEI", "GHES", "Hardware error"])

    static let hestPath = "sys/firmware/acpi/tables/HEST"

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        var found: [Capability] = []
        if let table = try? target.readBytes(Self.hestPath), let hest = try? HEST(parsing: table) {
            let ghes = hest.sources.filter { $0.generic != nil }
            let hed = HardwareErrorDevice.isBound(target.exists)
            let lines = zip(hest.sources, hest.lines).map { source, line -> String in
                guard let kind = source.generic?.notification.kind else { return line }
                switch kind {
                case .polled: return line + ": can be raised (the kernel polls it)"
                case .nmi:
                    return line
                        + (target.hasQMP || target.hasIPMI
                            ? ": can be raised (NMI through QMP or the BMC)"
                            : ": cannot be raised here (no QMP or BMC)")
                case .sci:
                    return line
                        + (hed && target.hasQMP
                            ? ": can be raised (SCI through the HED device, a GPE from QMP)"
                            : ": cannot be raised here (\(hed ? "no QMP" : "no Hardware Error Device (PNP0C33) is bound"))")
                default: return line + ": cannot be raised (no way to deliver \(kind.description) from the host)"
                }
            }
            found.append(
                Capability(
                    "hest", available: !ghes.isEmpty,
                    "\(hest.sources.count) error source(s), \(ghes.count) GHES" + lines.map { "\n    " + $0 }.joined()))
        } else {
            found.append(
                Capability(
                    "hest", available: false,
                    "no readable HEST table (\(Self.hestPath)): the platform declares no error sources, or not root"))
        }
        found.append(
            Capability(
                "firmware-memory", available: target.hasFirmwareMemory,
                target.hasFirmwareMemory
                    ? "GHES status blocks can be written (via=ghes)"
                    : "no firmware memory: via=ghes needs --lab or --guest-memory"))
        if let types = target.value("\(EINJPlan.directory)/available_error_type") {
            found.append(
                Capability(
                    "einj", available: true,
                    "available error types:\n    " + types.split(separator: "\n").joined(separator: "\n    ")))
        } else {
            found.append(
                Capability(
                    "einj", available: false,
                    "no \(EINJPlan.directory): the platform has no EINJ table, or `modprobe einj` and debugfs are missing"
                ))
        }
        found.append(
            Capability(
                "qemu", available: target.hasQMP,
                target.hasQMP
                    ? "QMP inject-ghes-v2-error (QEMU 10 and later, arm virt machines)" : "no --qmp socket given"))
        return found
    }

    /// `non_standard_event`: the CPER section type by name, where it is one UEFI defines.
    public func decode(event: String, fields: [String: String]) -> [String: String] {
        guard event == "ras:non_standard_event", let text = fields["sec_type"], let guid = GUID(text.uppercased())
        else { return [:] }
        if guid == ARMProcessorError.type { return ["section": "ARM processor error"] }
        return SectionLayouts.all.first { $0.type == guid }.map { ["section": $0.name] }
            ?? NamedSectionTypes.name(guid).map { ["section": $0] } ?? ["section": "vendor-defined"]
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        var plan = Plan()
        let builder = RecordBuilder(p: p, secondsSince1970: request.target.realtimeNanoseconds / 1_000_000_000)
        if builder.severity == .fatal { plan.requireConfirmation("a fatal record makes the kernel panic") }
        let via = p.text("via") ?? "ghes"
        if via != "einj", let given = ["components", "v2_type"].first(where: p.isSet) {
            throw BackendError.invalid(
                "\(given) is EINJv2's, which only via=einj reaches (the platform makes the records); add via=einj")
        }
        if p.isSet("v2_type") && !p.isSet("components") {
            throw BackendError.invalid(
                "v2_type needs components=ID:SYNDROME,...: an EINJv2 injection names the components it goes into")
        }
        switch via {
        case "einj":
            try planEINJ(request, builder, &plan)
            return plan
        case "qemu":
            guard request.target.hasQMP else {
                throw BackendError.unsupported("via=qemu needs a QEMU monitor: --qmp SOCKET or --lab NAME")
            }
            let block = try builder.block()
            plan.qmp(
                "inject-ghes-v2-error", arguments: "{\"cper\": \"\(Base64.encode(block.bytes))\"}",
                note: "QEMU writes the record into its own GHESv2 source and notifies the guest\n"
                    + block.fieldLines.joined(separator: "\n"),
                hint:
                    "inject-ghes-v2-error needs QEMU 10 or later on an arm virt machine with ras=on; elsewhere use via=ghes in a lab",
                trigger: true)
        default:
            try planGHES(request, builder, &plan)
        }
        let source = p.number("source") ?? 0
        let arm64 = request.target.exists("sys/devices/system/cpu/cpu0/regs/identification/midr_el1")
        for line in try builder.kernelLines(source: source, arm64: arm64) {
            plan.expect(
                .kernelLog(
                    line,
                    note: line.hasPrefix("Hardware error")
                        ? "the kernel prints 2 corrected records per 5 s and drops repeats within 10 s" : nil))
        }
        if builder.sectionName == "pcie", let deviceID = KernelText.deviceID(p) { plan.expect(.kernelLog(deviceID)) }
        switch builder.sectionName {
        case "memory"
        where request.target.exists("sys/devices/system/machinecheck") && p.isSet("address")
            && builder.severity == .corrected:
            // x86 also logs a corrected memory record with an address as a machine check of bank 255
            // (apei_mce_report_mem_error), which, unlike the printed report, is neither rate-limited
            // nor deduplicated.
            plan.expect(.traceEvent("mce:mce_record", fields: "bank=255 addr=" + hexNumber(p.number("address")!)))
        case "vendor"
        where p.text("section_type").flatMap { GUID($0.uppercased()) }.flatMap(NamedSectionTypes.name) == nil:
            // A section the kernel names goes to its driver, not to non_standard_event.
            plan.expect(.traceEvent("ras:non_standard_event", fields: ""))
        case "arm": plan.expect(.traceEvent("ras:arm_event", fields: ""))
        default: break
        }
        return plan
    }

    /// Has the platform make the error through the kernel's einj, and expects its report.
    private func planEINJ(_ request: PlanRequest, _ builder: RecordBuilder, _ plan: inout Plan) throws {
        let p = request.parameters
        try EINJPlan.plan(p, target: request.target, into: &plan)
        // With notrigger the firmware holds the error: nothing is reported until it is triggered.
        guard !p.flag("notrigger") else { return }
        // A CXL protocol error is reported the way the platform reports CXL errors (natively,
        // through the device's RAS capability and AER, or in a record): the backend that
        // names the device (cxl) expects its report.
        if (p.number("error_type") ?? 0) & EINJPlan.cxlTypes != 0 { return }
        plan.expect(
            .kernelLog(
                "Hardware error from APEI Generic Hardware Error Source",
                note: builder.severity == .corrected ? "the kernel prints 2 corrected records per 5 s" : nil))
        switch builder.sectionName {
        case "processor": plan.expect(.kernelLog("section_type: general processor error"))
        case "pcie":
            plan.expect(.kernelLog("section_type: PCIe error"))
            if let deviceID = KernelText.deviceID(p) { plan.expect(.kernelLog(deviceID)) }
        default: break
        }
        if builder.sectionName == "memory", let address = p.number("address") {
            plan.expect(.kernelLog(KernelText.physicalAddress(address)))
            if builder.severity == .recoverable {
                // An uncorrected memory error with an address ends in memory_failure() of its page.
                plan.expect(.traceEvent("ras:memory_failure_event", fields: "pfn=0x" + hexText(address >> 12)))
            }
        }
    }

    /// Writes the record into the source's status block, then notifies.
    private func planGHES(_ request: PlanRequest, _ builder: RecordBuilder, _ plan: inout Plan) throws {
        let p = request.parameters
        let sourceID = p.number("source") ?? 0
        let hest = (try? request.target.readBytes(Self.hestPath)).flatMap { try? HEST(parsing: $0) }
        let source = hest?.sources.first { $0.generic != nil && UInt64($0.id) == sourceID }?.generic
        if hest != nil && source == nil {
            let ids = hest!.sources.filter { $0.generic != nil }.map { String($0.id) }.joined(separator: ", ")
            throw BackendError.invalid(
                "source=\(sourceID) is not a GHES source of this target's HEST (GHES sources: \(ids.isEmpty ? "none" : ids))"
            )
        }
        let block: UInt64
        if let given = p.number("block_address") {
            block = given
        } else if let register = source?.errorStatusAddress.address {
            let pointer = try request.target.readMemory(register, count: 8)
            block = pointer.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        } else {
            throw BackendError.invalid(
                "block_address is needed: the target's HEST (\(Self.hestPath)) could not be read to find source \(sourceID)'s block"
            )
        }
        let record = try builder.block()
        if let length = source?.errorStatusBlockLength, record.bytes.count > Int(length) {
            throw BackendError.invalid(
                "the record is \(record.bytes.count) bytes, more than source \(sourceID)'s \(length)-byte status block")
        }
        plan.waitForZero(
            at: block, timeoutMicroseconds: 5_000_000,
            note: "firmware never overwrites a record the OS has not consumed (block status non-zero)")
        plan.writeMemory(
            block, record.bytes,
            note: "Generic Error Status Block at \(hexNumber(block))\n" + record.fieldLines.joined(separator: "\n"))
        let notify = p.text("notify") ?? "auto"
        let notification = source?.notification
        if notify == "nmi" || (notify == "auto" && notification?.kind == .nmi) {
            plan.notify("nmi", ["signal": "nmi"], note: "deliver the record's NMI notification")
        } else if notify == "sci" || (notify == "auto" && notification?.kind == .sci) {
            guard HardwareErrorDevice.isBound(request.target.exists) else {
                throw BackendError.unsupported(
                    "source \(sourceID) is notified by SCI, but no Hardware Error Device (PNP0C33) is bound: the platform's AML cannot notify it (a lab derives a DSDT with one; see docs/nmi.md)"
                )
            }
            plan.notify(
                "nmi", ["signal": "sci", "method": "gpe"],
                note: "raise an SCI whose GPE method notifies the HED device: the kernel reads its SCI sources")
        } else if notify == "auto", let notification, notification.kind != .polled {
            let name = notification.kind?.description ?? "type \(notification.type)"
            throw BackendError.unsupported(
                "source \(sourceID) is notified by \(name), which this backend cannot raise (polled, NMI and SCI sources work; see docs/nmi.md)"
            )
        }
    }
}

/// Base64 (RFC 4648) without Foundation.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3F)] : "=")
            }
            index += 3
        }
        return out
    }
}

/// Lines as the kernel's CPER printer writes them.
enum KernelText {
    /// `physical_address: 0x%016llx`.
    static func physicalAddress(_ address: UInt64) -> String { "physical_address: 0x" + hexText(address, digits: 16) }

    /// `device_id: %04x:%02x:%02x.%x` of a pcie section given by its parameters; `nil` without a bus.
    static func deviceID(_ p: ParameterValues) -> String? {
        guard p.text("section") == "pcie", let bus = p.number("bus") else { return nil }
        return "device_id: "
            + pciAddress(
                segment: UInt16(truncatingIfNeeded: p.number("segment") ?? 0), bus: UInt8(truncatingIfNeeded: bus),
                device: UInt8(truncatingIfNeeded: p.number("pcie_device") ?? 0),
                function: UInt8(truncatingIfNeeded: p.number("pcie_function") ?? 0))
    }
}
