import InjectPluginABI

/// What the scanner process found in each plugin file, kept between runs so that `list` and
/// `info` need no plugin code and other commands load only the backends they use (the idea of
/// GStreamer's registry). An entry holds while the file's ``PluginFileKey`` (and, for a vendor
/// manifest, its library's) is unchanged and the `inject` executable is the one that wrote it.
///
/// Where: `INJECT_REGISTRY` (a file, or `off`); otherwise root uses the system-wide
/// `/var/cache/inject/plugin-registry.json`, and other users `$XDG_CACHE_HOME/inject/` (or
/// `~/.cache/inject/`) `plugin-registry.json`, reading the system-wide one as well. A cache file
/// that is not a regular file owned by root or the user, or that others could write, is ignored.
public final class RegistryCache: @unchecked Sendable {
    /// One scanned file.
    public struct Entry: Sendable, Equatable {
        /// The plugin file's real path.
        public var path: String
        public var key: PluginFileKey
        /// A vendor manifest's library and its key.
        public var library: String?
        public var libraryKey: PluginFileKey?
        /// The file's SHA-256, kept where it is pinned (so the pin is checked without rereading).
        public var digest: String?
        /// What the scan found: the backend, or why it was refused.
        public var info: BackendInfo?
        public var refusal: String?
    }

    /// The file written, or `nil` when the cache is off.
    public let path: String?
    private let readPaths: [String]
    private let host: String
    private var entries: [String: Entry] = [:]
    private var changed = false

    /// The cache at the default location for `environment` and this user.
    public static func standard(environment: [String: String], userID: uid_t = geteuid()) -> RegistryCache {
        let system = "/var/cache/inject/plugin-registry.json"
        if let explicit = environment["INJECT_REGISTRY"], !explicit.isEmpty {
            return RegistryCache(path: explicit == "off" ? nil : explicit, alsoReading: [])
        }
        if userID == 0 { return RegistryCache(path: system, alsoReading: []) }
        let base: String? = if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { xdg }
            else if let home = environment["HOME"], home.hasPrefix("/") { home + "/.cache" } else { nil }
        return RegistryCache(path: base.map { $0 + "/inject/plugin-registry.json" }, alsoReading: [system])
    }

    /// A cache written to `path` (`nil`: nothing is kept), also reading the files `alsoReading`.
    public init(path: String?, alsoReading: [String]) {
        self.path = path
        self.readPaths = (path.map { [$0] } ?? []) + alsoReading
        self.host = Self.hostIdentity()
        for file in readPaths.reversed() {
            guard PluginTrust.problem(path: file) == nil,
                  let bytes = try? FileIO.readWholeFile(.init(file)),
                  let contents = RegistryCacheFormat.decode(bytes), contents.host == host else { continue }
            for entry in contents.entries { entries[entry.path] = entry }
        }
    }

    /// The entry for `path` if it still describes the file on disk.
    public func entry(_ path: String, key: PluginFileKey, libraryKey: PluginFileKey?) -> Entry? {
        guard let entry = entries[path], entry.key == key, entry.libraryKey == libraryKey else { return nil }
        return entry
    }

    /// Records a scan.
    public func store(_ entry: Entry) {
        guard entries[entry.path] != entry else { return }
        entries[entry.path] = entry
        changed = true
    }

    /// Forgets every entry (`inject plugins rescan`).
    public func clear() {
        entries.removeAll()
        changed = true
    }

    /// Writes the cache if it changed: to a new file beside it, then renamed over it, so readers
    /// see the old or the new cache, never a part. A cache that cannot be written is only slower.
    ///
    /// - Returns: why it was not written, or `nil`.
    @discardableResult
    public func save() -> String? {
        guard changed, let path else { return nil }
        // Files that are gone (a removed plugin, a test's temporary tree) are forgotten.
        let kept = entries.values.filter { access($0.path, F_OK) == 0 }.sorted { $0.path < $1.path }
        let data = RegistryCacheFormat.encode(host: host, entries: kept)
        let directory = PluginTrust.parent(of: path)
        if let problem = MissingDirectories.create(directory) { return problem }
        let temporary = path + ".\(getpid()).new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { return "\(temporary): \(String(cString: strerror(errno)))" }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return "\(path): \(reason)"
        }
        changed = false
        return nil
    }

    /// The host ABI and the identity of the running executable: a new build rescans everything.
    private static func hostIdentity() -> String {
        let executable = PluginFileKey("/proc/self/exe")
        return "abi \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR) exe \(executable.map { "\($0.device):\($0.inode):\($0.size):\($0.modified)" } ?? "?")"
    }
}

/// Creates a directory and its missing parents, mode 0755.
enum MissingDirectories {
    static func create(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 { return info.st_mode & S_IFMT == S_IFDIR ? nil : "\(path) is not a directory" }
        if let problem = create(PluginTrust.parent(of: path)) { return problem }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return "\(path): \(String(cString: strerror(errno)))" }
        return nil
    }
}
