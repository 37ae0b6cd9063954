/// A request that cannot be turned into validated parameter values. Nothing is injected when one
/// of these is thrown.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A value that does not parse or lies outside its range.
    case invalidValue(backend: String, parameter: String, value: String, source: ValueSource, reason: String)
    /// A name the backend's schema does not have.
    case unknownParameter(backend: String, name: String, source: ValueSource, valid: [String])
    /// A required parameter nobody set.
    case missingRequired(backend: String, parameter: String, help: String)
    /// A command-line argument that is not `name=value`.
    case malformedAssignment(String)
    /// The same name twice on the command line.
    case repeatedParameter(String)
    /// A configuration file that exists but cannot be read or parsed.
    case unreadableFile(path: String, reason: String)
    /// An environment variable's value is refused; `reason` names the value and the range.
    case environment(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidValue(let backend, let parameter, let value, let source, let reason):
            return "\(backend): invalid \(parameter)=\(value) (from \(source)): \(reason); see `inject info \(backend)`"
        case .unknownParameter(let backend, let name, let source, let valid):
            return
                "\(backend): unknown parameter '\(name)' (from \(source)); valid names: \(valid.joined(separator: ", "))"
        case .missingRequired(let backend, let parameter, let help):
            return "\(backend): missing required parameter \(parameter) (\(help)); add \(parameter)=VALUE"
        case .malformedAssignment(let text):
            return "'\(text)' is not name=value; parameters are given as name=value, e.g. cpu=0"
        case .repeatedParameter(let name):
            return "parameter '\(name)' is given more than once on the command line; give it once"
        case .unreadableFile(let path, let reason):
            return "config file \(path): \(reason)"
        case .environment(_, let reason):
            return "environment: \(reason)"
        }
    }
}
