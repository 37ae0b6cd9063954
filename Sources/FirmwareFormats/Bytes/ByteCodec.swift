/// A PCI function's address as Linux writes it, `ssss:bb:dd.f`.
public func pciAddress(segment: UInt16, bus: UInt8, device: UInt8, function: UInt8) -> String {
    "\(hexText(segment, digits: 4)):\(hexText(bus, digits: 2)):\(hexText(device, digits: 2)).\(hexText(function, digits: 1))"
}

/// Appends little-endian fields to a byte buffer: the one encoder of every firmware format here.
public struct ByteWriter: Sendable {
    /// What was written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty buffer.
    public init() {}

    /// Appends `value`, least significant byte first.
    public mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// Appends `raw` as it is.
    public mutating func put(_ raw: [UInt8]) { bytes += raw }

    /// `raw` cut or zero-padded to exactly `count` bytes.
    public mutating func put(_ raw: [UInt8], padTo count: Int) {
        bytes += raw.prefix(count) + [UInt8](repeating: 0, count: max(0, count - raw.count))
    }
}

/// Reads little-endian fields from a byte buffer, failing with the field's name when it runs out:
/// the one decoder of every firmware format here.
public struct ByteReader: Sendable {
    /// The whole buffer.
    public let bytes: [UInt8]
    /// Where the next field starts.
    public private(set) var offset: Int

    /// Reads `bytes` from `offset`.
    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left after `offset`.
    public var remaining: Int { bytes.count - offset }

    /// The next `T`, least significant byte first.
    public mutating func get<T: FixedWidthInteger>(_ field: String, as _: T.Type = T.self) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw .truncated(field: field, offset: offset, needed: size, available: remaining)
        }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }

    /// The next `count` bytes.
    public mutating func bytes(_ count: Int, _ field: String) throws(FormatError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw .truncated(field: field, offset: offset, needed: count, available: remaining)
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}

extension ByteWriter {
    /// `value`'s low `count` bytes, least significant first (a 48-bit field, for example).
    public mutating func put<T: FixedWidthInteger>(_ value: T, count: Int) {
        bytes += (0..<count).map { UInt8(truncatingIfNeeded: UInt64(truncatingIfNeeded: value) >> (8 * UInt64($0))) }
    }

    /// Overwrites the byte at `index` (a checksum, once the rest is known).
    public mutating func set(_ byte: UInt8, at index: Int) { bytes[index] = byte }
}

extension ByteReader {
    /// Moves to `offset` (within the buffer, or its end).
    public mutating func seek(to offset: Int) throws(FormatError) {
        guard offset >= 0, offset <= bytes.count else {
            throw .truncated(
                field: "offset \(offset)", offset: self.offset, needed: offset - self.offset, available: remaining)
        }
        self.offset = offset
    }
}
