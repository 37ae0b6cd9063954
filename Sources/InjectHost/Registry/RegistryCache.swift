import InjectPluginABI

/// What the scanner process found in each plugin file, kept between runs so that `list` and
/// `info` need no plugin code and other commands load only the backends they use (the idea of
/// GStreamer's registry). An entry holds while the file's ``PluginFileKey`` (and, for a vendor
/// manifest, its library's) is unchanged, and each `inject` executable keeps a section of its own
/// (an installed binary and a build alternating on one machine each find their entries). Saving
/// merges under a lock with what other processes saved meanwhile, so concurrent writers keep
/// each other's entries.
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

    /// The entries one executable wrote (its ``RegistryCache/hostIdentity(executable:)``).
    public struct Section: Sendable, Equatable {
        /// The host ABI and the executable's path and file key.
        public var host: String
        public var entries: [Entry]
    }

    /// The most executables kept in one file; the sections of executables that are gone or were
    /// rebuilt go first.
    public static let maximumSections = 8

    /// The file written, or `nil` when the cache is off.
    public let path: String?
    private let readPaths: [String]
    private let host: String
    private var entries: [String: Entry] = [:]
    /// What this process stored since it read the file, and whether it cleared the rest: what a
    /// save lays over the file as it then is.
    private var stored: [String: Entry] = [:]
    private var cleared = false
    private var changed = false

    /// The cache at the default location for `environment` and this user.
    public static func standard(environment: [String: String], userID: uid_t = geteuid()) -> RegistryCache {
        let system = "/var/cache/inject/plugin-registry.json"
        if let explicit = environment["INJECT_REGISTRY"], !explicit.isEmpty {
            return RegistryCache(path: explicit == "off" ? nil : explicit, alsoReading: [])
        }
        if userID == 0 { return RegistryCache(path: system, alsoReading: []) }
        let base: String? =
            if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
                xdg
            } else if let home = environment["HOME"], home.hasPrefix("/") { home + "/.cache" } else { nil }
        return RegistryCache(path: base.map { $0 + "/inject/plugin-registry.json" }, alsoReading: [system])
    }

    /// A cache written to `path` (`nil`: nothing is kept), also reading the files `alsoReading`.
    ///
    /// - Parameter host: the executable's identity (this process's by default).
    public init(path: String?, alsoReading: [String], host: String = RegistryCache.hostIdentity()) {
        self.path = path
        self.readPaths = (path.map { [$0] } ?? []) + alsoReading
        self.host = host
        for file in readPaths.reversed() {
            guard let section = Self.sections(file)?.first(where: { $0.host == host }) else { continue }
            for entry in section.entries { entries[entry.path] = entry }
        }
    }

    /// The sections of the cache file at `path`, or `nil` when it is missing, untrusted or not a cache.
    private static func sections(_ path: String) -> [Section]? {
        guard FileTrust.problem(path: path) == nil, let bytes = try? FileIO.readWholeFile(.init(path)) else {
            return nil
        }
        return RegistryCacheFormat.decode(bytes)
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
        stored[entry.path] = entry
        changed = true
    }

    /// Forgets every entry (`inject plugins rescan`).
    public func clear() {
        entries.removeAll()
        stored.removeAll()
        cleared = true
        changed = true
    }

    /// Writes the cache if it changed. Under an exclusive lock (`PATH.lock`), the file as it is now
    /// is read again, this process's stores are laid over its section (the other executables'
    /// sections are kept), and the result goes to a new file beside it, renamed over it: readers
    /// see the old or the new cache, never a part, and concurrent writers lose nothing. A cache
    /// that cannot be written is only slower.
    ///
    /// - Returns: why it was not written, or `nil`.
    @discardableResult
    public func save() -> String? {
        guard changed, let path else { return nil }
        if let problem = MissingDirectories.create(FileTrust.parent(of: path)) { return problem }
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard lock >= 0 else { return "\(path).lock: \(String(cString: strerror(errno)))" }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { return "\(path).lock: \(String(cString: strerror(errno)))" }
        if let problem = Self.replaceable(path) { return problem }
        let merged = merge(into: Self.sections(path) ?? [])
        if let problem = Self.replace(path, with: RegistryCacheFormat.encode(merged)) { return problem }
        changed = false
        return nil
    }

    /// `sections` (the file as it is now) with this process's section laid over: its stores win,
    /// files that are gone are forgotten, and of the other executables' sections those whose
    /// executable is unchanged are kept, newest first, up to ``maximumSections`` in all.
    func merge(into sections: [Section]) -> [Section] {
        var mine: [String: Entry] = [:]
        if !cleared, let onDisk = sections.first(where: { $0.host == host }) {
            for entry in onDisk.entries { mine[entry.path] = entry }
        }
        mine.merge(stored) { _, new in new }
        entries = mine
        // Files that are gone (a removed plugin, a test's temporary tree) are forgotten.
        let kept = mine.values.filter { access($0.path, F_OK) == 0 }.sorted { $0.path < $1.path }
        let others = sections.filter { $0.host != host && Self.executableIsCurrent($0.host) }
        return [Section(host: host, entries: kept)] + others.prefix(Self.maximumSections - 1)
    }

    /// Why the file at `path` must not be replaced by a cache, or `nil`: only a missing file, or a
    /// regular file of the user's (or root's) that already holds a cache, is.
    static func replaceable(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return "\(path) is not a regular file; the cache is not written over it"
        }
        if let problem = FileTrust.problem(path: path) { return problem }
        let head = (try? FileIO.read(RegistryCacheFormat.magic.utf8.count, at: 0, of: FilePath(path))) ?? []
        guard
            info.st_size == 0 || head.elementsEqual(RegistryCacheFormat.magic.utf8)
                || head.starts(with: "inject-registry ".utf8)
        else {
            return
                "\(path) is not a registry cache; it is not replaced (INJECT_REGISTRY names a file of its own, or off)"
        }
        return nil
    }

    /// Writes `data` to a new file beside `path` and renames it over `path`.
    private static func replace(_ path: String, with data: [UInt8]) -> String? {
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
        return nil
    }

    /// The host ABI and the identity of an executable (this process's by default): its path and
    /// file key, so a rebuilt binary starts a new section and an installed one keeps its own.
    public static func hostIdentity(executable: String = "/proc/self/exe") -> String {
        let path = FileIO.realPath(executable) ?? executable
        let key = PluginFileKey(path).map { "\($0.device):\($0.inode):\($0.size):\($0.modified)" } ?? "?"
        return "abi \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR) exe \(path) \(key)"
    }

    /// Whether the executable a section names is still there, unchanged, under this ABI.
    private static func executableIsCurrent(_ identity: String) -> Bool {
        guard let exe = identity.firstRange(of: " exe "), let key = identity.lastIndex(of: " "), key > exe.upperBound
        else {
            return false
        }
        return hostIdentity(executable: String(identity[exe.upperBound..<key])) == identity
    }
}

/// Creates a directory and its missing parents, mode 0755.
enum MissingDirectories {
    static func create(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 { return info.st_mode & S_IFMT == S_IFDIR ? nil : "\(path) is not a directory" }
        if let problem = create(FileTrust.parent(of: path)) { return problem }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return "\(path): \(String(cString: strerror(errno)))" }
        return nil
    }
}
