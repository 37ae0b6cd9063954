import InjectHost

/// The guest's root filesystem: a Debian root built from Debian's packages by mmdebstrap (the
/// `essential` variant, bookworm with bookworm-backports), holding the consumers a server runs
/// (rasdaemon 0.8 from bookworm-backports, ras-mc-ctl, sqlite3, prometheus-node-exporter), the
/// tools the lab's routes use in the guest (busybox, kmod, ipmitool) and the libraries the inject
/// package depends on; packed read-only as a squashfs image (tar2sqfs, lz4: quick to unpack under
/// TCG). The guest mounts it under a tmpfs overlay: nothing of the host's filesystem is in it.
///
/// One image per suite, sources and package set, cached under the lab cache as
/// `guest-root/<suite>-<key>.sqfs` and rebuilt when any of them changes.
struct GuestRoot: Sendable, Equatable {
    /// The suite the root is made of.
    static let suite = "bookworm"
    /// The suites its packages come from (a package named `name/suite` comes from that suite).
    static let components = ["bookworm", "bookworm-backports"]
    /// The packages of every guest root besides the inject package's dependencies.
    static let packages = [
        "busybox", "kmod", "ipmitool", "sqlite3", "prometheus-node-exporter", "rasdaemon/bookworm-backports",
    ]
    /// Raised when the way the image is made changes, so that cached images are rebuilt.
    static let format = 1

    /// The packages this root holds (``packages`` and the inject package's dependencies).
    let packageSet: [String]
    /// The apt source lines it is built from.
    let sources: [String]

    /// The root for an inject package depending on `dependencies` (package names).
    init(dependencies: [String], environment: [String: String]) {
        packageSet = Array(Set(Self.packages + dependencies)).sorted()
        let mirror =
            environment["INJECT_DEBIAN_MIRROR"].flatMap { $0.isEmpty ? nil : $0 } ?? DebianArchive.defaultMirror
        sources = Self.components.map { "deb \(mirror) \($0) main" }
    }

    /// The cached image's name: the suite and a digest of everything that shapes it.
    var imageName: String {
        let key = LabCacheKey.digest(
            (["format \(Self.format)", Self.suite] + sources + packageSet).joined(separator: "\n"))
        return "\(Self.suite)-\(key).sqfs"
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
                "building the guest's Debian root (\(Self.suite): \(packageSet.joined(separator: " "))); once, cached in \(directory)"
            )
            let partial = directory.appending("partial-\(getpid())-\(imageName)")
            // mmdebstrap writes the root as a tar on its stdout; tar2sqfs packs that stream.
            let build =
                [
                    "mmdebstrap", "--quiet", "--variant=essential", "--include=" + packageSet.joined(separator: ","),
                    "--customize-hook=echo inject-lab > \"$1/etc/hostname\"", Self.suite, "-",
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
