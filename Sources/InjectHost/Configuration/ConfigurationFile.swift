#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Configuration
import SystemPackage

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
        let bytes: [UInt8]
        do {
            guard let read = try AttributeFiles.readWholeFile(FilePath(path)) else { return nil }
            bytes = read
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
        return try parse(bytes, path: path)
    }

    /// Parses file contents; `path` names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> ConfigurationFile {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw .unreadableFile(path: path, reason: "expected {\"plugin_path\": [paths], \"backends\": {backend: {parameter: value}}}: \(Self.describe(error))")
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var keys: [(String, String)] = []
        if let pluginPath = document.plugin_path {
            values[AbsoluteConfigKey(["plugin_path"])] = ConfigValue(.stringArray(pluginPath), isSecret: false)
        }
        for (backend, parameters) in document.backends ?? [:] {
            for (parameter, scalar) in parameters {
                keys.append((backend, parameter))
                values[AbsoluteConfigKey(["backends", backend, parameter])] = ConfigValue(.string(scalar.text), isSecret: false)
            }
        }
        for (plugin, digest) in document.plugin_digests ?? [:] {
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw .unreadableFile(path: path, reason: "plugin_digests.\(plugin): '\(digest)' is not a SHA-256 digest (64 hex digits; `inject plugins pin` writes them)")
            }
        }
        return ConfigurationFile(path: path, backendKeys: keys.sorted { ($0.0, $0.1) < ($1.0, $1.1) },
                                 pluginDigests: document.plugin_digests ?? [:], requirePinned: document.require_pinned ?? false,
                                 provider: InMemoryProvider(name: path, values: values))
    }

    /// The text of `key` (components such as `["backends", "mce", "cpu"]`).
    public func text(_ key: [String]) -> String? {
        guard let result = try? provider.value(forKey: AbsoluteConfigKey(key), type: .string),
              case .string(let text)? = result.value?.content else { return nil }
        return text
    }

    /// The list at `key`, such as `plugin_path`.
    public func list(_ key: [String]) -> [String] {
        guard let result = try? provider.value(forKey: AbsoluteConfigKey(key), type: .stringArray),
              case .stringArray(let items)? = result.value?.content else { return [] }
        return items
    }

    /// The file's shape.
    private struct Document: Decodable {
        var plugin_path: [String]?
        var backends: [String: [String: Scalar]]?
        var plugin_digests: [String: String]?
        var require_pinned: Bool?
    }

    /// A parameter value: a string, an integer of up to 64 bits, a number or a boolean.
    private struct Scalar: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(UInt64.self) { text = String(value) }
            else if let value = try? container.decode(Int64.self) { text = String(value) }
            else if let value = try? container.decode(Bool.self) { text = String(value) }
            else if let value = try? container.decode(Double.self) { text = String(value) }
            else if let value = try? container.decode(String.self) { text = value }
            else if let items = try? container.decode([String].self) { text = items.joined(separator: ",") }
            else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a parameter value must be a string, number, boolean or list of strings")
            }
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "at \(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
