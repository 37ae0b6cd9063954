import InjectPluginABI

/// One validated parameter value, as the host parsed it.
public struct ParameterValue: Sendable, Equatable {
    /// Whether the request or a default gave the parameter a value.
    public var isSet: Bool
    /// The number: integers, addresses, CPUs, sizes; `Int64` bits for `.int`; 0/1 for `.bool`;
    /// the index for `.choice`.
    public var number: UInt64
    /// The canonical text of the value (the choice name, the CPU list, the string).
    public var text: String
    /// The decoded bytes of a `.bytes` parameter.
    public var bytes: [UInt8]

    /// Creates a value (the SDK does, and test doubles).
    public init(isSet: Bool, number: UInt64, text: String, bytes: [UInt8]) {
        self.isSet = isSet
        self.number = number
        self.text = text
        self.bytes = bytes
    }
}

/// The validated values of one request, one per schema entry.
public struct ParameterValues: Sendable {
    private var values: [String: ParameterValue]

    /// Creates values from a dictionary (used by the SDK and by tests).
    public init(_ values: [String: ParameterValue]) { self.values = values }

    /// The value named `name`, or `nil` when the schema has no such parameter.
    public subscript(name: String) -> ParameterValue? { values[name] }

    /// Whether `name` has a value (given or defaulted).
    public func isSet(_ name: String) -> Bool { values[name]?.isSet ?? false }

    /// The unsigned number of `name` when set.
    public func number(_ name: String) -> UInt64? { set(name)?.number }

    /// The signed number of an `.int` parameter when set.
    public func signed(_ name: String) -> Int64? { set(name).map { Int64(bitPattern: $0.number) } }

    /// The truth of a `.bool` parameter; `false` when unset.
    public func flag(_ name: String) -> Bool { set(name)?.number == 1 }

    /// The text of `name` when set: the choice name for `.choice`.
    public func text(_ name: String) -> String? { set(name)?.text }

    /// The bytes of a `.bytes` parameter when set.
    public func bytes(_ name: String) -> [UInt8]? { set(name)?.bytes }

    /// The files of a `.file` parameter when set, in the order given: each path (`<stdin>` for
    /// standard input) and its text, as the host read them.
    public func files(_ name: String) -> [(path: String, text: String)]? {
        guard let bytes = set(name)?.bytes else { return nil }
        var files: [(String, String)] = []
        for chunk in bytes.split(separator: UInt8(INJECT_FILE_SEPARATOR), omittingEmptySubsequences: false).dropFirst()
        {
            let newline = chunk.firstIndex(of: 10) ?? chunk.endIndex
            files.append(
                (
                    String(decoding: chunk[..<newline], as: UTF8.self),
                    String(
                        decoding: chunk[(newline < chunk.endIndex ? chunk.index(after: newline) : newline)...],
                        as: UTF8.self)
                ))
        }
        return files
    }

    private func set(_ name: String) -> ParameterValue? {
        guard let value = values[name], value.isSet else { return nil }
        return value
    }
}

extension ParameterValues {
    /// Copies the host's C array into Swift values.
    init(_ raw: UnsafePointer<inject_param_value>?, count: Int) {
        var values: [String: ParameterValue] = [:]
        for index in 0..<count {
            guard let item = raw?[index], let name = item.name else { continue }
            let bytes = item.bytes.map { Array(UnsafeBufferPointer(start: $0, count: item.byte_count)) } ?? []
            values[String(cString: name)] = ParameterValue(
                isSet: item.is_set != 0, number: item.number,
                text: item.text.map { String(cString: $0) } ?? "", bytes: bytes)
        }
        self.init(values)
    }
}
