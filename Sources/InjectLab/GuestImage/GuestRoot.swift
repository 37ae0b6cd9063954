import InjectHost

/// The Debian suite a lab guest's root is made of (`lab up --guest-suite`), and so the versions of
/// the consumers it runs: bookworm with rasdaemon from bookworm-backports by default.
public enum GuestSuite: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Debian 12 with rasdaemon 0.8.1 from bookworm-backports (its own 0.6.8 lacks page
    /// isolation and memory_failure_event) and prometheus-node-exporter 1.5.0.
    case bookworm
    /// Debian 13: rasdaemon 0.8.3 (row isolation), prometheus-node-exporter 1.9.0.
    case trixie
    /// Debian's testing and unstable: rasdaemon 0.8.4 (signal_event, ERST records), prometheus-node-exporter 1.11.
    case forky, sid

    /// The default: a server's stable release.
    public static let standard = GuestSuite.bookworm

    /// The apt suites its packages come from.
    var components: [String] { self == .bookworm ? ["bookworm", "bookworm-backports"] : [rawValue] }
    /// The rasdaemon package it holds (`name/suite` picks the suite).
    var rasdaemon: String { self == .bookworm ? "rasdaemon/bookworm-backports" : "rasdaemon" }

    /// The consumers' versions, as the help text gives them.
    public var consumerVersions: String {
        switch self {
        case .bookworm: "rasdaemon 0.8.1 (bookworm-backports), prometheus-node-exporter 1.5.0"
        case .trixie: "rasdaemon 0.8.3, prometheus-node-exporter 1.9.0"
        case .forky, .sid: "rasdaemon 0.8.4, prometheus-node-exporter 1.11"
        }
    }

    public var description: String { rawValue }
}

/// The guest's root filesystem: a Debian root built from Debian's packages by mmdebstrap (the
/// `essential` variant of a ``GuestSuite``), holding the consumers a server runs
/// (rasdaemon 0.8, ras-mc-ctl with the dmidecode it reads the board from, sqlite3,
/// prometheus-node-exporter), the
/// tools the lab's routes use in the guest (busybox, kmod, ipmitool) and the libraries the inject
/// package depends on; packed read-only as a squashfs image (tar2sqfs, lz4: quick to unpack under
/// TCG). The guest mounts it under a tmpfs overlay: nothing of the host's filesystem is in it.
///
/// One image per suite, sources and package set, cached under the lab cache as
/// `guest-root/<suite>-<key>.sqfs` and rebuilt when any of them changes.
struct GuestRoot: Sendable, Equatable {
    /// The packages of every guest root besides rasdaemon and the inject package's dependencies.
    static let packages = ["busybox", "kmod", "ipmitool", "sqlite3", "prometheus-node-exporter", "dmidecode"]
    /// Raised when the way the image is made changes, so that cached images are rebuilt.
    static let format = 1

    /// The suite the root is made of.
    let suite: GuestSuite
    /// The packages this root holds (``packages``, rasdaemon and the inject package's dependencies).
    let packageSet: [String]
    /// The apt source lines it is built from.
    let sources: [String]

    /// The root for an inject package depending on `dependencies` (package names).
    init(suite: GuestSuite, dependencies: [String], environment: [String: String]) {
        self.suite = suite
        packageSet = Array(Set(Self.packages + [suite.rasdaemon] + dependencies)).sorted()
        let mirror =
            environment["INJECT_DEBIAN_MIRROR"].flatMap { $0.isEmpty ? nil : $0 } ?? DebianArchive.defaultMirror
        sources = suite.components.map { "deb \(mirror) \($0) main" }
    }

    /// The cached image's name: the suite and a digest of everything that shapes it.
    var imageName: String {
        let key = LabCacheKey.digest(
            (["format \(Self.format)", suite.rawValue] + sources + packageSet).joined(separator: "\n"))
        return "\(suite)-\(key).sqfs"
    }

    /// The image, built when missing (about 20 s and 100 MB); labs starting at once take turns.
    func ensure(cache: FilePath, progress: (String) -> Void) async throws(LabError) -> FilePath {
        let directory = cache.appending("guest-root")
        let image = directory.appending(imageName)
        return try await LabFileSystem.withLock(directory.appending("build.lock")) { () throws(LabError) in
            if access(image.string, F_OK) == 0 { return image }
            for tool in [("mmdebstrap", "mmdebstrap"), ("tar2sqfs", "squashfs-tools-ng")]
            where !LabPrerequisites.onPath(tool.0) {
                throw .missingPrerequisite(
                    what: "\(tool.0) (it builds the lab guest's Debian root)", install: "apt-get install \(tool.1)")
            }
            progress(
                "building the guest's Debian root (\(suite): \(packageSet.joined(separator: " "))); once, cached in \(directory)"
            )
            let partial = directory.appending("partial-\(getpid())-\(imageName)")
            // mmdebstrap writes the root as a tar on its stdout; tar2sqfs packs that stream.
            let build =
                [
                    "mmdebstrap", "--quiet", "--variant=essential",
                    // Debian's mirrors of testing and unstable may serve a Release past its Valid-Until.
                    "--aptopt=Acquire::Check-Valid-Until \"false\"", "--include=" + packageSet.joined(separator: ","),
                    "--customize-hook=echo inject-lab > \"$1/etc/hostname\"", suite.rawValue, "-",
                ]
                + sources
            let script =
                "set -o pipefail; \"$@\" | tar2sqfs --quiet --force --compressor lz4 \(shellQuote(partial.string))"
            do {
                _ = try await ToolRunner.run(["/bin/bash", "-c", script, "bash"] + build)
            } catch {
                try? LabFileSystem.remove(partial)
                throw .io(path: image.string, reason: "building the guest's Debian root failed: \(error)")
            }
            try LabFileSystem.rename(partial, to: image)
            return image
        }
    }
}
