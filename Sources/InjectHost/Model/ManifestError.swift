/// Why a vendor manifest was refused: the file, the key and the reason.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not JSON, or a key of the wrong type.
        case syntax(String)
        /// A required key is missing.
        case missing
        /// A value is not allowed.
        case invalid(String)
        /// A C declaration libffi (or the host) cannot express.
        case signature(String)
        /// The library or its function cannot be loaded.
        case library(String)

        public var description: String {
            switch self {
            case .syntax(let why): return why
            case .missing: return "is required"
            case .invalid(let why): return why
            case .signature(let why): return "cannot be called: \(why)"
            case .library(let why): return why
            }
        }
    }

    /// The manifest file.
    public var file: String
    /// The key path, such as `call.arguments.ticket`.
    public var key: String
    public var reason: Reason

    public var description: String { "\(file): \(key.isEmpty ? "" : "\(key): ")\(reason)" }
}
