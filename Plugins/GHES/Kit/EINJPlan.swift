import FirmwareFormats
import InjectPluginAPI

/// APEI EINJ through debugfs (`/sys/kernel/debug/apei/einj`): the firmware makes the error and
/// reports it through its own GHES sources. Writes error_type, flags and the parameters, then
/// error_inject as the trigger (Documentation/firmware-guide/acpi/apei/einj.rst).
enum EINJPlan {
    static let directory = "sys/kernel/debug/apei/einj"
    static let hint = "modprobe einj (the platform needs an EINJ table); mount -t debugfs none /sys/kernel/debug"

    /// EINJ error types (ACPI 6.5 table 18.30) by section and severity.
    static func errorType(section: String, severity: String) -> UInt64 {
        let base: UInt64
        switch section {
        case "processor", "arm": base = 0x1
        case "pcie": base = 0x40
        default: base = 0x8
        }
        switch severity {
        case "fatal": return base << 2
        case "recoverable": return base << 1
        default: return base
        }
    }

    /// Names of the EINJ error-type bits, for notes and probe.
    static let typeNames: [(bit: UInt64, name: String)] = [
        (0x1, "processor correctable"), (0x2, "processor uncorrectable non-fatal"),
        (0x4, "processor uncorrectable fatal"),
        (0x8, "memory correctable"), (0x10, "memory uncorrectable non-fatal"), (0x20, "memory uncorrectable fatal"),
        (0x40, "PCIe correctable"), (0x80, "PCIe uncorrectable non-fatal"), (0x100, "PCIe uncorrectable fatal"),
        (0x200, "platform correctable"), (0x400, "platform uncorrectable non-fatal"),
        (0x800, "platform uncorrectable fatal"),
        (0x1000, "CXL.cache protocol correctable"), (0x2000, "CXL.cache protocol uncorrectable non-fatal"),
        (0x4000, "CXL.cache protocol uncorrectable fatal"),
        (0x8000, "CXL.mem protocol correctable"), (0x10000, "CXL.mem protocol uncorrectable non-fatal"),
        (0x20000, "CXL.mem protocol uncorrectable fatal"),
    ]

    /// EINJ's CXL protocol error types (ACPI 6.5, bits 12-17).
    static let cxlTypes: UInt64 = 0x3F000

    /// Whether `type` is one of the uncorrectable (non-fatal or fatal) types.
    static func isUncorrectable(_ type: UInt64) -> Bool { type & 0x36DB6 != 0 }

    /// The error types `available_error_type` lists (`0x00000008\tMemory Correctable` lines).
    static func available(_ text: String) -> [UInt64] {
        text.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: \.isWhitespace).first.flatMap { UInt64($0.dropFirst(2), radix: 16) }
        }
    }

    /// The PCIe device of the pcie section's parameters as EINJ's SBDF; a segment EINJ cannot
    /// name (above 255) is refused.
    static func pcieSBDF(_ p: ParameterValues) throws(BackendError) -> PCIeSBDF? {
        guard p.text("section") == "pcie", let bus = p.number("bus") else { return nil }
        let segment = p.number("segment") ?? 0
        guard
            let sbdf = PCIeSBDF(
                segment: segment, bus: bus, device: p.number("pcie_device") ?? 0,
                function: p.number("pcie_function") ?? 0)
        else {
            throw BackendError.invalid(
                "segment=\(segment): EINJ's SBDF holds a segment in 8 bits (0-255, param4 bits 31:24); give a segment below 256, or param4 itself"
            )
        }
        return sbdf
    }

    static func plan(_ p: ParameterValues, target: Target, into plan: inout Plan) throws(BackendError) {
        if let components = p.text("components") {
            return try EINJv2Plan.plan(p, components: components, target: target, into: &plan)
        }
        let section = p.text("section") ?? "memory"
        let severity = p.text("severity") ?? "corrected"
        let type = p.number("error_type") ?? errorType(section: section, severity: severity)
        let name = typeNames.first { $0.bit == type }?.name ?? "vendor or combined type"
        let offered = available(target.value("\(directory)/available_error_type") ?? "")
        // Kernels list the CXL types only where einj-cxl is built (CONFIG_ACPI_APEI_EINJ_CXL, then
        // in /sys/kernel/debug/cxl/einj_types); elsewhere error_type's write checks the platform's.
        let listsCXL = offered.contains { $0 & cxlTypes != 0 } || target.exists("sys/kernel/debug/cxl/einj_types")
        if !offered.isEmpty && !offered.contains(type) && (type & cxlTypes == 0 || listsCXL) {
            throw BackendError.unsupported(
                "EINJ error type \(hexNumber(type)) (\(name)) is not offered by this platform; available_error_type lists "
                    + offered.map { hexNumber($0) }.joined(separator: ", "))
        }
        func hex(_ value: UInt64) -> String { hexNumber(value) }
        func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
            plan.write("\(directory)/\(file)", value, note: note, hint: hint, trigger: trigger)
        }
        if isUncorrectable(type) {
            plan.requireConfirmation(
                "EINJ error type \(hex(type)) (\(name)) is uncorrectable: the platform may kill processes, offline memory or reset"
            )
        }
        set("error_type", hex(type), "\(name)")
        // With flags, the kernel takes param1/param2 as the memory address and mask (bit 1),
        // param3 as the APIC ID (bit 0) and param4 as the PCIe SBDF (bit 2); einj.rst.
        let address = p.number("address")
        let apicID = p.number("param3")
        let device = try pcieSBDF(p)
        let sbdf = p.number("param4") ?? device.map { UInt64($0.raw) }
        let derived = (address != nil ? 0x2 : 0) | (apicID != nil ? 0x1 : 0) | (sbdf != nil ? 0x4 : 0) as UInt64
        let flags = p.number("flags") ?? derived
        set(
            "flags", hex(flags),
            "bit 0: param3 is the APIC ID; bit 1: param1/param2 are the memory address and mask; bit 2: param4 is the PCIe SBDF"
        )
        if let address {
            set("param1", hex(address), "physical address")
            set("param2", hex(p.number("address_mask") ?? 0xFFFF_FFFF_FFFF_F000), "address mask")
        }
        if let apicID { set("param3", hex(apicID), "APIC ID") }
        if let sbdf { set("param4", hex(sbdf), "PCIe segment, bus, device, function (bytes 3, 2, 1[7:3], 1[2:0])") }
        set("notrigger", p.flag("notrigger") ? "1" : "0")
        set(
            "error_inject", "1",
            "the firmware injects the error" + (p.flag("notrigger") ? " (triggered by the next access)" : ""),
            trigger: true)
    }
}
