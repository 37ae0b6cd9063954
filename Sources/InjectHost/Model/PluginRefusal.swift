/// A plugin file the registry did not load, and why. Refusals never stop other plugins from loading.
public struct PluginRefusal: Error, Sendable, Equatable, Encodable, CustomStringConvertible {
    /// Why a plugin was refused.
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file is not an ELF shared object, or dlopen() failed.
        case notSharedObject(String)
        /// The shared object does not export `inject_plugin_entry`.
        case missingEntry
        /// The plugin speaks another ABI major version.
        case abiMismatch(plugin: String, host: String)
        /// The plugin's entry refused to load, with its reason.
        case entryRefused(code: Int32, message: String)
        /// The descriptor breaks the ABI's rules.
        case invalidDescriptor(String)
        /// The file or its directory could be changed by someone else.
        case untrusted(String)
        /// Another plugin earlier in the search path already provides the name.
        case duplicateName(name: String, winner: String)
        /// A vendor manifest that is malformed or names something that cannot be called.
        case invalidManifest(ManifestError)
        /// The file's SHA-256 differs from the one pinned in the configuration.
        case digestMismatch(pinned: String, found: String)
        /// `require_pinned` is set and the file has no pin.
        case notPinned
        /// The scanner process refused it (or it crashed, hung, exited or printed while scanned).
        case scanned(String)

        public var description: String {
            switch self {
            case .notSharedObject(let why): return "not a loadable shared object: \(why)"
            case .missingEntry: return "no entry point inject_plugin_entry in the shared object"
            case .abiMismatch(let plugin, let host):
                return "plugin ABI \(plugin) is incompatible with host ABI \(host) (major versions differ)"
            case .entryRefused(let code, let message): return "the plugin refused to load (code \(code)): \(message)"
            case .invalidDescriptor(let why): return "invalid descriptor: \(why)"
            case .untrusted(let why): return "untrusted location: \(why)"
            case .digestMismatch(let pinned, let found):
                return
                    "SHA-256 \(found) differs from the pinned \(pinned): the file changed since `inject plugins pin`; check it, then pin again"
            case .scanned(let why): return why
            case .notPinned:
                return "not pinned, and require_pinned is set: pin it after checking it (\(Setting.pinPlugins))"
            case .invalidManifest(let error):
                return "invalid manifest: \(error.key.isEmpty ? "" : "\(error.key): ")\(error.reason)"
            case .duplicateName(let name, let winner):
                return
                    "backend '\(name)' is already provided by \(winner), which wins because it comes earlier in the search path"
            }
        }
    }

    /// The file.
    public var path: String
    /// Why it was refused.
    public var reason: Reason

    public var description: String {
        PrintableText.escaped("\(path): \(reason)", limit: 2 * PrintableText.messageLimit)
    }

    private enum Keys: String, CodingKey { case path, reason }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(path, forKey: .path)
        try c.encode(PrintableText.escaped(reason.description, limit: 2 * PrintableText.messageLimit), forKey: .reason)
    }
}
