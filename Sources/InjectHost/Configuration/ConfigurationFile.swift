import Configuration
import SystemPackage

/// A JSON configuration file, read through swift-configuration.
///
/// ```json
/// {
///   "plugin_path": ["/opt/vendor/inject/plugins"],
///   "backends": { "mce": { "cpu": 1, "status": "0x9c00000000000000" } }
/// }
/// ```
/// Numbers above 2^63 must be written as strings (JSON numbers are read as signed 64-bit).
public struct ConfigurationFile: Sendable {
    /// Where the file was read from.
    public let path: String
    private let snapshot: JSONSnapshot

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
        do {
            let snapshot = try bytes.withUnsafeBufferPointer { buffer in
                try JSONSnapshot(data: buffer.span.bytes, providerName: path, parsingOptions: .default)
            }
            return ConfigurationFile(path: path, snapshot: snapshot)
        } catch {
            throw .unreadableFile(path: path, reason: "not a valid JSON object: \(error)")
        }
    }

    /// The text of `key` (components such as `["backends", "mce", "cpu"]`), whatever its JSON type.
    public func text(_ key: [String]) -> String? {
        let absolute = AbsoluteConfigKey(key)
        for type in [ConfigType.string, .int, .double, .stringArray] {
            guard let result = try? snapshot.value(forKey: absolute, type: type), let value = result.value else {
                continue
            }
            switch value.content {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return String(b)
            case .stringArray(let items): return items.joined(separator: ",")
            default: continue
            }
        }
        return nil
    }

    /// The list at `key`, such as `plugin_path`.
    public func list(_ key: [String]) -> [String] {
        guard let result = try? snapshot.value(forKey: AbsoluteConfigKey(key), type: .stringArray),
              case .stringArray(let items)? = result.value?.content else {
            return text(key).map { [$0] } ?? []
        }
        return items
    }
}
