import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A guest kernel: its image and modules, found or fetched as a ``KernelSpec`` says. Debian
/// packages are fetched with `apt-get download` (the machine's sources or a ``DebianArchive``
/// private configuration) and unpacked with `dpkg-deb -x` into the cache, one directory per
/// package (no root needed).
public struct KernelAssets: Sendable, Equatable, Codable {
    /// The kernel release, such as `6.1.0-56-amd64`.
    public var release: String
    /// The kernel image.
    public var image: FilePath
    /// `lib/modules/RELEASE`.
    public var modules: FilePath
    /// Where it came from, for `lab status`.
    public var origin: String
    /// The Debian package and version, when it came from one (the kernel's source and headers
    /// are fetched by the same version).
    public var package: String?
    public var version: String?
    /// The spec that found it.
    public var spec: String?

    /// The packages a 7.x `linux-image-RELEASE` depends on for its files.
    static let splitPackagePrefixes = ["linux-binary-", "linux-modules-", "linux-base-"]
    /// The metapackage that names the current kernel of a suite.
    public static let metapackage = "linux-image-amd64"
    /// The file in a cached package's directory that says what it is.
    static let metadataFile = "inject-kernel.json"

    /// Whether the image sits with its modules (`usr/lib/modules/RELEASE/vmlinuz`, Debian's
    /// packages from 7.x on) rather than in `boot/vmlinuz-RELEASE`.
    var imageBesideModules: Bool { image.lastComponent?.string == "vmlinuz" }
    /// The kernel's build configuration (`boot/config-RELEASE` beside the image, or `config` beside
    /// an image that sits with its modules).
    public var configuration: FilePath {
        image.removingLastComponent().appending(imageBesideModules ? "config" : "config-\(release)")
    }
    /// The cache directory of a kernel fetched from a package (where built modules go), or `nil`.
    public var cacheDirectory: FilePath? {
        guard package != nil else { return nil }
        let levels = imageBesideModules ? 5 : 2
        return (0..<levels).reduce(image) { path, _ in path.removingLastComponent() }
    }
    /// Modules the lab built for this kernel (``GhesEdacBuild``).
    public var extraModules: FilePath? { cacheDirectory?.appending("extra") }

    /// `major.minor` of the release, such as (6, 12).
    public var versionNumbers: (major: Int, minor: Int)? {
        let parts = release.split(whereSeparator: { $0 == "." || $0 == "-" || $0 == "+" })
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    /// Whether the release is `major.minor` or later (`false` when it cannot be read).
    public func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
        guard let numbers = versionNumbers else { return false }
        return numbers.major > major || (numbers.major == major && numbers.minor >= minor)
    }

    /// Finds or fetches the kernel `spec` names.
    ///
    /// - Parameters:
    ///   - cache: the cache directory (``LabPaths/cacheBase(_:)``).
    ///   - progress: told what is happening (downloads take a few seconds).
    public static func locate(
        _ spec: KernelSpec, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) -> KernelAssets {
        let directory = cache.appending("kernel")
        switch spec {
        case .stock:
            if let installed = installed() { return installed }
            let archive = DebianArchive.machine(cache: cache)
            // What linux-image-amd64 means changes with the machine's package lists: asked once a
            // day (apt-cache reads the machine's whole lists, most of a second).
            let resolved = cache.appending("apt/machine/\(metapackage)")
            if let package = DebianArchive.remembered(resolved), let cached = cached(directory.appending(package)) {
                return cached
            }
            guard let package = try? await archive.dependency(of: metapackage, prefix: "linux-image-") else {
                // Offline and nothing resolves: the newest stock package cached before.
                if let cached = cachedKernels(directory).filter({ $0.spec == "stock" }).max(by: {
                    $0.release < $1.release
                }) {
                    return cached
                }
                return try await fetch(
                    metapackage: metapackage, archive: archive, spec: spec, into: directory, progress: progress)
            }
            DebianArchive.remember(package, in: resolved)
            return try await cachedOrFetched(
                package, archive: archive, spec: spec, directory: directory, progress: progress)
        case .suite(let suite):
            let archive = DebianArchive.privateSuites([suite], cache: cache, environment: environment)
            let resolved = archive.directory.appending(metapackage)
            if let package = DebianArchive.remembered(resolved), let cached = cached(directory.appending(package)) {
                return cached
            }
            try await archive.prepare(progress: progress)
            let package = try await archive.dependency(of: metapackage, prefix: "linux-image-")
            DebianArchive.remember(package, in: resolved)
            return try await cachedOrFetched(
                package, archive: archive, spec: spec, directory: directory, progress: progress)
        case .package(let package):
            if let cached = cachedKernels(directory).first(where: { $0.package == package }) { return cached }
            let machine = DebianArchive.machine(cache: cache)
            if await machine.candidateVersion(package) != nil {
                return try await cachedOrFetched(
                    package, archive: machine, spec: spec, directory: directory, progress: progress)
            }
            let archive = DebianArchive.privateSuites(DebianArchive.suites, cache: cache, environment: environment)
            try await archive.prepare(progress: progress)
            guard await archive.candidateVersion(package) != nil else {
                throw .kernel(
                    "no Debian package \(package) in the machine's sources or in \(DebianArchive.suites.joined(separator: ", ")); the lab's list of available kernels names what there is"
                )
            }
            return try await cachedOrFetched(
                package, archive: archive, spec: spec, directory: directory, progress: progress)
        case .path(let path):
            return try onDisk(path)
        }
    }

