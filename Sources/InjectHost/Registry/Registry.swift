#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// All backends found on the search path, and every file refused with its reason.
public final class Registry: @unchecked Sendable {
    /// Loaded backends, in search-path order.
    public private(set) var backends: [LoadedBackend] = []
    /// Files that were not loaded, and why.
    public private(set) var refusals: [PluginRefusal] = []
    /// The search path used.
    public let searchPath: PluginSearchPath

    /// Pinned digests the plugin files must match.
    public let pins: PluginPins

    /// Scans the search path and loads every plugin found. Refusals never stop the others.
    public init(searchPath: PluginSearchPath, pins: PluginPins = .none) {
        self.searchPath = searchPath
        self.pins = pins
        var seenFiles = Set<String>()
        for entry in searchPath.entries {
            for candidate in Self.candidates(entry.path) {
                guard let real = realPath(candidate.file), seenFiles.insert(real).inserted else { continue }
                consider(file: real, directory: candidate.directory)
            }
        }
    }

    /// The backend named `name`.
    public func backend(named name: String) throws(InjectError) -> LoadedBackend {
        guard let backend = backends.first(where: { $0.info.name == name.lowercased() }) else {
            throw .unknownBackend(name: name, available: backends.map(\.info.name), refused: refusals)
        }
        return backend
    }

    private func consider(file: String, directory: String) {
        if let problem = PluginTrust.problem(file: file, directory: directory) {
            refusals.append(PluginRefusal(path: file, reason: .untrusted(problem)))
            return
        }
        if let problem = pins.problem(file) {
            refusals.append(PluginRefusal(path: file, reason: problem))
            return
        }
        let loaded: Result<LoadedBackend, PluginRefusal>
        if file.hasSuffix(ManifestBackend.suffix) {
            do throws(ManifestError) {
                loaded = .success(LoadedBackend(manifest: try ManifestBackend.load(file, pins: pins)))
            } catch {
                loaded = .failure(PluginRefusal(path: file, reason: .invalidManifest(error)))
            }
        } else {
            loaded = PluginLoader.load(file)
        }
        switch loaded {
        case .failure(let refusal):
            refusals.append(refusal)
        case .success(let backend):
            if let winner = backends.first(where: { $0.info.name == backend.info.name }) {
                refusals.append(PluginRefusal(path: file, reason: .duplicateName(name: backend.info.name, winner: winner.info.path)))
            } else {
                backends.append(backend)
            }
        }
    }

    /// The plugin files of a search-path entry: the file itself, or the `*.so` and `*.inject.json`
    /// (vendor manifest) files of a directory.
    static func candidates(_ path: String) -> [(file: String, directory: String)] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        if info.st_mode & S_IFMT != S_IFDIR {
            let absolute = realPath(path) ?? path
            let directory = absolute.lastIndex(of: "/").map { String(absolute[..<$0]) } ?? "."
            return [(absolute, directory.isEmpty ? "/" : directory)]
        }
        guard let entries = try? AttributeFiles.listDirectory(.init(path)) else { return [] }
        let files = entries.filter { !$0.isDirectory && ($0.name.hasSuffix(".so") || $0.name.hasSuffix(ManifestBackend.suffix)) }
        // A vendor library beside its manifest is loaded through the manifest, not as a plugin.
        let libraries = Set(files.filter { $0.name.hasSuffix(ManifestBackend.suffix) }.compactMap { manifest in
            (try? AttributeFiles.readWholeFile(.init(path + "/" + manifest.name))).flatMap { ManifestFile.libraryName(in: $0) }
        })
        return files.filter { !libraries.contains($0.name) }.map { (path + "/" + $0.name, path) }
    }
}

/// The canonical absolute path, or `nil` when it does not resolve.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
