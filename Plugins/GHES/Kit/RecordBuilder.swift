import FirmwareFormats
import InjectPluginAPI

/// Builds the Generic Error Status Block a request describes, and what the kernel will print
/// for it.
struct RecordBuilder {
    let p: ParameterValues
    /// Wall-clock seconds for the entry's timestamp (revision 0x0300): firmware stamps its records,
    /// and the kernel's duplicate filter then tells two otherwise equal records apart.
    var secondsSince1970: UInt64? = nil

    var severity: CPERSeverity {
        CPERSeverity(rawValue: UInt32(GHESParameters.severities.firstIndex(of: p.text("severity") ?? "corrected") ?? 2))
            ?? .corrected
    }
    var sectionName: String { p.text("section") ?? "memory" }

    /// The block.
    func block() throws(BackendError) -> GenericErrorStatusBlock {
        let entry = GenericErrorDataEntry(
            revision: p.text("revision") == "0x0201" ? 0x0201 : 0x0300, severity: severity,
            flags: 1, fruText: p.text("fru_text").map { String($0.prefix(20)) },
            timestamp: secondsSince1970.map { CPERTimestamp.encode(secondsSince1970: $0) },
            section: try section())
        return GenericErrorStatusBlock(entries: [entry])
    }

    private func section() throws(BackendError) -> ErrorSection {
        switch sectionName {
        case "processor":
            var section = FixedSection(SectionLayouts.processorGeneric)
            section["processor_type"] = 0  // IA32/X64
            section["isa"] = 2  // X64
            section["error_type"] = 1  // cache error
            set(&section, "level", from: "level")
            set(&section, "target_address", from: "address")
            return .fixed(section)
        case "pcie":
            var section = FixedSection(SectionLayouts.pcie)
            set(&section, "port_type", from: "port_type")
            for (field, parameter) in [
                ("segment", "segment"), ("bus", "bus"), ("device", "pcie_device"),
                ("function", "pcie_function"), ("vendor_id", "vendor_id"),
            ] {
                set(&section, field, from: parameter)
            }
            if section["bus"] == nil { section["bus"] = 0 }  // the device id group is what the kernel prints
            if p.isSet("aer_cor_status") || p.isSet("aer_uncor_status") {
                section.setBytes("aer_info", aerInfo())
            }
            return .fixed(section)
        case "arm":
            let type = UInt8(GHESParameters.armErrorTypes.firstIndex(of: p.text("arm_error") ?? "cache") ?? 0)
            return .arm(
                ARMProcessorError(
                    mpidr: p.number("mpidr") ?? 0,
                    errors: [
                        .init(type: type, physicalFaultAddress: p.number("address") ?? 0)
                    ]))
        case "vendor":
            guard let text = p.text("section_type") else {
                throw BackendError.invalid("section=vendor needs section_type=GUID (and data=HEX)")
            }
            guard let type = GUID(text) else {
                throw BackendError.invalid(
                    "section_type '\(text)' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
            }
            return .raw(type: type, bytes: p.bytes("data") ?? [])
        default:
            var section = FixedSection(SectionLayouts.platformMemory)
            set(&section, "physical_address", from: "address")
            set(&section, "physical_address_mask", from: "address_mask")
            for name in [
                "node", "card", "module", "rank", "bank", "device", "row", "column", "bit_position", "module_handle",
                "card_handle",
            ] {
                set(&section, name, from: name)
            }
            set(&section, "error_type", from: "memory_error_type")
            return .fixed(section)
        }
    }

    /// The AER capability as the PCIe section carries it (its first 44 bytes: header, the
    /// uncorrectable status, mask and severity, the correctable status and mask, control, header
    /// log); ghes.c hands it to the AER driver, which reports and counts it on the device.
    private func aerInfo() -> [UInt8] {
        let words: [UInt32] = [
            0x0002_0001,  // AER capability, version 2
            UInt32(p.number("aer_uncor_status") ?? 0), 0,
            UInt32(p.number("aer_uncor_severity") ?? 0x0046_2030),
            UInt32(p.number("aer_cor_status") ?? 0), 0,
        ]
        return words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    private func set(_ section: inout FixedSection, _ field: String, from parameter: String) {
        if let value = p.number(parameter) { section[field] = value }
    }

    /// Lines the kernel prints for this record (cper_estatus_print and the section printers).
    /// `arm64`: whether the target kernel is arm64 (elsewhere it prints ARM sections as unknown).
    func kernelLines(source: UInt64, arm64: Bool) throws(BackendError) -> [String] {
        var lines = [
            "Hardware error from APEI Generic Hardware Error Source: \(source)", "event severity: \(severity)",
        ]
        if let seconds = secondsSince1970, p.text("revision") != "0x0201" {
            lines.append("precise tstamp: " + CPERTimestamp.text(CPERTimestamp.encode(secondsSince1970: seconds)))
        }
        switch try section() {
        case .fixed(let section) where section.layout == SectionLayouts.platformMemory:
            lines.append("section_type: memory error")
            if let address = section["physical_address"] { lines.append(KernelText.physicalAddress(address)) }
            for name in ["node", "card", "module", "rank", "bank", "device", "row", "column"] {
                if let value = section[name] { lines.append("\(name):\(value)") }
            }
        case .fixed(let section) where section.layout == SectionLayouts.processorGeneric:
            lines.append("section_type: general processor error")
        case .fixed:
            lines.append("section_type: PCIe error")
        case .arm:
            lines.append(
                arm64 ? "section_type: ARM processor error" : "section type: unknown, \(ARMProcessorError.type)")
        case .raw(let type, _):
            lines.append(NamedSectionTypes.name(type).map { "section_type: \($0)" } ?? "section type: unknown, \(type)")
        }
        return lines
    }
}