    /// What each suite's `--kernel SUITE` means now, and every amd64 kernel package it has
    /// (`inject lab kernels --available`).
    public static func available(
        cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) -> [(suite: String, current: String?, packages: [String])] {
        var result: [(String, String?, [String])] = []
        for suite in DebianArchive.suites {
            let archive = DebianArchive.privateSuites([suite], cache: cache, environment: environment)
            try await archive.prepare(progress: progress)
            let current = try? await archive.dependency(of: metapackage, prefix: "linux-image-")
            let packages = await archive.packageNames(prefix: "linux-image-").filter { name in
                name.hasSuffix("-amd64") && name.dropFirst("linux-image-".count).first?.isNumber == true
            }
            result.append((suite, current, packages))
        }
        return result
    }

    /// An installed kernel with its modules: the running one first, then the newest.
    static func installed() -> KernelAssets? {
        var uts = utsname()
        uname(&uts)
        let running = withUnsafeBytes(of: &uts.release) {
            String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let boot = (try? FileIO.listDirectory("/boot")) ?? []
        let releases = boot.map(\.name).filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst(8)) }
        for release in [running] + releases.sorted(by: >) where releases.contains(release) {
            let image = FilePath("/boot/vmlinuz-\(release)")
            let modules = FilePath("/lib/modules/\(release)")
            if access(image.string, R_OK) == 0, access(modules.appending("kernel").string, R_OK) == 0 {
                return KernelAssets(
                    release: release, image: image, modules: modules, origin: "installed (\(image))", spec: "stock")
            }
        }
        return nil
    }

    /// Every kernel unpacked in the cache (`inject lab kernels`).
    public static func cachedKernels(_ directory: FilePath) -> [KernelAssets] {
        let entries = ((try? FileIO.listDirectory(directory)) ?? []).filter {
            $0.isDirectory && !$0.name.hasSuffix(".partial")
        }
        return entries.map(\.name).sorted().compactMap { cached(directory.appending($0)) }
    }

    /// The kernel unpacked in `root`, with its metadata when the lab wrote it.
    static func cached(_ root: FilePath) -> KernelAssets? {
        // bookworm's packages put modules in lib/modules, trixie's (merged /usr) in usr/lib/modules.
        let modulesDirectory =
            ["lib/modules", "usr/lib/modules"].map { root.appending($0) }.first {
                access($0.string, R_OK) == 0
            } ?? root.appending("lib/modules")
        let releases = ((try? FileIO.listDirectory(modulesDirectory)) ?? []).map(\.name)
        // The image in boot/, or (Debian's 7.x packages) beside the modules as vmlinuz.
        let images = releases.lazy.compactMap { release -> (String, FilePath)? in
            [root.appending("boot/vmlinuz-\(release)"), modulesDirectory.appending("\(release)/vmlinuz")]
                .first { access($0.string, R_OK) == 0 }.map { (release, $0) }
        }
        guard let (release, image) = images.first else { return nil }
        let metadata = (try? FileIO.readWholeFile(root.appending(metadataFile))).flatMap { $0 }
            .flatMap { try? JSONDecoder().decode(KernelAssets.self, from: Data($0)) }
        var assets = KernelAssets(
            release: release, image: image, modules: modulesDirectory.appending(release),
            origin: "Debian package \(root.lastComponent?.string ?? "") (cached in \(root))",
            package: root.lastComponent?.string, version: metadata?.version, spec: metadata?.spec)
        if let origin = metadata?.origin { assets.origin = origin }
        return assets
    }

    /// The cached package, or a fresh download of it.
    private static func cachedOrFetched(
        _ package: String, archive: DebianArchive, spec: KernelSpec, directory: FilePath,
        progress: (String) -> Void
    ) async throws(LabError) -> KernelAssets {
        if let cached = cached(directory.appending(package)) { return cached }
        return try await fetch(
            metapackage: package, archive: archive, spec: spec, into: directory, progress: progress, resolved: true)
    }

    /// Downloads and unpacks `package` (or what the metapackage depends on) into the cache.
    private static func fetch(
        metapackage package: String, archive: DebianArchive, spec: KernelSpec, into directory: FilePath,
        progress: (String) -> Void, resolved: Bool = false
    ) async throws(LabError) -> KernelAssets {
        let package = resolved ? package : try await archive.dependency(of: package, prefix: "linux-image-")
        let partial = directory.appending("\(package).partial")
        let final = directory.appending(package)
        let version = await archive.candidateVersion(package)
        progress("fetching the guest kernel \(package)\(version.map { " \($0)" } ?? "") from \(archive.description)")
        do {
            try LabFileSystem.removeTree(partial)
            // From 7.x Debian's linux-image-RELEASE only depends on the packages that hold the image
            // (linux-binary-), the modules (linux-modules-) and the configuration (linux-base-).
            var names = [package]
            for prefix in splitPackagePrefixes {
                if let part = try? await archive.dependency(of: package, prefix: prefix) { names.append(part) }
            }
            for name in names {
                let deb = try await archive.download(name, version: version, into: partial)
                progress("unpacking \(deb.lastComponent?.string ?? "")")
                _ = try await ToolRunner.run(["dpkg-deb", "-x", deb.string, partial.string])
                try LabFileSystem.remove(deb)
            }
            guard var assets = cached(partial) else {
                throw LabError.kernel("\(package) holds no boot/vmlinuz-* with lib/modules")
            }
            assets.origin =
                "Debian package \(package) \(version ?? "") from \(archive.suites.isEmpty ? "the machine's sources" : archive.suites.joined(separator: ", ")) (cached in \(final))"
            assets.version = version
            assets.spec = spec.description
            try LabFileSystem.writeJSON(assets, to: partial.appending(metadataFile))
            try LabFileSystem.removeTree(final)
            try LabFileSystem.rename(partial, to: final)
        } catch let error as LabError {
            throw error
        } catch {
            throw .kernel("\(error)")
        }
        guard let assets = cached(final) else { throw .kernel("\(final) holds no boot/vmlinuz-* with lib/modules") }
        return assets
    }

    /// A kernel on disk: an unpacked tree, or a `vmlinuz-RELEASE` file.
    static func onDisk(_ path: FilePath) throws(LabError) -> KernelAssets {
        var info = stat()
        guard stat(path.string, &info) == 0 else {
            throw .kernel("\(Setting.kernel.named(path.string)): \(Errno(rawValue: errno))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            guard var assets = cached(path) else {
                throw .kernel(
                    "\(Setting.kernel.named(path.string)) holds no boot/vmlinuz-RELEASE with lib/modules/RELEASE (an unpacked linux-image package)"
                )
            }
            assets.origin = "the tree \(path)"
            assets.package = nil
            assets.spec = path.string
            return assets
        }
        guard let name = path.lastComponent?.string, name.hasPrefix("vmlinuz-"), name.count > 8 else {
            throw .kernel(
                "\(Setting.kernel.named(path.string)) is neither a directory nor a vmlinuz-RELEASE file (the release names its modules)"
            )
        }
        let release = String(name.dropFirst(8))
        let beside = path.removingLastComponent().removingLastComponent().appending("lib/modules/\(release)")
        for modules in [beside, FilePath("/lib/modules/\(release)")]
        where access(modules.appending("kernel").string, R_OK) == 0 {
            return KernelAssets(
                release: release, image: path, modules: modules, origin: "\(path) with \(modules)", spec: path.string)
        }
        throw .kernel(
            "\(Setting.kernel.named(path.string)): no modules for \(release) in \(beside) or /lib/modules/\(release)")
    }
}
