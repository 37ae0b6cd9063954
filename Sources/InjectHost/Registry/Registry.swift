#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// All backends found on the search path, and every file refused with its reason.
///
/// Every file is first checked without being opened (``FileTrust``) and against its pin. Then,
/// with a scanner executable, its descriptor is read in a separate process and kept in the
/// ``RegistryCache``: listing needs no plugin code, and a backend's code is loaded into this
/// process only when it is used (``backend(named:)``). Without one, every plugin is loaded
/// in-process at once (tests, embedders).
public final class Registry: @unchecked Sendable {
    /// How plugin descriptors are read.
    public enum Scanning: Sendable {
        /// Load every plugin into this process now.
        case inProcess
        /// Read descriptors with `executable` (re-executed as a scanner), cached in `cache`, and
        /// load a backend's code only when it is used. With `wanted`, plugins still loading a
        /// moment after the backend of that name was found are left out of this command (and
        /// not cached), so a plugin that hangs costs a cacheless command half a second, not the
        /// scan limit.
        case scanner(executable: String, cache: RegistryCache, wanted: String? = nil)
    }

    /// Found backends, in search-path order.
    public private(set) var backends: [RegisteredBackend] = []
    /// Files that were not loaded, and why.
    public private(set) var refusals: [PluginRefusal] = []
    /// The search path used.
    public let searchPath: PluginSearchPath
    /// Pinned digests the plugin files must match.
    public let pins: PluginPins
    /// How descriptors were read.
    public let scanning: Scanning

    /// Finds the plugins of `searchPath`. Refusals never stop the others.
    public init(searchPath: PluginSearchPath, pins: PluginPins = .none, scanning: Scanning = .inProcess) {
        self.searchPath = searchPath
        self.pins = pins
        self.scanning = scanning
        var seenFiles = Set<String>()
        var candidates: [Candidate] = []
        for entry in searchPath.entries {
            for file in Self.files(entry.path) {
                if let problem = FileTrust.problem(path: file) {
                    refusals.append(PluginRefusal(path: file, reason: .untrusted(problem)))
                    continue
                }
                guard let real = FileIO.realPath(file), seenFiles.insert(real).inserted else { continue }
                candidates.append(Candidate(path: real))
            }
        }
        switch scanning {
        case .inProcess:
            for candidate in candidates { loadInProcess(candidate) }
        case .scanner(let executable, let cache, let wanted):
            scan(candidates, executable: executable, cache: cache, wanted: wanted)
        }
    }

    /// The backend named `name`, its code loaded.
    ///
    /// - Throws: ``InjectError/unknownBackend(name:available:refused:)``, or
    ///   ``InjectError/pluginFailed(backend:code:message:)`` when its code no longer loads as scanned.
    public func backend(named name: String) throws(InjectError) -> LoadedBackend {
        try registered(named: name).load()
    }

    /// The backend named `name`, as scanned (its code not necessarily loaded).
    public func registered(named name: String) throws(InjectError) -> RegisteredBackend {
        guard let backend = backends.first(where: { $0.info.name == name.lowercased() }) else {
            throw .unknownBackend(name: name, available: backends.map(\.info.name), refused: refusals)
        }
        return backend
    }

    // MARK: - Finding and checking files

    /// One trusted file to scan or load.
    private struct Candidate {
        let path: String
        /// For a vendor manifest: its library (absolute), read from the manifest.
        var library: String? {
            guard path.hasSuffix(ManifestBackend.suffix), case .success(let bytes) = ManifestBackend.readBounded(path),
                let name = ManifestFile.libraryPath(in: bytes)
            else { return nil }
            return name.hasPrefix("/") ? name : FileTrust.parent(of: path) + "/" + name
        }
    }

    private func add(_ backend: RegisteredBackend) {
        if let winner = backends.first(where: { $0.info.name == backend.info.name }) {
            refusals.append(
                PluginRefusal(
                    path: backend.info.path, reason: .duplicateName(name: backend.info.name, winner: winner.info.path)))
        } else {
            backends.append(backend)
        }
    }

    private func loadInProcess(_ candidate: Candidate) {
        let file = candidate.path
        if let problem = pins.problem(file) { return refusals.append(PluginRefusal(path: file, reason: problem)) }
        switch Self.loadCode(file, pins: pins) {
        case .failure(let refusal): refusals.append(refusal)
        case .success(let backend): add(RegisteredBackend(loaded: backend))
        }
    }

    /// Loads a plugin's code into this process.
    static func loadCode(_ file: String, pins: PluginPins) -> Result<LoadedBackend, PluginRefusal> {
        guard file.hasSuffix(ManifestBackend.suffix) else { return PluginLoader.load(file) }
        do throws(ManifestError) {
            return .success(LoadedBackend(manifest: try ManifestBackend.load(file, pins: pins)))
        } catch {
            return .failure(PluginRefusal(path: file, reason: .invalidManifest(error)))
        }
    }

    // MARK: - Scanning with the cache

