/// Parses parameter text according to its schema entry: numbers in decimal or `0x` hex up to
/// 2^64-1, sizes with suffixes, booleans, choices, CPU lists and hex bytes, with range checks.
public enum ValueParser {
    /// Parses `text` for `spec`.
    ///
    /// - Throws: ``ConfigurationError/invalidValue(backend:parameter:value:reason:)`` naming the
    ///   value, what is allowed, and where it came from.
    public static func parse(
        _ text: String, for spec: ParameterSpec, backend: String,
        source: ValueSource
    ) throws(ConfigurationError) -> ParameterValue {
        func fail(_ reason: String) -> ConfigurationError {
            .invalidValue(backend: backend, parameter: spec.name, value: text, source: source, reason: reason)
        }
        let trimmed = text.trimmed(" \t\n")
        switch spec.type {
        case .u64, .address, .cpu:
            guard let number = NumberText.unsigned(trimmed) else {
                throw fail(
                    "expected \(spec.type.syntax) up to 0xffffffffffffffff: decimal digits (4096) or 0x and hex digits (0x1000), nothing else"
                )
            }
            try checkRange(number, spec, fail)
            // Addresses, and numbers the user wrote in hex, stay hex; the rest are decimal.
            let hex = spec.type == .address || (spec.type == .u64 && trimmed.lowercased().hasPrefix("0x"))
            return ParameterValue(number: number, text: hex ? hexNumber(number) : String(number))
        case .int:
            guard let number = NumberText.signed(trimmed) else { throw fail("expected \(spec.type.syntax)") }
            if let bounds = spec.bounds,
                number < Int64(bitPattern: bounds.min) || number > Int64(bitPattern: bounds.max)
            {
                throw fail("allowed range is \(spec.rangeDescription ?? "")")
            }
            return ParameterValue(number: UInt64(bitPattern: number), text: String(number))
        case .size:
            guard let number = NumberText.size(trimmed) else {
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
                return ParameterValue(
                    number: UInt64(files.count), text: trimmed, fileContents: FileParameter.encode(files))
            } catch {
                throw fail(error.reason)
            }
        case .bytes:
            guard let bytes = hexBytes(trimmed) else {
                throw fail(
                    "expected \(spec.type.syntax): at least one byte as two hex digits each, optionally separated by ':', '-' or spaces (de:ad:be:ef)"
                )
            }
            return ParameterValue(number: UInt64(bytes.count), text: hexDigits(bytes), bytes: bytes)
        case .cpuList:
            guard let cpus = CPUList(trimmed) else {
                throw fail("expected \(spec.type.syntax), CPUs 0...\(CPUList.largestCPU)")
            }
            if let bounds = spec.bounds, let bad = cpus.members.first(where: { $0 < bounds.min || $0 > bounds.max }) {
                throw fail("CPU \(bad) is outside \(spec.rangeDescription ?? "")")
            }
            return ParameterValue(number: UInt64(cpus.members.count), text: cpus.description)
        }
    }

    private static func checkRange(
        _ number: UInt64, _ spec: ParameterSpec,
        _ fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) {
        guard let bounds = spec.bounds, number < bounds.min || number > bounds.max else { return }
        throw fail("allowed range is \(spec.rangeDescription ?? "")")
    }
}
