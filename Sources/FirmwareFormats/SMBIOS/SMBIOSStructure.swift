/// One SMBIOS structure (DMTF DSP0134 §6.1): a header (type, length, handle), the formatted
/// area, and the string set that the formatted area's string numbers (1-based) refer to.
///
/// The lab builds its memory devices with it (QEMU `-smbios file=`), and the backends read the
/// target's table (`/sys/firmware/dmi/tables/DMI`) with ``parseTable(_:)``.
public struct SMBIOSStructure: Sendable, Equatable {
    public var type: UInt8
    public var handle: UInt16
    /// The formatted area after the 4-byte header.
    public var formatted: [UInt8]
    /// The strings, in order (string number 1 is `strings[0]`).
    public var strings: [String]

    public init(type: UInt8, handle: UInt16, formatted: [UInt8], strings: [String] = []) {
        self.type = type
        self.handle = handle
        self.formatted = formatted
        self.strings = strings
    }

    /// The string a formatted-area byte refers to, or `""` for 0 or a number past the set.
    public func string(at offset: Int) -> String {
        let number = Int(byte(offset))
        return number >= 1 && number <= strings.count ? strings[number - 1] : ""
    }

    /// The formatted byte at `offset` (from the structure's start, header included), 0 when short.
    public func byte(_ offset: Int) -> UInt8 {
        let index = offset - 4
        return index >= 0 && index < formatted.count ? formatted[index] : 0
    }

    /// A little-endian field at `offset` (from the structure's start), 0 when short.
    public func value<T: FixedWidthInteger>(_ offset: Int, as _: T.Type) -> T {
        (0..<MemoryLayout<T>.size).reduce(T.zero) { $0 | T(byte(offset + $1)) << (8 * $1) }
    }

    /// The bytes: header, formatted area, each string NUL-terminated, and the closing NUL (two
    /// NULs when there are no strings).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.put(type)
        writer.put(UInt8(truncatingIfNeeded: 4 + formatted.count))
        writer.put(handle)
        writer.put(formatted)
        if strings.isEmpty { writer.put(UInt16(0)) }
        for string in strings { writer.put(Array(string.utf8) + [0]) }
        if !strings.isEmpty { writer.put(UInt8(0)) }
        return writer.bytes
    }

    /// Every structure of a structure table (the end-of-table type 127 ends it).
    ///
    /// - Throws: ``FormatError`` when a structure's length or string set runs past the bytes.
    public static func parseTable(_ bytes: [UInt8]) throws(FormatError) -> [SMBIOSStructure] {
        var structures: [SMBIOSStructure] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            var reader = ByteReader(bytes, offset: offset)
            let type: UInt8 = try reader.get("type")
            let length = Int(try reader.get("length", as: UInt8.self))
            let handle: UInt16 = try reader.get("handle")
            guard length >= 4 else {
                throw .badLength(
                    field: "SMBIOS structure length at offset \(offset)", value: length,
                    reason: "below the 4-byte header")
            }
            let formatted = try reader.bytes(length - 4, "formatted area of type \(type)")
            var strings: [String] = []
            var cursor = offset + length
            // The string set ends with an empty string (two NULs in a row, or one right away).
            var start = cursor
            while true {
                guard cursor < bytes.count else {
                    throw .truncated(
                        field: "string set of type \(type) handle \(hexNumber(handle))", offset: start, needed: 1,
                        available: 0)
                }
                if bytes[cursor] == 0 {
                    if cursor == start {
                        if strings.isEmpty, cursor + 1 < bytes.count, bytes[cursor + 1] == 0 { cursor += 1 }
                        cursor += 1
                        break
                    }
                    strings.append(String(decoding: bytes[start..<cursor], as: UTF8.self))
                    start = cursor + 1
                }
                cursor += 1
            }
            structures.append(SMBIOSStructure(type: type, handle: handle, formatted: formatted, strings: strings))
            if type == 127 { break }
            offset = cursor
        }
        return structures
    }
}
