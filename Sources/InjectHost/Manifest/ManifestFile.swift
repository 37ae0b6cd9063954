#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A vendor manifest as written (`*.inject.json` beside the vendor's library): the backend's
/// name and parameters, and the C function that injects, with how each argument is filled.
///
/// ```json
/// { "inject_manifest": 1, "name": "acme", "version": "2.1.0", "summary": "...", "families": ["memory"],
///   "library": "libacmeras.so",
///   "parameters": [ { "name": "address", "type": "address", "required": true, "help": "..." } ],
///   "call": { "function": "int acmeras_poison(uint64_t pa, uint32_t *ticket, char *why, size_t why_len)",
///             "arguments": { "pa": "address", "ticket": "out", "why": "buffer 128", "why_len": "size of why" },
///             "success": "zero", "message": "why" },
///   "confirm": "poisoning memory kills the processes that use it" }
/// ```
struct ManifestFile: Decodable {
    struct ParameterEntry: Decodable {
        var name: String
        var type: String
        var help: String?
        var unit: String?
        var `default`: String?
        var choices: [String]?
        var required: Bool?
        var min: UInt64?
        var max: UInt64?
    }

    struct Call: Decodable {
        var function: String
        var arguments: [String: String]?
        var success: String?
        var message: String?
        var expect: [String]?
    }

    var inject_manifest: Int
    var name: String
    var version: String
    var summary: String
    var families: [String]?
    var library: String
    var parameters: [ParameterEntry]?
    var call: Call
    var confirm: String?

    /// The `library` a manifest names, as written (a file name beside it, or an absolute path).
    static func libraryPath(in bytes: [UInt8]) -> String? {
        struct Library: Decodable { var library: String }
        guard let name = try? JSONDecoder().decode(Library.self, from: Data(bytes)).library, !name.isEmpty else {
            return nil
        }
        return name
    }

    /// The `library` a manifest's bytes name, when it is a plain file name beside the manifest.
    static func libraryName(in bytes: [UInt8]) -> String? {
        libraryPath(in: bytes).flatMap { $0.contains("/") ? nil : $0 }
    }

    /// Decodes `bytes`, naming the key that is wrong.
    static func decode(_ bytes: [UInt8], file: String) throws(ManifestError) -> ManifestFile {
        do {
            return try JSONDecoder().decode(ManifestFile.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw ManifestError(
                file: file, key: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                reason: .missing)
        } catch let DecodingError.typeMismatch(type, context) {
            throw ManifestError(
                file: file, key: context.codingPath.map(\.stringValue).joined(separator: "."),
                reason: .syntax("expected \(type)"))
        } catch let DecodingError.valueNotFound(type, context) {
            throw ManifestError(
                file: file, key: context.codingPath.map(\.stringValue).joined(separator: "."),
                reason: .syntax("expected \(type), found null"))
        } catch let DecodingError.dataCorrupted(context) {
            throw ManifestError(
                file: file, key: context.codingPath.map(\.stringValue).joined(separator: "."),
                reason: .syntax("not valid JSON: \(context.debugDescription)"))
        } catch {
            throw ManifestError(file: file, key: "", reason: .syntax("\(error)"))
        }
    }
}
