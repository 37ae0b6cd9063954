/// Why a firmware record or table (CPER, ACPI) could not be decoded or encoded.
public enum FormatError: Error, Equatable, CustomStringConvertible {
    /// The bytes end inside a field.
    case truncated(field: String, offset: Int, needed: Int, available: Int)
    /// A length field disagrees with the bytes around it.
    case badLength(field: String, value: Int, reason: String)
    /// A generic error data entry revision this decoder does not know.
    case unknownRevision(UInt16)
    /// Text that is not hexadecimal bytes.
    case notHex(String)
    /// A field holds a value the format does not allow (a table signature, a checksum).
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .truncated(let field, let offset, let needed, let available):
            return "the record ends inside \(field) at offset \(offset): \(needed) byte(s) needed, \(available) left"
        case .badLength(let field, let value, let reason):
            return "\(field) is \(value): \(reason)"
        case .unknownRevision(let revision):
            return "generic error data entry revision \(hexNumber(revision)) is unknown (0x0201 and 0x0300 are)"
        case .notHex(let text):
            return "'\(text.prefix(40))' is not hexadecimal bytes (give pairs like 0300 or 03:00, or a binary file)"
        case .invalid(let field, let reason):
            return "\(field): \(reason)"
        }
    }
}
