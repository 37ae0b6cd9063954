/// The EINJv2 extension (ACPI 6.5): the part of SET_ERROR_TYPE_WITH_ADDRESS's parameters after
/// the classic fields (``EINJParameters``, 36 bytes), with which the OS names the components an
/// error is injected into and each one's syndrome.
///
/// Layout (Linux's `struct einjv2_extension_struct`): length (u32, this header and the whole
/// component array the platform has room for), revision (u16, 1), the count of components given
/// (u16), then 32-byte components: a 128-bit identifier and a 128-bit syndrome, each 16 bytes least
/// significant first. The platform fills length and revision before the OS boots (Linux reads
/// them once, and takes `(length - 8) / 32` as the most components it may give); the OS writes the
/// count and the components with each injection. The platform says it has the extension by bit 30
/// of GET_ERROR_TYPE's types (``supportBit``), and lists the EINJv2 types (``types``) through
/// GET_ERROR_TYPE_V2; an EINJv2 injection sets bit 3 of the parameters' flags (``flag``).
public struct EINJv2Extension: Sendable, Equatable {
    /// One component: which, and the syndrome to inject into it.
    public struct Component: Sendable, Equatable {
        /// The identifier, 16 bytes least significant first.
        public var id: [UInt8]
        /// The syndrome, 16 bytes least significant first.
        public var syndrome: [UInt8]

        /// A component from its two 128-bit values as 16 bytes each, least significant first.
        public init(id: [UInt8], syndrome: [UInt8]) {
            self.id = Self.widened(id)
            self.syndrome = Self.widened(syndrome)
        }

        /// `bytes` cut or zero-padded to 16.
        static func widened(_ bytes: [UInt8]) -> [UInt8] {
            Array((bytes + [UInt8](repeating: 0, count: 16)).prefix(16))
        }

        /// A 128-bit value as hex, most significant digit first without leading zeros (`0x4`).
        public static func hex(_ bytes: [UInt8]) -> String {
            let digits = bytes.reversed().map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }
                .joined().drop { $0 == "0" }
            return "0x" + (digits.isEmpty ? "0" : String(digits))
        }

        /// The 16 bytes (least significant first) of a hex value of at most 32 digits, with or
        /// without `0x`; `nil` for anything else.
        public static func bytes(hex text: String) -> [UInt8]? {
            let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.dropFirst(2) : Substring(text)
            guard !digits.isEmpty, digits.count <= 32, digits.allSatisfy(\.isHexDigit) else { return nil }
            let padded = String(repeating: "0", count: 32 - digits.count) + digits
            let pairs = stride(from: 0, to: 32, by: 2).map {
                UInt8(padded.dropFirst($0).prefix(2), radix: 16) ?? 0
            }
            return pairs.reversed()
        }
    }

    /// Bit 30 of GET_ERROR_TYPE's types: the platform has the extension (Linux's ACPI65_EINJV2_SUPP).
    public static let supportBit: UInt32 = 1 << 30
    /// Bit 3 of the parameters' flags: this injection is an EINJv2 one (Linux's SETWA_FLAGS_EINJV2).
    public static let flag: UInt32 = 0x8
    /// The EINJv2 error types (Linux's ACPI_EINJV2_*): bit 0 processor, 1 memory, 2 PCIe.
    public static let types: [(bit: UInt32, name: String)] = [
        (0x1, "EINJV2 Processor Error"), (0x2, "EINJV2 Memory Error"), (0x4, "EINJV2 PCI Express Error"),
    ]
    /// Where the extension starts in the parameters.
    public static let offset = EINJParameters.size
    /// The header's bytes and a component's.
    public static let headerSize = 8
    public static let componentSize = 32
    /// The revision Linux accepts.
    public static let currentRevision: UInt16 = 1

    /// The header and the whole component array, in bytes.
    public var length: UInt32
    public var revision: UInt16
    /// The components given (the count field is their number).
    public var components: [Component]

    /// The most components the extension has room for.
    public var capacity: Int { max(0, (Int(length) - Self.headerSize) / Self.componentSize) }

    /// An empty extension with room for `capacity` components, as the platform sets it up.
    public init(capacity: Int) {
        length = UInt32(Self.headerSize + capacity * Self.componentSize)
        revision = Self.currentRevision
        components = []
    }

    /// Reads the extension from `bytes`, which start at it.
    ///
    /// - Throws: ``FormatError`` when the header or a counted component is cut off, the revision
    ///   is not 1, or the count exceeds the room.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        var reader = ByteReader(bytes)
        length = try reader.get("einjv2.length")
        revision = try reader.get("einjv2.revision")
        let count: UInt16 = try reader.get("einjv2.component_arr_count")
        guard revision == Self.currentRevision else {
            throw .invalid(field: "einjv2.revision", reason: "\(revision), not \(Self.currentRevision)")
        }
        components = []
        guard Int(count) <= capacity else {
            throw .invalid(
                field: "einjv2.component_arr_count",
                reason: "\(count) components, room for \(capacity) (length \(length))")
        }
        for index in 0..<Int(count) {
            components.append(
                Component(
                    id: try reader.bytes(16, "einjv2.component_arr[\(index)].comp_id"),
                    syndrome: try reader.bytes(16, "einjv2.component_arr[\(index)].comp_synd")))
        }
    }

    /// The bytes: the header, the components given, zeros for the rest of the room.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.put(length)
        writer.put(revision)
        writer.put(UInt16(components.count))
        for component in components {
            writer.put(component.id)
            writer.put(component.syndrome)
        }
        writer.put([UInt8](repeating: 0, count: max(0, Int(length) - writer.bytes.count)))
        return writer.bytes
    }
}
