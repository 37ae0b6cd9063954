import InjectHost

/// Debian's package registry as the lab reaches it: the machine's own apt sources, or a private
/// apt configuration for another suite (its own sources list, package lists and download cache
/// under the lab cache, passed to apt with `-o`), so that fetching a newer kernel never touches
/// the machine's sources or its package state. Only `apt-cache` and `apt-get download` run: no
/// package is installed.
struct DebianArchive: Sendable {
    /// The suites the lab reaches privately (their `linux-image-amd64` follows the suite: 6.1,
    /// 6.12, 6.12, 7.3 in trixie-backports, 7.2 in forky and sid when this was written).
    static let suites = ["bookworm", "bookworm-backports", "trixie", "trixie-backports", "forky", "sid"]
    /// The mirror for private suites (`INJECT_DEBIAN_MIRROR` overrides it).
    static let defaultMirror = "http://deb.debian.org/debian"
    /// Package lists older than this are refreshed (the old ones are used when that fails).
    static let listsMaxAgeSeconds = 86_400

    /// The suites searched, or empty for the machine's own sources.
    let suites: [String]
    /// The private configuration's directory (unused for the machine's sources).
    let directory: FilePath
    let mirror: String

    /// The machine's own apt sources.
    static func machine(cache: FilePath) -> DebianArchive {
        DebianArchive(suites: [], directory: cache.appending("apt/machine"), mirror: defaultMirror)
    }

    /// A private configuration for `suites` (all of ``suites`` when looking up an exact package).
    static func privateSuites(_ suites: [String], cache: FilePath, environment: [String: String]) -> DebianArchive {
        let mirror = environment["INJECT_DEBIAN_MIRROR"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultMirror
        return DebianArchive(
            suites: suites, directory: cache.appending("apt/" + suites.joined(separator: "+")), mirror: mirror)
    }

    /// What the archive is, for messages (`bookworm-backports via a private apt configuration`).
    var description: String {
        suites.isEmpty
            ? "the machine's apt sources"
            : "\(suites.joined(separator: ", ")) (private apt configuration in \(directory))"
    }

    /// The `-o` options that point apt at the private configuration.
    var aptOptions: [String] {
        guard !suites.isEmpty else { return [] }
        return [
            "-o", "Dir::Etc::SourceList=\(directory.appending("sources.list"))", "-o",
            "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::State::Lists=\(directory.appending("lists"))", "-o",
            "Dir::Cache=\(directory.appending("cache"))",
            // Debian's mirrors of testing and unstable may serve a Release past its Valid-Until.
            "-o", "Acquire::Check-Valid-Until=false",
        ]
    }

    /// Writes the private sources list and refreshes its package lists when they are missing or
    /// older than a day (an old list is used when the refresh fails: offline labs keep working).
    func prepare(progress: (String) -> Void) async throws(LabError) {
        guard !suites.isEmpty else { return }
        let lists = directory.appending("lists")
        let sources =
            suites.flatMap(sourceLines).map {
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] \($0) main"
            }
            .joined(separator: "\n") + "\n"
        for sub in ["lists/partial", "cache/archives/partial"] {
            try LabFileSystem.makeDirectories(
                directory.appending(sub), mode: [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute])
        }
        let listFile = directory.appending("sources.list")
        let previous = (try? FileIO.readWholeFile(listFile)).flatMap { $0.map { String(decoding: $0, as: UTF8.self) } }
        if previous != sources { try LabFileSystem.replace(listFile, with: Array(sources.utf8)) }
        let stamp = lists.appending("inject-updated")
        guard previous != sources || !Self.isFresh(stamp) else { return }
        progress("reading the package lists of \(suites.joined(separator: ", ")) from \(mirror)")
        do {
            _ = try await ToolRunner.run(
                ["apt-get"] + aptOptions + ["-q", "update"],
                hint: "the lab reaches \(mirror) through apt; set INJECT_DEBIAN_MIRROR for another mirror")
            try LabFileSystem.write([], to: stamp)
        } catch {
            guard previous == sources, access(stamp.string, F_OK) == 0 else {
                throw .kernel("cannot read the package lists of \(suites.joined(separator: ", ")): \(error)")
            }
            progress("refreshing the package lists failed; using the ones from before: \(error)")
        }
    }

