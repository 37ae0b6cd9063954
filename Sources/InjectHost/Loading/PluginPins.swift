/// SHA-256 digests of plugin files pinned in the configuration (`plugin_digests`): a pinned file
/// whose digest changed is refused; with `require_pinned`, so is every file without a pin.
public struct PluginPins: Sendable, Equatable {
    /// Pinned digests (lowercase hex) by absolute path.
    public var digests: [String: String]
    /// Whether files without a pin are refused.
    public var requirePinned: Bool

    /// No pins: every trusted file loads.
    public static let none = PluginPins(digests: [:], requirePinned: false)

    /// Creates pins.
    public init(digests: [String: String], requirePinned: Bool) {
        self.digests = digests
        self.requirePinned = requirePinned
    }

    /// Why `path` must not be loaded, or `nil` when its pin matches or it needs none.
    /// `knownDigest` is the file's digest when it is known to be unchanged (from the registry cache).
    func problem(_ path: String, knownDigest: String? = nil) -> PluginRefusal.Reason? {
        guard requirePinned || !digests.isEmpty else { return nil }
        guard let pinned = digests[path] else {
            return requirePinned ? .notPinned : nil
        }
        guard let found = knownDigest ?? (try? Self.sha256(of: path)) else {
            return .digestMismatch(pinned: pinned, found: "unreadable")
        }
        return found == pinned.lowercased() ? nil : .digestMismatch(pinned: pinned, found: found)
    }

    /// The SHA-256 of a file, as lowercase hex.
    public static func sha256(of path: String) throws(TargetError) -> String {
        let bytes: [UInt8]
        do {
            guard let read = try FileIO.readWholeFile(FilePath(path)) else {
                throw TargetError.notFound(path: path, hint: nil)
            }
            bytes = read
        } catch let error as TargetError {
            throw error
        } catch {
            throw .system(path: path, operation: "read", errno: .ioError, hint: nil)
        }
        return hexDigits(SHA256.digest(bytes))
    }
}
