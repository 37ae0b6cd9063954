import InjectPluginABI

/// A failure a backend reports to the host, with a message for people.
///
/// Messages should name the value, what is allowed and the fix, for example:
/// `bank 40 is out of range: this CPU has banks 0...21 (see inject probe mce)`.
public struct BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure, mapped onto the ABI's result codes.
    public enum Code: Int32, Sendable {
        /// A parameter value, or a combination of values, is invalid.
        case invalid = -3
        /// The target lacks what the request needs.
        case unsupported = -4
        /// A path of the target does not exist.
        case notFound = -5
        /// The target refused access.
        case permission = -6
        /// Anything else.
        case failed = -1
    }

    /// The class of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An invalid-value error.
    public static func invalid(_ message: String) -> BackendError { BackendError(.invalid, message) }
    /// An unsupported-target error.
    public static func unsupported(_ message: String) -> BackendError { BackendError(.unsupported, message) }

    public var description: String { message }
}
