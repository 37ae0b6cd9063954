/// Parses parameter text according to its schema entry: numbers in decimal or `0x` hex up to
/// 2^64-1, sizes with suffixes, booleans, choices, CPU lists and hex bytes, with range checks.
public enum ValueParser {
    /// Parses `text` for `spec`.
    ///
    /// - Throws: ``ConfigurationError/invalidValue(backend:parameter:value:reason:)`` naming the
    ///   value, what is allowed, and where it came from.
    public static func parse(_ text: String, for spec: ParameterSpec, backend: String,
                             source: ValueSource) throws(ConfigurationError) -> ParameterValue {
        func fail(_ reason: String) -> ConfigurationError {
            .invalidValue(backend: backend, parameter: spec.name, value: text, source: source, reason: reason)
        }
        let trimmed = text.trimmed(" \t\n")
        switch spec.type {
        case .u64, .address, .cpu:
            guard let number = parseUnsigned(trimmed) else {
                throw fail("expected \(spec.type.syntax) up to 0xffffffffffffffff: decimal digits (4096) or 0x and hex digits (0x1000), nothing else")
            }
            try checkRange(number, spec, fail)
            // Addresses, and numbers the user wrote in hex, stay hex; the rest are decimal.
            let hex = spec.type == .address || (spec.type == .u64 && trimmed.lowercased().hasPrefix("0x"))
            return ParameterValue(number: number, text: hex ? "0x" + String(number, radix: 16) : String(number))
        case .int:
            guard let number = parseSigned(trimmed) else { throw fail("expected \(spec.type.syntax)") }
            if let bounds = spec.bounds,
               number < Int64(bitPattern: bounds.min) || number > Int64(bitPattern: bounds.max) {
                throw fail("allowed range is \(spec.rangeDescription ?? "")")
            }
            return ParameterValue(number: UInt64(bitPattern: number), text: String(number))
        case .size:
            guard let number = parseSize(trimmed) else {
                throw fail("expected \(spec.type.syntax), e.g. 4096, 4K, 2M")
            }
            try checkRange(number, spec, fail)
            return ParameterValue(number: number, text: String(number))
        case .bool:
            switch trimmed.lowercased() {
            case "1", "true", "yes", "on": return ParameterValue(number: 1, text: "true")
            case "0", "false", "no", "off": return ParameterValue(number: 0, text: "false")
            default: throw fail("expected \(spec.type.syntax)")
            }
        case .choice:
            guard let index = spec.choices.firstIndex(where: { $0.lowercased() == trimmed.lowercased() }) else {
                throw fail("allowed values are \(spec.choices.joined(separator: ", "))")
            }
            return ParameterValue(number: UInt64(index), text: spec.choices[index])
        case .string:
            return ParameterValue(text: text)
        case .file:
            do {
                let files = try FileParameter.read(trimmed)
                return ParameterValue(number: UInt64(files.count), text: trimmed, fileContents: FileParameter.encode(files))
            } catch {
                throw fail(error.reason)
            }
        case .bytes:
            guard let bytes = parseHexBytes(trimmed) else {
                throw fail("expected \(spec.type.syntax): at least one byte as two hex digits each, optionally separated by ':', '-' or spaces (de:ad:be:ef)")
            }
            return ParameterValue(number: UInt64(bytes.count), text: bytes.map { hexByte($0) }.joined(), bytes: bytes)
        case .cpuList:
            guard let cpus = CPUList(trimmed) else { throw fail("expected \(spec.type.syntax), CPUs 0...\(CPUList.largestCPU)") }
            if let bounds = spec.bounds, let bad = cpus.members.first(where: { $0 < bounds.min || $0 > bounds.max }) {
                throw fail("CPU \(bad) is outside \(spec.rangeDescription ?? "")")
            }
            return ParameterValue(number: UInt64(cpus.members.count), text: cpus.description)
        }
    }

    private static func checkRange(_ number: UInt64, _ spec: ParameterSpec,
                                   _ fail: (String) -> ConfigurationError) throws(ConfigurationError) {
        guard let bounds = spec.bounds, number < bounds.min || number > bounds.max else { return }
        throw fail("allowed range is \(spec.rangeDescription ?? "")")
    }

    /// Decimal digits, or `0x` followed by hex digits; nothing else (no sign, no separators), at
    /// most 2^64-1.
    public static func parseUnsigned(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else { return nil }
            return UInt64(digits, radix: 16)
        }
        guard !lower.isEmpty, lower.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return UInt64(lower, radix: 10)
    }

    /// Signed decimal or `0x` hex.
    public static func parseSigned(_ text: String) -> Int64? {
        if text.hasPrefix("-") { return parseUnsigned(String(text.dropFirst())).flatMap { $0 <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- $0) : nil } }
        return parseUnsigned(text).flatMap { $0 <= UInt64(Int64.max) ? Int64($0) : nil }
    }

    /// A byte count with an optional K/M/G/T suffix (powers of 1024, optional trailing `B`/`iB`).
    public static func parseSize(_ text: String) -> UInt64? {
        var body = Substring(text.uppercased())
        for suffix in ["IB", "B"] where body.hasSuffix(suffix) && body.count > suffix.count {
            body = body.dropLast(suffix.count)
            break
        }
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        guard let last = body.last, let shift = shifts[last] else { return parseUnsigned(String(body)) }
        guard let base = parseUnsigned(String(body.dropLast())) else { return nil }
        let (result, overflow) = base.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : result
    }

    /// Hex bytes, optionally separated by `:`, `-` or spaces, optionally prefixed with `0x`.
    public static func parseHexBytes(_ text: String) -> [UInt8]? {
        var digits = text.lowercased()
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        digits.removeAll { $0 == ":" || $0 == "-" || $0 == " " }
        guard !digits.isEmpty, digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// A byte as two lower-case hex digits.
    public static func hexByte(_ byte: UInt8) -> String {
        byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters from `set`.
    public func trimmed(_ set: String = " \t\n\r") -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
