import Configuration

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON configuration file, served to the resolver through swift-configuration's
/// `InMemoryProvider`.
///
/// ```json
/// {
///   "plugin_path": ["/opt/vendor/inject/plugins"],
///   "backends": { "mce": { "cpu": 1, "status": "0x9c00000000000000" } }
/// }
/// ```
/// The file is decoded with FoundationEssentials' `JSONDecoder` (swift-configuration's own JSON
/// provider needs full Foundation and its ICU data, which would triple the tool's start-up), so
/// integers keep all 64 bits and every key is known, which lets the resolver refuse misspelt ones.
public struct ConfigurationFile: Sendable {
    /// The largest configuration file read (a larger one is refused, not parsed for seconds).
    public static let maximumBytes = 1 << 20

    /// Where the file was read from.
    public let path: String
    /// Every `backends.<backend>.<parameter>` key in the file, as (backend, parameter).
    public let backendKeys: [(backend: String, parameter: String)]
    /// `plugin_digests`: pinned SHA-256 digests by plugin path.
    public let pluginDigests: [String: String]
    /// `require_pinned`: refuse plugins without a pin.
    public let requirePinned: Bool
    private let provider: InMemoryProvider

    /// Reads and parses the file.
    ///
    /// - Returns: `nil` when the file does not exist.
    /// - Throws: ``ConfigurationError/unreadableFile(path:reason:)`` when it exists but is unusable.
    public static func load(_ path: String) throws(ConfigurationError) -> ConfigurationFile? {
        var entry = stat()
        guard lstat(path, &entry) == 0 else { return nil }
        // Held to the plugins' rule: a file others could write, or that is not yours or root's,
        // is not applied to your requests.
        if let problem = FileTrust.problem(path: path) {
            throw .unreadableFile(path: path, reason: "not trusted: \(problem)")
        }
        let bytes: [UInt8]
        do {
            guard let read = try UserFile.read(path, limit: maximumBytes) else { return nil }
            bytes = read
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
        return try parse(bytes, path: path)
    }

    /// Parses file contents; `path` names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> ConfigurationFile {
        // Any other top-level key, and a key given twice, is refused (JSONShape).
        let topLevel = Document.CodingKeys.allCases.map(\.rawValue)
        if let problem = JSONShape.problem(in: bytes, allowed: { $0.isEmpty ? topLevel : nil }) {
            throw .unreadableFile(path: path, reason: problem)
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw .unreadableFile(
                path: path,
                reason:
                    "expected {\"plugin_path\": [paths], \"backends\": {backend: {parameter: value}}}: \(JSONShape.describe(error))"
            )
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var keys: [(String, String)] = []
        if let pluginPath = document.plugin_path {
            values[AbsoluteConfigKey(["plugin_path"])] = ConfigValue(.stringArray(pluginPath), isSecret: false)
        }
        // Names are spelt as on the command line: any case, '-' for '_'.
        for (givenBackend, parameters) in document.backends ?? [:] {
            let backend = givenBackend.lowercased()
            for (givenParameter, scalar) in parameters {
                let parameter = givenParameter.lowercased().replacing("-", with: "_")
                let key = AbsoluteConfigKey(["backends", backend, parameter])
                guard values[key] == nil else {
                    throw .unreadableFile(
                        path: path,
                        reason:
                            "backends.\(backend).\(parameter) is given twice (names ignore case and '-'); give it once")
                }
                keys.append((backend, parameter))
                values[key] = ConfigValue(.string(scalar.text), isSecret: false)
            }
        }
        for (plugin, digest) in document.plugin_digests ?? [:] {
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw .unreadableFile(
                    path: path,
                    reason:
                        "plugin_digests.\(plugin): '\(digest)' is not a SHA-256 digest (64 hex digits; `inject plugins pin` writes them)"
                )
            }
        }
        return ConfigurationFile(
            path: path, backendKeys: keys.sorted { ($0.0, $0.1) < ($1.0, $1.1) },
            pluginDigests: document.plugin_digests ?? [:], requirePinned: document.require_pinned ?? false,
            provider: InMemoryProvider(name: path, values: values))
    }

    /// The text of `key` (components such as `["backends", "mce", "cpu"]`).
    public func text(_ key: [String]) -> String? {
        guard let result = try? provider.value(forKey: AbsoluteConfigKey(key), type: .string),
            case .string(let text)? = result.value?.content
        else { return nil }
        return text
    }

    /// The list at `key`, such as `plugin_path`.
    public func list(_ key: [String]) -> [String] {
        guard let result = try? provider.value(forKey: AbsoluteConfigKey(key), type: .stringArray),
            case .stringArray(let items)? = result.value?.content
        else { return [] }
        return items
    }

    /// A top-level key the file format does not have (a misspelt `require_pinned`, say).
    /// The file's shape; any other top-level key is refused.
    private struct Document: Decodable {
        enum CodingKeys: String, CodingKey, CaseIterable { case plugin_path, backends, plugin_digests, require_pinned }

        var plugin_path: [String]?
        var backends: [String: [String: Scalar]]?
        var plugin_digests: [String: String]?
        var require_pinned: Bool?
    }

    /// A parameter value: a string, an integer of up to 64 bits, a number or a boolean.
    private struct Scalar: Decodable {
        var text: String

        /// Whether the value is a string the decoder cannot read (not UTF-8, a lone surrogate): a
        /// number or another kind of value is a type mismatch instead.
        static func isInvalidText(_ container: any SingleValueDecodingContainer) -> Bool {
            do {
                _ = try container.decode(String.self)
                return false
            } catch DecodingError.typeMismatch, DecodingError.valueNotFound {
                return false
            } catch {
                return true  // the parser's own error about the text (JSONError)
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(UInt64.self) {
                text = String(value)
            } else if let value = try? container.decode(Int64.self) {
                text = String(value)
            } else if let value = try? container.decode(Bool.self) {
                text = String(value)
            } else if let value = try? container.decode(String.self) {
                text = value
            } else if Self.isInvalidText(container) {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "a string that is not valid UTF-8; write the value in UTF-8 (or as \"0x...\" bytes)")
            } else if let items = try? container.decode([String].self) {
                text = items.joined(separator: ",")
            } else if let value = try? container.decode(Double.self), value.isFinite,
                value.rounded() != value || abs(value) < 1e15
            {
                text = String(value)
            } else if (try? container.decode([String: String].self)) == nil, (try? container.decode([Int].self)) == nil,
                !container.decodeNil()
            {
                // What is left is a number no 64-bit integer holds (18446744073709551616, 1e400).
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "a number beyond 64 bits (at most 18446744073709551615); give large values as a \"0x...\" string"
                )
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "a parameter value must be a string, number, boolean or list of strings")
            }
        }
    }
}
