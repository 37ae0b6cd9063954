#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Strict reading of the project's own JSON files (configuration, campaign scenarios): a key the
/// file's shape does not know, or a key given twice, is refused with its path instead of being
/// ignored (a misspelt `"cuont"` would otherwise run one unpaced injection), and a decoding error
/// is said with the path of the value.
enum JSONShape {
    /// The keys allowed in the object at a path (`["steps", "*"]`: any element of `steps`), or
    /// `nil` where any key is allowed (a map such as `parameters`).
    typealias AllowedKeys = ([String]) -> [String]?

    /// Why `bytes` does not have the shape `allowed` describes: the first unknown or repeated key,
    /// or `nil` when every key is known and given once (or the bytes are not JSON: the decoder
    /// says so).
    static func problem(in bytes: [UInt8], allowed: AllowedKeys) -> String? {
        if let key = DuplicateKeys.first(in: bytes) { return "key '\(key)' is given twice; give each key once" }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        return unknownKey(in: value, at: [], allowed: allowed)
    }

    private static func unknownKey(in value: JSONValue, at path: [String], allowed: AllowedKeys) -> String? {
        switch value {
        case .object(let members):
            if let keys = allowed(path) {
                if let unknown = members.keys.sorted().first(where: { !keys.contains($0) }) {
                    let place = path.isEmpty ? "" : " in \(dotted(path))"
                    return
                        "unknown key '\(PrintableText.escaped(unknown, limit: 64))'\(place); the valid keys are \(keys.joined(separator: ", "))"
                }
            }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let problem = unknownKey(in: member, at: path + [key], allowed: allowed) { return problem }
            }
        case .array(let elements):
            for element in elements {
                if let problem = unknownKey(in: element, at: path + ["*"], allowed: allowed) { return problem }
            }
        default:
            break
        }
        return nil
    }

    private static func dotted(_ path: [String]) -> String {
        path.reduce("") { text, key in key == "*" ? text + "[]" : text.isEmpty ? key : text + "." + key }
    }

    /// A decoding error in words, with the path of the value it is about.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
            var text = context.debugDescription
            if text.hasPrefix("Parsed JSON number <"), text.hasSuffix("> does not fit in Int.") {
                text = "\(text.dropFirst(20).dropLast(22)) is not a whole number"
            }
            return path.isEmpty ? text : "\(path): \(text)"
        @unknown default:
            return "\(error)"
        }
    }
}
