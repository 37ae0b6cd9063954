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
        (0x1, "processor correctable"), (0x2, "processor uncorrectable non-fatal"), (0x4, "processor uncorrectable fatal"),
        (0x8, "memory correctable"), (0x10, "memory uncorrectable non-fatal"), (0x20, "memory uncorrectable fatal"),
        (0x40, "PCIe correctable"), (0x80, "PCIe uncorrectable non-fatal"), (0x100, "PCIe uncorrectable fatal"),
        (0x200, "platform correctable"), (0x400, "platform uncorrectable non-fatal"), (0x800, "platform uncorrectable fatal"),
    ]

    /// The error types `available_error_type` lists (`0x00000008\tMemory Correctable` lines).
    static func available(_ text: String) -> [UInt64] {
        text.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: \.isWhitespace).first.flatMap { UInt64($0.dropFirst(2), radix: 16) }
        }
    }

    static func plan(_ p: ParameterValues, target: Target, into plan: inout Plan) throws(BackendError) {
        let section = p.text("section") ?? "memory"
        let severity = p.text("severity") ?? "corrected"
        let type = p.number("error_type") ?? errorType(section: section, severity: severity)
        let name = typeNames.first { $0.bit == type }?.name ?? "vendor or combined type"
        let offered = available(target.value("\(directory)/available_error_type") ?? "")
        if !offered.isEmpty && !offered.contains(type) {
            throw BackendError.unsupported("EINJ error type 0x\(String(type, radix: 16)) (\(name)) is not offered by this platform; available_error_type lists "
                                           + offered.map { "0x" + String($0, radix: 16) }.joined(separator: ", "))
        }
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
            plan.write("\(directory)/\(file)", value, note: note, hint: hint, trigger: trigger)
        }
        if type & 0xDB6 != 0 {                          // the uncorrectable (non-fatal and fatal) bits
            plan.requireConfirmation("EINJ error type \(hex(type)) (\(name)) is uncorrectable: the platform may kill processes, offline memory or reset")
        }
        set("error_type", hex(type), "\(name)")
        let address = p.number("address")
        let flags = p.number("flags") ?? (address != nil ? 0x2 : (p.isSet("param3") ? 0x4 : 0x0))
        set("flags", hex(flags), "bit 1: param1/param2 give a memory address and mask; bit 2: param3 a PCIe SBDF")
        if let address {
            set("param1", hex(address), "physical address")
            set("param2", hex(p.number("address_mask") ?? 0xFFFF_FFFF_FFFF_F000), "address mask")
        }
        if let param3 = p.number("param3") { set("param3", hex(param3)) }
        if let param4 = p.number("param4") { set("param4", hex(param4)) }
        set("notrigger", p.flag("notrigger") ? "1" : "0")
        set("error_inject", "1", "the firmware injects the error" + (p.flag("notrigger") ? " (triggered by the next access)" : ""), trigger: true)
    }
}