    /// Whether `file` exists and was written less than ``listsMaxAgeSeconds`` ago.
    static func isFresh(_ file: FilePath) -> Bool {
        var info = stat()
        return stat(file.string, &info) == 0 && time(nil) - info.st_mtim.tv_sec < listsMaxAgeSeconds
    }

    /// A name saved by ``remember(_:in:)`` less than a day ago, or `nil`.
    static func remembered(_ file: FilePath) -> String? {
        guard isFresh(file), let bytes = try? FileIO.readWholeFile(file) else { return nil }
        let name = String(decoding: bytes, as: UTF8.self).trimmed()
        return name.isEmpty ? nil : name
    }

    /// Saves a resolved name (best effort: a cache, not a record).
    static func remember(_ name: String, in file: FilePath) {
        try? LabFileSystem.makeDirectories(file.removingLastComponent())
        try? LabFileSystem.replace(file, with: Array((name + "\n").utf8))
    }

    /// The archive lines of a suite: a release also gets its point updates and security updates (the
    /// kernels a machine of that release runs); a backports suite is itself only.
    func sourceLines(_ suite: String) -> [String] {
        // Backports, testing and unstable have no -updates or -security suites of their own here.
        guard !suite.contains("-"), !["forky", "sid"].contains(suite) else { return ["\(mirror) \(suite)"] }
        return ["\(mirror) \(suite)", "\(mirror) \(suite)-updates", "\(mirror)-security \(suite)-security"]
    }

    /// The candidate version of `package`, or `nil` when the archive does not have it.
    func candidateVersion(_ package: String) async -> String? {
        guard let policy = try? await ToolRunner.run(["apt-cache"] + aptOptions + ["policy", package]).output else {
            return nil
        }
        for line in policy.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "Candidate:", words[1] != "(none)" { return String(words[1]) }
        }
        return nil
    }

    /// The first dependency of `metapackage` that starts with `prefix` (`linux-image-amd64` to the
    /// versioned image package).
    func dependency(of metapackage: String, prefix: String) async throws(LabError) -> String {
        let depends: String
        do {
            depends = try await ToolRunner.run(["apt-cache"] + aptOptions + ["depends", metapackage]).output
        } catch {
            throw .kernel("cannot ask apt which package \(metapackage) means in \(description): \(error)")
        }
        guard
            let package = depends.split(separator: "\n").compactMap({ line -> String? in
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmed() }
                return parts.count == 2 && parts[0].hasSuffix("Depends") && parts[1].hasPrefix(prefix) ? parts[1] : nil
            }).first
        else {
            throw .kernel(
                "`apt-cache depends \(metapackage)` names no \(prefix)* package in \(description)"
                    + (suites.isEmpty ? "; run `apt-get update`" : ""))
        }
        return package
    }

    /// Package names that start with `prefix` (`apt-cache pkgnames`), sorted.
    func packageNames(prefix: String) async -> [String] {
        guard let names = try? await ToolRunner.run(["apt-cache"] + aptOptions + ["pkgnames", prefix]).output else {
            return []
        }
        return names.split(separator: "\n").map(String.init).sorted()
    }

    /// Downloads `package` (at `version` when given) into `directory`; the `.deb` file.
    func download(_ package: String, version: String? = nil, into target: FilePath) async throws(LabError) -> FilePath {
        let spec = version.map { "\(package)=\($0)" } ?? package
        do {
            try LabFileSystem.makeDirectories(target)
            _ = try await ToolRunner.run(
                ["apt-get"] + aptOptions + ["-q", "download", spec],
                hint: suites.isEmpty ? "apt-get update may help" : "the package lists are in \(directory)",
                workingDirectory: target)
        } catch let error as LabError {
            throw error
        } catch {
            throw .kernel("downloading \(spec) from \(description): \(error)")
        }
        let prefix = package + "_"
        guard
            let deb = ((try? FileIO.listDirectory(target)) ?? []).map(\.name)
                .first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".deb") })
        else {
            throw .kernel("apt-get download \(spec) left no \(prefix)*.deb in \(target)")
        }
        return target.appending(deb)
    }
}
