import FirmwareFormats
import InjectPluginAPI

/// EINJv2 (ACPI 6.5) through the kernel's einj: the request names the components the error goes
/// into, each with its syndrome (`components=ID:SYNDROME,...`, 128-bit hex values); their number
/// follows from the list. The plan writes `component_idN`/`component_syndromeN` (each value one
/// write ending in a newline, as the kernel requires), ends the list with a lone newline in the next
/// `component_idN` (all ones: the kernel stops there, and an entry left from an earlier injection
/// would otherwise count), then `error_type` as `V2_0x...`, flags (bit 3, and bit 1 with an
/// address), the address, and `error_inject` (Documentation/firmware-guide/acpi/apei/einj.rst).
enum EINJv2Plan {
    /// The EINJv2 types by section.
    static func type(section: String) -> UInt64 {
        switch section {
        case "processor", "arm": return 0x1
        case "pcie": return 0x4
        default: return 0x2
        }
    }

    /// The components of `text` (`0x1:0x4,0x2:0x4`) as hex values the kernel's files take.
    static func components(_ text: String) throws(BackendError) -> [(id: String, syndrome: String)] {
        var parsed: [(id: String, syndrome: String)] = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = word.split(separator: ":", omittingEmptySubsequences: false).map {
                String($0).trimmingWhitespace
            }
            guard parts.count == 2, let id = EINJv2Extension.Component.bytes(hex: parts[0]),
                let syndrome = EINJv2Extension.Component.bytes(hex: parts[1])
            else {
                throw BackendError.invalid(
                    "components: '\(word)' is not ID:SYNDROME with each a hex value of at most 128 bits (32 digits), e.g. components=0x1:0x4,0x2:0x4"
                )
            }
            guard !id.allSatisfy({ $0 == 0xFF }) else {
                throw BackendError.invalid(
                    "components: ID \(parts[0]) is all ones, the kernel's end of the list; give the component's own ID")
            }
            parsed.append((EINJv2Extension.Component.hex(id), EINJv2Extension.Component.hex(syndrome)))
        }
        return parsed
    }

    /// The EINJv2 types `available_error_type` lists (`V2_0x00000002\tEINJV2 Memory Error`).
    static func offered(_ text: String) -> [UInt64] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("V2_0x") else { return nil }
            return line.split(whereSeparator: \.isWhitespace).first.flatMap { UInt64($0.dropFirst(5), radix: 16) }
        }
    }

    static func plan(_ p: ParameterValues, components text: String, target: Target, into plan: inout Plan)
        throws(BackendError)
    {
        let components = try components(text)
        let type = p.number("v2_type") ?? type(section: p.text("section") ?? "memory")
        let name = EINJv2Extension.types.first { UInt64($0.bit) == type }?.name ?? "unknown EINJv2 type"
        guard EINJv2Extension.types.contains(where: { UInt64($0.bit) == type }) else {
            throw BackendError.invalid(
                "v2_type=\(hexNumber(type)) is not an EINJv2 type (0x1 processor, 0x2 memory, 0x4 PCIe)")
        }
        let directory = EINJPlan.directory
        let listed = target.value("\(directory)/available_error_type")
        let offered = offered(listed ?? "")
        guard !offered.isEmpty else {
            throw BackendError.unsupported(
                listed == nil
                    ? "no \(directory)/available_error_type: \(EINJPlan.hint)"
                    : "EINJv2 is not offered here: available_error_type lists no V2_ type (a kernel lists them where its einj has EINJv2 and the platform's GET_ERROR_TYPE sets bit 30; Debian's 7.3 has it, 6.12 does not); give the request without components"
            )
        }
        guard offered.contains(type) else {
            throw BackendError.unsupported(
                "EINJv2 type \(hexNumber(type)) (\(name)) is not offered by this platform; available_error_type lists "
                    + offered.map { "V2_" + hexNumber($0) }.joined(separator: ", "))
        }
        let room = (0..<256).prefix { target.exists("\(directory)/component_id\($0)") }.count
        guard components.count <= room else {
            throw BackendError.invalid(
                "components: \(components.count) given, this platform takes at most \(room) (component_id0...component_id\(room - 1))"
            )
        }
        func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
            plan.write("\(directory)/\(file)", value, note: note, hint: EINJPlan.hint, trigger: trigger)
        }
        for (index, component) in components.enumerated() {
            set("component_id\(index)", component.id + "\n", "component \(index + 1) of \(components.count)")
            set("component_syndrome\(index)", component.syndrome + "\n", "its syndrome")
        }
        if components.count < room {
            set("component_id\(components.count)", "\n", "ends the list (a lone newline: all ones)")
        }
        set("error_type", "V2_" + hexNumber(type), name)
        let address = p.number("address")
        set(
            "flags", hexNumber(0x8 | (address != nil ? 0x2 : 0)),
            "bit 3: EINJv2; bit 1: param1/param2 are the memory address and mask")
        if let address {
            set("param1", hexNumber(address), "physical address")
            set("param2", hexNumber(p.number("address_mask") ?? 0xFFFF_FFFF_FFFF_F000), "address mask")
        }
        set("notrigger", p.flag("notrigger") ? "1" : "0")
        set(
            "error_inject", "1", "the firmware injects the error into \(components.count) component(s)",
            trigger: true)
    }
}
