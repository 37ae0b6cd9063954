import InjectPluginABI

/// One entry of a backend's parameter schema.
///
/// From the schema the host derives command-line parsing (`name=value`), environment variables
/// (`INJECT_<BACKEND>_<NAME>`), config-file keys, `inject info`, and validation.
public struct Parameter: Sendable {
    /// The kind of value, with its bounds where it has any.
    public enum Kind: Sendable, Equatable {
        /// Unsigned integer, decimal or `0x` hex, optionally bounded.
        case u64(ClosedRange<UInt64>? = nil)
        /// Signed integer, optionally bounded.
        case int(ClosedRange<Int64>? = nil)
        /// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
        case bool
        /// One of a fixed list of names.
        case choice([String])
        /// Free text.
        case string
        /// Raw bytes given as hex.
        case bytes
        /// A physical address, optionally bounded.
        case address(ClosedRange<UInt64>? = nil)
        /// One logical CPU number, optionally bounded.
        case cpu(ClosedRange<UInt64>? = nil)
        /// A CPU list such as `0-3,8`.
        case cpuList
        /// A byte count with an optional K/M/G/T suffix, optionally bounded.
        case size(ClosedRange<UInt64>? = nil)
        /// Files on the machine running inject (paths, `-` for standard input), read by the host
        /// (ABI 1.3); ``ParameterValues/files(_:)`` gives their paths and contents.
        case file
    }

    /// The name: lowercase letters, digits and `_`, starting with a letter.
    public var name: String
    /// The kind of value.
    public var kind: Kind
    /// The default in its text form, or `nil` when there is none.
    public var defaultValue: String?
    /// Whether a request must give this parameter (only meaningful without a default).
    public var isRequired: Bool
    /// The unit shown after values, such as `ms`.
    public var unit: String?
    /// One line of help.
    public var help: String

    /// Creates a schema entry.
    public init(
        _ name: String, _ kind: Kind, default defaultValue: String? = nil,
        required isRequired: Bool = false, unit: String? = nil, help: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.isRequired = isRequired
        self.unit = unit
        self.help = help
    }
}

extension Parameter.Kind {
    /// The C type code, the bounds (as raw 64-bit patterns) and the choices, as the ABI carries them.
    var abiShape: (type: inject_param_type, bounds: (min: UInt64, max: UInt64)?, choices: [String]) {
        func raw(_ r: ClosedRange<UInt64>?) -> (min: UInt64, max: UInt64)? {
            r.map { ($0.lowerBound, $0.upperBound) }
        }
        switch self {
        case .u64(let r): return (INJECT_PARAM_U64, raw(r), [])
        case .int(let r):
            let bits = r.map { (UInt64(bitPattern: $0.lowerBound), UInt64(bitPattern: $0.upperBound)) }
            return (INJECT_PARAM_INT, bits, [])
        case .bool: return (INJECT_PARAM_BOOL, nil, [])
        case .choice(let names): return (INJECT_PARAM_ENUM, nil, names)
        case .string: return (INJECT_PARAM_STRING, nil, [])
        case .bytes: return (INJECT_PARAM_BYTES, nil, [])
        case .address(let r): return (INJECT_PARAM_ADDRESS, raw(r), [])
        case .cpu(let r): return (INJECT_PARAM_CPU, raw(r), [])
        case .cpuList: return (INJECT_PARAM_CPU_LIST, nil, [])
        case .size(let r): return (INJECT_PARAM_SIZE, raw(r), [])
        case .file: return (INJECT_PARAM_FILE, nil, [])
        }
    }
}
