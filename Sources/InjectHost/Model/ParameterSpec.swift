/// One entry of a backend's parameter schema, copied out of the plugin's descriptor.
public struct ParameterSpec: Sendable, Equatable, Codable {
    /// The kind of value a parameter takes.
    public enum ValueType: String, Sendable, Equatable, Codable, CaseIterable {
        case u64, int, bool
        case choice = "enum"
        case string, bytes, address, cpu
        case cpuList = "cpulist"
        case size, file

        /// A short description of the accepted syntax, for error messages and `info`.
        public var syntax: String {
            switch self {
            case .u64, .address, .cpu: return "decimal or 0x hex"
            case .int: return "signed decimal or 0x hex"
            case .bool: return "true/false, yes/no, on/off, 1/0"
            case .choice: return "one of the listed names"
            case .string: return "text"
            case .bytes: return "hex bytes such as deadbeef or de:ad:be:ef"
            case .cpuList: return "CPU list such as 0-3,8"
            case .size: return "bytes with optional K/M/G/T suffix"
            case .file: return "paths on this machine, comma-separated (- for standard input)"
            }
        }
    }

    /// The parameter's name.
    public var name: String
    /// The kind of value.
    public var type: ValueType
    /// One line of help.
    public var help: String
    /// The unit, or `nil`.
    public var unit: String?
    /// The default in text form, or `nil`.
    public var defaultValue: String?
    /// The allowed names of a `.choice` parameter.
    public var choices: [String]
    /// Whether a request must set it.
    public var isRequired: Bool
    /// Inclusive bounds as raw 64-bit patterns (`Int64` bits for `.int`), or `nil`.
    public var bounds: Bounds?

    /// Inclusive bounds of a numeric parameter.
    public struct Bounds: Sendable, Equatable, Codable {
        public var min: UInt64
        public var max: UInt64
    }

    /// Creates a spec.
    public init(
        name: String, type: ValueType, help: String, unit: String? = nil, defaultValue: String? = nil,
        choices: [String] = [], isRequired: Bool = false, bounds: Bounds? = nil
    ) {
        self.name = name
        self.type = type
        self.help = help
        self.unit = unit
        self.defaultValue = defaultValue
        self.choices = choices
        self.isRequired = isRequired
        self.bounds = bounds
    }

    /// The allowed range in words, such as `0...63` or `-5...5`, or `nil` when unbounded.
    public var rangeDescription: String? {
        if type == .choice { return choices.joined(separator: ", ") }
        guard let bounds else { return nil }
        if type == .int { return "\(Int64(bitPattern: bounds.min))...\(Int64(bitPattern: bounds.max))" }
        // Hex for addresses and bit-field limits (2^n or 2^n-1), decimal for counts and times.
        let bitLimit = bounds.max.nonzeroBitCount == 1 || bounds.max & (bounds.max &+ 1) == 0
        let hex = type == .address || (bounds.max >= 0xFFFF && bitLimit)
        func show(_ v: UInt64) -> String { hex ? hexNumber(v) : String(v) }
        return "\(show(bounds.min))...\(show(bounds.max))"
    }
}
