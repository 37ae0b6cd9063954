/// One request to a backend: its name and parameter values, typed. The host validates every value
/// against the backend's schema (command line first, then the environment, the configuration
/// files and the schema's defaults) before the backend sees it.
///
/// ```swift
/// let plan = try session.plan(InjectionRequest("mce", ["cpu": 1, "severity": "corrected"]))
/// ```
public struct InjectionRequest: Sendable, Equatable {
    /// The backend's name.
    public var backend: String
    /// The values given for this request, in order; each name at most once.
    public var assignments: [ParameterAssignment]
    /// The end state the request declares (`expect=`): the host's, not a parameter of the backend.
    /// Requests made from words have it taken out of their assignments already; others get it from
    /// ``separatingOutcome()``, the one place `expect=` is parsed.
    public var outcome: ExpectedOutcome?

    /// A request with `assignments`.
    public init(_ backend: String, _ assignments: [ParameterAssignment] = []) {
        self.backend = backend
        self.assignments = assignments
    }

    /// A request with named values (in name order, so that the request is the same every time).
    public init(_ backend: String, _ values: [String: ParameterInput]) {
        self.init(backend, values.sorted { $0.key < $1.key }.map { ParameterAssignment($0.key, $0.value) })
    }

    /// A request from the command line's `name=value` words.
    ///
    /// - Throws: ``ConfigurationError/malformedAssignment(_:)`` for a word without `=` or a name.
    /// `expect=` is taken out of the words into ``outcome``.
    ///
    /// - Throws: ``ConfigurationError/malformedAssignment(_:)`` for a word without `=` or a name,
    ///   and ``ConfigurationError/invalidValue(backend:parameter:value:source:reason:)`` for an
    ///   `expect=` that names no outcome.
    public init(_ backend: String, words: [String]) throws(ConfigurationError) {
        var assignments: [ParameterAssignment] = []
        for word in words {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw .malformedAssignment(word)
            }
            assignments.append(
                ParameterAssignment(String(word[..<equals]), .text(String(word[word.index(after: equals)...]))))
        }
        self = try InjectionRequest(backend, assignments).separatingOutcome()
    }

    /// The request with an `expect=` assignment taken out into ``outcome`` (the rest is the
    /// backend's); the request itself when it has none. The one place `expect=` is parsed.
    ///
    /// - Throws: ``ConfigurationError/invalidValue(backend:parameter:value:source:reason:)``
    ///   naming the spellings.
    public func separatingOutcome() throws(ConfigurationError) -> InjectionRequest {
        var separated = self
        separated.assignments = []
        for assignment in assignments {
            if assignment.name.lowercased() == ExpectedOutcome.parameterName {
                separated.outcome = try ExpectedOutcome(parsing: assignment.value.text, backend: backend)
            } else {
                separated.assignments.append(assignment)
            }
        }
        return separated
    }

    /// The request as `name=value` words, `expect=` last (for people: values are not quoted).
    public var words: [String] {
        assignments.map { "\($0.name)=\($0.value.text)" }
            + (outcome.map { ["\(ExpectedOutcome.parameterName)=\($0)"] } ?? [])
    }
}

/// One parameter value of a request.
public struct ParameterAssignment: Sendable, Equatable, Encodable {
    /// The parameter's name as the schema spells it (`-` is read as `_`, case is ignored).
    public var name: String
    /// The value.
    public var value: ParameterInput

    /// Creates an assignment.
    public init(_ name: String, _ value: ParameterInput) {
        self.name = name
        self.value = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("\(name)=\(value.text)")
    }
}

/// A parameter value as a caller holds it; the schema decides what it may be.
public enum ParameterInput: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral
{
    /// Text, parsed as the command line's would be ("0x1000", "corrected", "0-3", "4K").
    case text(String)
    /// A number (u64, address, cpu, size, or an int's bit pattern).
    case number(UInt64)
    /// A boolean.
    case flag(Bool)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: UInt64) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }

    /// The value in the form the schema's parser reads.
    public var text: String {
        switch self {
        case .text(let text): return text
        case .number(let number): return String(number)
        case .flag(let flag): return flag ? "true" : "false"
        }
    }
}
