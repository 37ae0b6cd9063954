/// A parameter value after typed parsing and range checks.
public struct ParameterValue: Sendable, Equatable, Encodable {
    /// The number: integers, addresses, CPUs, sizes; `Int64` bits for `.int`; 0/1 for `.bool`;
    /// the choice's index for `.choice`; 0 otherwise.
    public var number: UInt64
    /// The canonical text: the choice name, a normalised CPU list, `0x` hex for addresses.
    public var text: String
    /// The decoded bytes of a `.bytes` parameter.
    public var bytes: [UInt8]
    /// A `.file` parameter's contents as the plugin receives them (``FileParameter``); kept out of
    /// JSON output and the journal, which show the paths.
    public var fileContents: [UInt8]?

    /// Creates a value.
    public init(number: UInt64 = 0, text: String, bytes: [UInt8] = [], fileContents: [UInt8]? = nil) {
        self.number = number
        self.text = text
        self.bytes = bytes
        self.fileContents = fileContents
    }

    private enum CodingKeys: String, CodingKey { case number, text, bytes }
}

/// Where an effective parameter value came from, highest precedence first.
public enum ValueSource: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// `name=value` on the command line.
    case commandLine
    /// An `INJECT_<BACKEND>_<NAME>` environment variable.
    case environment(String)
    /// A configuration file.
    case configFile(String)
    /// The schema's default.
    case schemaDefault
    /// No value at all (optional parameter left unset).
    case unset

    public var description: String {
        switch self {
        case .commandLine: return "command line"
        case .environment(let name): return "environment \(name)"
        case .configFile(let path): return "config \(path)"
        case .schemaDefault: return "default"
        case .unset: return "unset"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A parameter's effective value and its origin.
public struct ResolvedParameter: Sendable, Equatable, Encodable {
    /// The schema entry.
    public var spec: ParameterSpec
    /// The value, or `nil` when unset.
    public var value: ParameterValue?
    /// Where the value came from.
    public var source: ValueSource
}
