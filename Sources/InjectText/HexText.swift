/// The bytes of `digits` read two hex digits at a time, or `nil` for an odd count or a non-hex digit.
@inlinable
public func hexPairs(_ digits: some StringProtocol) -> [UInt8]? {
    guard digits.utf8.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(digits.utf8.count / 2)
    var high: UInt8?
    for unit in digits.utf8 {
        guard let nibble = hexNibble(unit) else { return nil }
        if let first = high {
            out.append(first << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return out
}

/// Hex bytes as people write them: optionally `0x`-prefixed, optionally separated by `:`, `-` or
/// spaces (`de:ad:be:ef`); at least one byte, or `nil`.
@inlinable
public func hexBytes(_ text: some StringProtocol) -> [UInt8]? {
    var digits = Substring(text)
    if digits.lowercased().hasPrefix("0x") { digits = digits.dropFirst(2) }
    let bytes = hexPairs(String(digits.filter { $0 != ":" && $0 != "-" && $0 != " " }))
    return bytes?.isEmpty == false ? bytes : nil
}

/// `bytes` as two lower-case hex digits each: what ``hexPairs(_:)`` reads back.
@inlinable
public func hexDigits(_ bytes: some Sequence<UInt8>, separator: String = "") -> String {
    bytes.map(hexByte).joined(separator: separator)
}

/// One byte as two lower-case hex digits.
@inlinable
public func hexByte(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

/// `value` in lower-case hex, zero-padded to `digits` (wider values keep all their digits), as C's
/// `%0*x` prints it: how kernel lines, aer-inject files and PCI addresses write numbers.
@inlinable
public func hexText<T: BinaryInteger>(_ value: T, digits: Int = 1) -> String {
    let text = String(value, radix: 16)
    return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
}

/// `value` as `0x` and lower-case hex digits (`0x1000`): how addresses and registers are shown.
@inlinable
public func hexNumber<T: BinaryInteger>(_ value: T, digits: Int = 1) -> String {
    "0x" + hexText(value, digits: digits)
}

@usableFromInline
func hexNibble(_ unit: UInt8) -> UInt8? {
    switch unit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): unit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): unit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): unit - UInt8(ascii: "A") + 10
    default: nil
    }
}
