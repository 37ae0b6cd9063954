/// The 36-byte header every ACPI table starts with (ACPI 6.5, 5.2.6), and the checksum that makes
/// all bytes of a table sum to zero.
public struct ACPITableHeader: Sendable, Equatable {
    /// The header's size in bytes.
    public static let size = 36

    /// Four ASCII characters: "HEST", "EINJ", "DSDT", ...
    public var signature: String
    /// The whole table's length, header included.
    public var length: UInt32
    public var revision: UInt8
    /// The byte that makes the table sum to zero.
    public var checksum: UInt8
    /// Six characters.
    public var oemID: String
    /// Eight characters.
    public var oemTableID: String
    public var oemRevision: UInt32
    /// Four characters.
    public var creatorID: String
    public var creatorRevision: UInt32

    /// The header of a table written by `inject` (OEM "INJECT", table "INJECTLB").
    public init(
        signature: String, revision: UInt8, oemID: String = "INJECT", oemTableID: String = "INJECTLB",
        oemRevision: UInt32 = 1, creatorID: String = "INJT", creatorRevision: UInt32 = 1
    ) {
        self.signature = signature
        self.length = 0
        self.revision = revision
        self.checksum = 0
        self.oemID = oemID
        self.oemTableID = oemTableID
        self.oemRevision = oemRevision
        self.creatorID = creatorID
        self.creatorRevision = creatorRevision
    }

    /// Reads the header of `table`, checking its length field against the bytes given.
    ///
    /// - Parameter signature: the signature the caller expects, or `nil` for any.
    public init(parsing table: [UInt8], signature expected: String? = nil) throws(FormatError) {
        var reader = ByteReader(table)
        signature = Self.text(try reader.bytes(4, "signature"))
        if let expected, signature != expected {
            throw .invalid(field: "signature", reason: "'\(signature)' is not \(expected)")
        }
        length = try reader.get("length")
        revision = try reader.get("revision")
        checksum = try reader.get("checksum")
        oemID = Self.text(try reader.bytes(6, "OEM id"))
        oemTableID = Self.text(try reader.bytes(8, "OEM table id"))
        oemRevision = try reader.get("OEM revision")
        creatorID = Self.text(try reader.bytes(4, "creator id"))
        creatorRevision = try reader.get("creator revision")
        guard Int(length) >= Self.size, Int(length) <= table.count else {
            throw .badLength(
                field: "\(signature) length", value: Int(length),
                reason: "the table has \(table.count) bytes and a header of \(Self.size)")
        }
    }

    /// A complete table: this header (its length and checksum filled in) followed by `body`.
    public func table(body: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.put(Array(signature.utf8), padTo: 4)
        writer.put(UInt32(Self.size + body.count))
        writer.put(revision)
        writer.put(UInt8(0))
        writer.put(Array(oemID.utf8), padTo: 6)
        writer.put(Array(oemTableID.utf8), padTo: 8)
        writer.put(oemRevision)
        writer.put(Array(creatorID.utf8), padTo: 4)
        writer.put(creatorRevision)
        writer.put(body)
        writer.set(Self.checksum(writer.bytes), at: 9)
        return writer.bytes
    }

    /// The checksum byte that makes all bytes of `table` sum to zero (byte 9 counted as zero).
    public static func checksum(_ table: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for (index, byte) in table.enumerated() where index != 9 { sum &+= byte }
        return 0 &- sum
    }

    /// Whether all bytes of `table` (as long as its header says) sum to zero.
    public static func isChecksumValid(_ table: [UInt8]) -> Bool {
        table.reduce(UInt8(0)) { $0 &+ $1 } == 0
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
