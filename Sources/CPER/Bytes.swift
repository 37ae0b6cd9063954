/// The bytes of `digits` read two hex digits at a time, or `nil` for an odd count or a non-hex digit.
func hexPairs(_ digits: String) -> [UInt8]? {
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
        out.append(byte)
        index = next
    }
    return out
}

/// Appends little-endian fields to a byte buffer.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func put(_ raw: [UInt8]) { bytes += raw }

    /// `raw` cut or zero-padded to exactly `count` bytes.
    mutating func put(_ raw: [UInt8], padTo count: Int) {
        bytes += raw.prefix(count) + [UInt8](repeating: 0, count: max(0, count - raw.count))
    }
}

/// Reads little-endian fields from a byte buffer, failing with the field's name when it runs out.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func get<T: FixedWidthInteger>(_ field: String, as _: T.Type = T.self) throws(CPERError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(field: field, offset: offset, needed: size, available: remaining) }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }

    mutating func bytes(_ count: Int, _ field: String) throws(CPERError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(field: field, offset: offset, needed: count, available: remaining) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
