/// A GUID as UEFI stores it: the first three fields little-endian, the last eight bytes as written.
public struct GUID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bytes in memory order.
    public let bytes: [UInt8]

    /// A GUID from its 16 bytes in memory order.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a GUID has 16 bytes")
        self.bytes = bytes
    }

    /// Parses the text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (any case).
    public init?(_ text: String) {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12], let values = hexPairs(groups.joined()) else { return nil }
        // Data1 (4 bytes), Data2 and Data3 (2 bytes each) are stored little-endian.
        bytes =
            Array(values[0..<4].reversed()) + Array(values[4..<6].reversed()) + Array(values[6..<8].reversed())
            + Array(values[8..<16])
    }

    public var description: String {
        let hex = { (slice: ArraySlice<UInt8>) in hexDigits(Array(slice)) }
        return [
            hex(bytes[0..<4].reversed()[...]), hex(bytes[4..<6].reversed()[...]), hex(bytes[6..<8].reversed()[...]),
            hex(bytes[8..<10]), hex(bytes[10..<16]),
        ].joined(separator: "-")
    }
}
