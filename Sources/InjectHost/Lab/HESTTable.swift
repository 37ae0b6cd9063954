/// Builds an ACPI Hardware Error Source Table (HEST) with one Generic Hardware Error Source
/// (type 9) per firmware source, for QEMU's `-acpitable file=`.
///
/// Layout (ACPI 6.5, 18.3.2): the 36-byte table header, a u32 source count, then 64 bytes per
/// source: type, source id, related source id (0xFFFF: none), flags, enabled, records to
/// preallocate, max sections per record, max raw data length, the Error Status Address (a
/// 12-byte Generic Address Structure), a 28-byte Hardware Error Notification structure, and the
/// error status block length.
public enum HESTTable {
    /// The size of one Generic Hardware Error Source entry.
    public static let sourceLength = 64

    /// The table bytes, checksummed.
    public static func build(_ layout: FirmwareLayout) -> [UInt8] {
        var body: [UInt8] = LittleEndian.bytes(UInt32(layout.sources.count))
        for source in layout.sources {
            body += LittleEndian.bytes(UInt16(9))                 // Generic Hardware Error Source
            body += LittleEndian.bytes(source.id)
            body += LittleEndian.bytes(UInt16(0xFFFF))            // related source: none
            body += [0, 1]                                        // flags, enabled
            body += LittleEndian.bytes(UInt32(1))                 // records to preallocate
            body += LittleEndian.bytes(UInt32(1))                 // max sections per record
            body += LittleEndian.bytes(source.blockLength)        // max raw data length
            body += [0, 64, 0, 4] + LittleEndian.bytes(source.registerAddress)  // GAS: memory, 64-bit, qword
            body += notification(source)
            body += LittleEndian.bytes(source.blockLength)
        }
        var table = header(length: 36 + body.count) + body
        table[9] = checksum(table)
        return table
    }

    /// The 28-byte notification structure.
    static func notification(_ source: FirmwareLayout.Source) -> [UInt8] {
        var bytes: [UInt8] = [source.notification.rawValue, 28]
        bytes += LittleEndian.bytes(UInt16(0))                    // configuration write enable
        bytes += LittleEndian.bytes(source.pollIntervalMilliseconds)
        bytes += LittleEndian.bytes(UInt32(0))                    // vector
        bytes += [UInt8](repeating: 0, count: 16)                 // thresholds
        return bytes
    }

    /// The ACPI table header with a zero checksum.
    static func header(length: Int) -> [UInt8] {
        var bytes = Array("HEST".utf8) + LittleEndian.bytes(UInt32(length))
        bytes += [1, 0]                                           // revision, checksum
        bytes += Array("INJECT".utf8)                             // OEM id (6)
        bytes += Array("INJECTLB".utf8)                           // OEM table id (8)
        bytes += LittleEndian.bytes(UInt32(1))                    // OEM revision
        bytes += Array("INJT".utf8)                               // creator id
        bytes += LittleEndian.bytes(UInt32(1))                    // creator revision
        return bytes
    }

    /// The byte that makes all bytes of `table` sum to zero (with byte 9 counted as zero).
    static func checksum(_ table: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for (index, byte) in table.enumerated() where index != 9 { sum &+= byte }
        return 0 &- sum
    }
}