    private func scan(_ candidates: [Candidate], executable: String, cache: RegistryCache, wanted: String?) {
        var entries: [RegistryCache.Entry?] = []
        var toScan: [String] = []
        for candidate in candidates {
            guard let key = PluginFileKey(candidate.path) else {
                entries.append(nil)
                refusals.append(
                    PluginRefusal(
                        path: candidate.path, reason: .untrusted("file \(candidate.path) vanished while being examined")
                    ))
                continue
            }
            let library = candidate.library
            let libraryKey = library.flatMap { PluginFileKey($0) }
            if let cached = cache.entry(candidate.path, key: key, libraryKey: libraryKey) {
                entries.append(cached)
            } else {
                entries.append(
                    RegistryCache.Entry(path: candidate.path, key: key, library: library, libraryKey: libraryKey))
                toScan.append(candidate.path)
            }
        }
        let scanned =
            toScan.isEmpty
            ? [:]
            : PluginScanner.scan(
                toScan, executable: executable, timeLimit: min(PluginGuard.timeLimit, 10),
                enough: wanted.map { name in { $0.values.contains { $0.info?.name == name } } })
        for case var entry? in entries {
            if let outcome = scanned[entry.path] {
                if outcome.leftOut {
                    refusals.append(PluginRefusal(path: entry.path, reason: .scanned(outcome.refusal ?? "")))
                    continue  // not cached: the next command scans it again
                }
                entry.info = outcome.info
                entry.refusal = outcome.refusal
            }
            // The pin is checked every time; a cached digest stands for an unchanged file.
            let pinned = pins.digests[entry.path] != nil || (entry.library.map { pins.digests[$0] != nil } ?? false)
            if pinned && entry.digest == nil { entry.digest = try? PluginPins.sha256(of: entry.path) }
            if !pinned { entry.digest = nil }
            cache.store(entry)
            if let problem = pins.problem(entry.path, knownDigest: entry.digest) {
                refusals.append(PluginRefusal(path: entry.path, reason: problem))
            } else if let library = entry.library, let problem = pins.problem(library) {
                refusals.append(
                    PluginRefusal(
                        path: entry.path,
                        reason: .invalidManifest(
                            ManifestError(file: entry.path, key: "library", reason: .library("\(library): \(problem)")))
                    ))
            } else if let info = entry.info {
                add(RegisteredBackend(info: info, library: entry.library, key: entry.key, pins: pins))
            } else {
                refusals.append(
                    PluginRefusal(path: entry.path, reason: .scanned(entry.refusal ?? "the scanner gave no answer")))
            }
        }
        cache.save()
    }
}

/// A backend found on the search path: what it says about itself, and its code, loaded on first
/// use.
public final class RegisteredBackend: @unchecked Sendable {
    /// Name, version, schema, and where it came from.
    public let info: BackendInfo
    /// The files it comes from: the shared object, or the manifest and its library.
    public let files: [String]
    private let expectedKey: PluginFileKey?
    private let pins: PluginPins
    private var loaded: LoadedBackend?

    init(loaded: LoadedBackend) {
        self.info = loaded.info
        self.files = loaded.files
        self.loaded = loaded
        self.expectedKey = nil
        self.pins = .none
    }

    init(info: BackendInfo, library: String?, key: PluginFileKey, pins: PluginPins) {
        self.info = info
        self.files = [info.path] + (library.map { [$0] } ?? [])
        self.expectedKey = key
        self.pins = pins
    }

    /// Whether its code is in this process.
    public var isLoaded: Bool { loaded != nil }

    /// Loads its code (once): the file must be the one scanned, and must describe itself as it
    /// did then.
    public func load() throws(InjectError) -> LoadedBackend {
        if let loaded { return loaded }
        func fail(_ message: String) -> InjectError { .pluginFailed(backend: info.name, code: -1, message: message) }
        if let problem = FileTrust.problem(path: info.path) { throw fail("untrusted location: \(problem)") }
        guard let expectedKey, PluginFileKey(info.path) == expectedKey else {
            throw fail("\(info.path) changed since it was scanned; run the command again (it is rescanned first)")
        }
        switch Registry.loadCode(info.path, pins: pins) {
        case .failure(let refusal):
            throw fail("\(info.path) was scanned but does not load now: \(refusal.reason)")
        case .success(let backend):
            var described = backend.info
            described.path = info.path
            guard described == info else {
                throw fail(
                    "\(info.path) describes itself differently than when it was scanned; run `inject plugins rescan`")
            }
            loaded = backend
            return backend
        }
    }
}

/// The plugin files of a search-path entry: the entry itself when it is not a directory, or the
/// `*.so` and `*.inject.json` (vendor manifest) entries of a directory. A vendor library beside
/// its manifest is loaded through the manifest, not as a plugin.
extension Registry {
    static func files(_ path: String) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        guard info.st_mode & S_IFMT == S_IFDIR else { return [FileTrust.absolute(path)] }
        guard let entries = try? FileIO.listDirectory(.init(path)) else { return [] }
        let names = entries.filter {
            !$0.isDirectory && ($0.name.hasSuffix(".so") || $0.name.hasSuffix(ManifestBackend.suffix))
        }.map(\.name)
        let directory = FileTrust.absolute(path)
        let libraries = Set(
            names.filter { $0.hasSuffix(ManifestBackend.suffix) }.compactMap { manifest -> String? in
                let file = directory + "/" + manifest
                guard FileTrust.problem(path: file) == nil,
                    case .success(let bytes) = ManifestBackend.readBounded(file)
                else { return nil }
                return ManifestFile.libraryName(in: bytes)
            })
        return names.filter { !libraries.contains($0) }.map { directory + "/" + $0 }
    }
}
