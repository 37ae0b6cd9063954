/// A Generic Error Status Block holding one Generic Error Data Entry (revision 0x0300) with a
/// platform memory error section, laid out as in the UEFI specification, appendix N, and ACPI
/// 18.3.2.7.1.
struct CPERMemoryRecord {
    /// CPER severities: 0 recoverable, 1 fatal, 2 corrected, 3 informational.
    static let severities = ["recoverable", "fatal", "corrected", "info"]
    /// Platform memory error section type A5BC1114-6F64-4EDE-B863-3E83ED7C83B1, in GUID byte order.
    static let memorySectionType: [UInt8] = [0x14, 0x11, 0xBC, 0xA5, 0x64, 0x6F, 0xDE, 0x4E,
                                             0xB8, 0x63, 0x3E, 0x83, 0xED, 0x7C, 0x83, 0xB1]
    static let entryLength = 72
    static let sectionLength = 80

    var severity: UInt32
    var physicalAddress: UInt64?

    /// The encoded block: status (20 bytes), data entry (72), memory section (80).
    var bytes: [UInt8] {
        var out: [UInt8] = []
        let corrected = severity == 2
        let blockStatus: UInt32 = (corrected ? 1 << 1 : 1 << 0) | (1 << 4)
        append(&out, blockStatus)
        append(&out, UInt32(0))                                   // raw data offset
        append(&out, UInt32(0))                                   // raw data length
        append(&out, UInt32(Self.entryLength + Self.sectionLength)) // data length
        append(&out, severity)
        out += Self.memorySectionType
        append(&out, severity)
        append(&out, UInt16(0x0300))                              // revision
        out.append(0)                                             // validation bits (no FRU id/text/timestamp)
        out.append(0)                                             // flags
        append(&out, UInt32(Self.sectionLength))
        out += [UInt8](repeating: 0, count: 16 + 20 + 8)          // FRU id, FRU text, timestamp
        append(&out, UInt64(physicalAddress == nil ? 0 : 1 << 1)) // validation: physical address valid
        append(&out, UInt64(0))                                   // error status
        append(&out, physicalAddress ?? 0)
        out += [UInt8](repeating: 0, count: Self.sectionLength - 24)
        return out
    }

    private func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }
}
