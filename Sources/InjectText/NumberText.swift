/// Numbers as people and the kernel write them: decimal or `0x` hex up to 2^64-1, signed numbers,
/// and byte sizes with K/M/G/T suffixes. Every parser here is strict: no sign where none is
/// allowed, no separators, no trailing text.
public enum NumberText {
    /// Decimal digits, or `0x` followed by hex digits; nothing else (no sign, no separators), at
    /// most 2^64-1.
    @inlinable
    public static func unsigned(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else { return nil }
            return UInt64(digits, radix: 16)
        }
        guard !lower.isEmpty, lower.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return UInt64(lower, radix: 10)
    }

    /// Signed decimal or `0x` hex, `-` allowed in front of either.
    @inlinable
    public static func signed(_ text: String) -> Int64? {
        if text.hasPrefix("-") {
            return unsigned(String(text.dropFirst())).flatMap {
                $0 <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- $0) : nil
            }
        }
        return unsigned(text).flatMap { $0 <= UInt64(Int64.max) ? Int64($0) : nil }
    }

    /// A byte count with an optional K/M/G/T suffix (powers of 1024, optional trailing `B`/`iB`).
    @inlinable
    public static func size(_ text: String) -> UInt64? {
        var body = Substring(text.uppercased())
        for suffix in ["IB", "B"] where body.hasSuffix(suffix) && body.count > suffix.count {
            body = body.dropLast(suffix.count)
            break
        }
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        guard let last = body.last, let shift = shifts[last] else { return unsigned(String(body)) }
        guard let base = unsigned(String(body.dropLast())) else { return nil }
        let (result, overflow) = base.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : result
    }

    /// The same, for a slice of text.
    @inlinable
    public static func unsigned(_ text: Substring) -> UInt64? { unsigned(String(text)) }

    /// The same, for a slice of text.
    @inlinable
    public static func signed(_ text: Substring) -> Int64? { signed(String(text)) }

    /// `value` as a metric or a database column gives it: a whole number without a fraction
    /// (below 10^15), else Swift's shortest decimal form.
    public static func decimal(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
