/// An ACPI Generic Address Structure (ACPI 6.5, 5.2.3.2): where a register lives, 12 bytes.
public struct GenericAddress: Sendable, Equatable {
    /// Address spaces the lab uses.
    public enum Space: UInt8, Sendable {
        case systemMemory = 0
        case systemIO = 1
    }

    /// The encoded size.
    public static let size = 12

    /// The address space id (0 system memory, 1 system I/O, ...).
    public var space: UInt8
    public var bitWidth: UInt8
    public var bitOffset: UInt8
    /// 1 byte, 2 word, 3 dword, 4 qword access.
    public var accessSize: UInt8
    public var address: UInt64

    /// A register of `bitWidth` bits in system memory at `address`, accessed at that width.
    public static func memory(_ address: UInt64, bitWidth: UInt8 = 64) -> GenericAddress {
        let access: UInt8 =
            switch bitWidth {
            case 8: 1
            case 16: 2
            case 32: 3
            default: 4
            }
        return GenericAddress(
            space: Space.systemMemory.rawValue, bitWidth: bitWidth, bitOffset: 0, accessSize: access, address: address)
    }

    /// Creates a structure from its fields.
    public init(space: UInt8, bitWidth: UInt8, bitOffset: UInt8, accessSize: UInt8, address: UInt64) {
        self.space = space
        self.bitWidth = bitWidth
        self.bitOffset = bitOffset
        self.accessSize = accessSize
        self.address = address
    }

    /// Reads one structure.
    public init(from reader: inout ByteReader, _ field: String) throws(FormatError) {
        space = try reader.get("\(field).space")
        bitWidth = try reader.get("\(field).bit_width")
        bitOffset = try reader.get("\(field).bit_offset")
        accessSize = try reader.get("\(field).access_size")
        address = try reader.get("\(field).address")
    }

    /// Appends the 12 bytes.
    public func write(to writer: inout ByteWriter) {
        writer.put(space)
        writer.put(bitWidth)
        writer.put(bitOffset)
        writer.put(accessSize)
        writer.put(address)
    }
}
