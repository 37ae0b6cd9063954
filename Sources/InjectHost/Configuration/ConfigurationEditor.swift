#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Rewrites one top-level key of a JSON configuration file, keeping every other value exactly
/// (64-bit integers included); formatting becomes the encoder's (sorted keys, indented).
public enum ConfigurationEditor {
    /// A JSON value that keeps integers as integers.
    indirect enum Value: Codable, Equatable {
        case null
        case bool(Bool)
        case unsigned(UInt64)
        case signed(Int64)
        case double(Double)
        case string(String)
        case array([Value])
        case object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(UInt64.self) {
                self = .unsigned(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .signed(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([Value].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: Value].self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let value): try container.encode(value)
            case .unsigned(let value): try container.encode(value)
            case .signed(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .array(let value): try container.encode(value)
            case .object(let value): try container.encode(value)
            }
        }
    }

    /// Sets `key` to a string map in the file at `path` (created, with its directory, when missing).
    public static func set(_ key: String, to map: [String: String], in path: String) throws(ConfigurationError) {
        var document: [String: Value] = [:]
        do {
            if let bytes = try UserFile.read(path, limit: ConfigurationFile.maximumBytes), !bytes.isEmpty {
                document = try JSONDecoder().decode([String: Value].self, from: Data(bytes))
            }
        } catch {
            throw .unreadableFile(path: path, reason: "cannot be rewritten: \(error)")
        }
        document[key] = .object(map.mapValues { .string($0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(document)
            try FileIO.makeDirectories(
                FilePath(path).removingLastComponent(),
                mode: [.ownerReadWriteExecute, .groupRead, .groupExecute, .otherRead, .otherExecute])
            let fd = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            defer { try? fd.close() }
            _ = try fd.writeAll(Array(data) + [10])
        } catch {
            throw .unreadableFile(path: path, reason: "cannot be written: \(error)")
        }
    }
}
