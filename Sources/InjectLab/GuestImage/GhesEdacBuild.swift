import InjectHost

/// The kernel's own ghes_edac, for Debian kernels that leave it out.
///
/// No Debian kernel sets CONFIG_EDAC_GHES, so GHES memory records reach no EDAC counter. From 6.2
/// on, ghes_edac is a module on top of ghes.c's exported report chain, so the lab builds
/// `drivers/edac/ghes_edac.c` from the kernel's own Debian source (`linux-source-X.Y` at the
/// image's version) out of tree against its `linux-headers`, `-common` and `linux-kbuild`
/// packages with the compiler the kernel was built with, once per kernel, into the kernel's
/// cache directory (`extra/ghes_edac.ko`), and checks that its vermagic equals the packaged
/// modules'. The guest then loads it and boots with `ghes.edac_force_enable=1`.
public enum GhesEdacBuild {
    /// What the lab's kernel has.
    public enum Status: Sendable, Equatable, CustomStringConvertible {
        /// The kernel has ghes_edac (built in, or as its own module).
        case inKernel(String)
        /// The lab built it: the module file.
        case built(FilePath)
        /// No ghes_edac: why, and what would give one.
        case unavailable(String)

        public var description: String {
            switch self {
            case .inKernel(let how): return "ghes_edac \(how)"
            case .built(let file): return "ghes_edac built by the lab (\(file))"
            case .unavailable(let reason): return "no ghes_edac: \(reason)"
            }
        }

        /// Whether EDAC counters are fed by GHES records.
        public var available: Bool {
            if case .unavailable = self { return false }
            return true
        }
    }

    /// The files taken from the kernel source: the driver and the EDAC core's private headers.
    static let sourceFiles = ["drivers/edac/ghes_edac.c", "drivers/edac/edac_*.h"]

    /// Finds or builds ghes_edac for `kernel`; never throws: a kernel without it still boots.
    public static func ensure(
        _ kernel: KernelAssets, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async -> Status {
        let config = kernelConfiguration(kernel)
        if let decided = decided(kernel, config: config) { return decided }
        guard let module = kernel.extraModules?.appending("ghes_edac.ko"), let version = kernel.version,
            let numbers = kernel.versionNumbers
        else {
            return .unavailable("\(kernel.release) has no package version")
        }
        do throws(LabError) {
            try await build(
                kernel, series: "\(numbers.major).\(numbers.minor)", version: version, config: config, into: module,
                cache: cache, environment: environment, progress: progress)
            return .built(module)
        } catch {
            return .unavailable("building it from \(kernel.release)'s source failed: \(error)")
        }
    }

    /// What the cache holds for `kernel`, without building (`inject lab kernels`).
    public static func cachedStatus(_ kernel: KernelAssets) -> Status {
        decided(kernel, config: kernelConfiguration(kernel))
            ?? .unavailable(
                "not built yet: the next lab up with \(Setting.kernel.named(kernel.spec ?? kernel.package ?? kernel.release)) builds it"
            )
    }

    /// The status when no build is needed or possible; `nil` when the module must be built.
    static func decided(_ kernel: KernelAssets, config: [String: String]) -> Status? {
        switch config["CONFIG_EDAC_GHES"] {
        case "y": return .inKernel("built into the kernel")
        case "m": return .inKernel("as a module of the kernel package")
        default: break
        }
        guard config["CONFIG_EDAC"] == "y" else {
            return .unavailable("\(kernel.release) has no EDAC core (CONFIG_EDAC)")
        }
        guard kernel.isAtLeast(6, 2) else {
            return .unavailable(
                "in \(kernel.release) ghes_edac is part of ghes.c (a boolean option until 6.2), so it cannot be added as a module; use \(Setting.kernel.named("bookworm-backports")) (6.12) for EDAC counters"
            )
        }
        guard let extra = kernel.extraModules, kernel.package != nil, kernel.version != nil else {
            return .unavailable(
                "\(kernel.release) was not fetched from a Debian package, so its source and headers are unknown; use \(Setting.kernel.named("bookworm-backports"))"
            )
        }
        let module = extra.appending("ghes_edac.ko")
        return access(module.string, R_OK) == 0 ? .built(module) : nil
    }

    /// `CONFIG_X=value` lines of the kernel's configuration.
    static func kernelConfiguration(_ kernel: KernelAssets) -> [String: String] {
        guard let bytes = try? FileIO.readWholeFile(kernel.configuration) else { return [:] }
        var values: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("CONFIG_") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    /// Fetches the source and headers of `kernel` (`series` such as 6.12, the package `version`) and
    /// builds the module into `module`.
    private static func build(
        _ kernel: KernelAssets, series: String, version: String, config: [String: String],
        into module: FilePath, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) {
        let compiler = try KernelCompiler(config: config)
        let site = try await BuildSite(
            kernel: kernel, compiler: compiler, cache: cache, environment: environment, progress: progress)
        try LabFileSystem.removeTree(site.work)
        defer { try? LabFileSystem.removeTree(site.work) }
        defer { site.removeSources(["linux-headers-", "linux-kbuild-", "linux-source-"]) }
        let headersDirectory = try await unpackPackages(
            release: kernel.release, series: series, version: version, site: site, cache: cache,
            environment: environment, progress: progress)

        progress("extracting \(sourceFiles.joined(separator: " ")) from linux-source-\(series).tar.xz")
        let tarball = site.root.appending("usr/src/linux-source-\(series).tar.xz")
        let source = site.work.appending("source")
        try LabFileSystem.makeDirectories(source)
        try await tool(
            ["tar", "-xJf", tarball.string, "-C", source.string, "--wildcards"]
                + sourceFiles.map { "linux-source-\(series)/\($0)" })
        try LabFileSystem.remove(tarball)
        let moduleSource = source.appending("linux-source-\(series)/drivers/edac")
        try LabFileSystem.write(Array("obj-m := ghes_edac.o\n".utf8), to: moduleSource.appending("Kbuild"))

        progress("compiling ghes_edac.ko with \(compiler.name)" + (site.toolchain.map { " in \($0)" } ?? ""))
        // BTF for modules needs pahole and the kernel's vmlinux BTF: not needed to load it.
        try await tool(
            site.runPrefix + [
                "make", "-s", "-C", site.seen(headersDirectory), "M=\(site.seen(moduleSource))",
                "CONFIG_DEBUG_INFO_BTF_MODULES=", "modules",
            ])
        try install(moduleSource.appending("ghes_edac.ko"), as: module, for: kernel, cache: cache)
        progress("ghes_edac.ko for \(kernel.release) is in \(module)")
    }

    /// Downloads and unpacks the headers of kernel `release` (with their -common and linux-kbuild
    /// dependencies) and its source package into the site's root; returns the headers' directory.
    private static func unpackPackages(
        release: String, series: String, version: String, site: BuildSite, cache: FilePath,
        environment: [String: String], progress: (String) -> Void
    ) async throws(LabError) -> FilePath {
        let headers = "linux-headers-\(release)"
        let archive = DebianArchive.privateSuites(DebianArchive.suites, cache: cache, environment: environment)
        try await archive.prepare(progress: progress)
        let common = try await archive.dependency(of: headers, prefix: "linux-headers-")
        let kbuild = try await archive.dependency(of: headers, prefix: "linux-kbuild-")
        progress(
            "building ghes_edac for \(release) (once): fetching linux-source-\(series) \(version), \(headers), \(common), \(kbuild)"
        )
        try LabFileSystem.makeDirectories(site.root)
        for name in [headers, common, kbuild, "linux-source-\(series)"] {
            let deb = try await archive.download(name, version: version, into: site.work.appending("debs"))
            try await tool(["dpkg-deb", "-x", deb.string, site.root.string])
            try LabFileSystem.remove(deb)
        }
        let headersDirectory = site.root.appending("usr/src/\(headers)")
        // The headers' Makefile includes the -common one by its installed path: unpacked elsewhere
        // than a toolchain's root, that path is made the unpacked one.
        if site.toolchain == nil {
            let makefile = headersDirectory.appending("Makefile")
            let text = String(decoding: (try? FileIO.readWholeFile(makefile)).flatMap { $0 } ?? [], as: UTF8.self)
            let rooted = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("include /usr/src/")
                    ? "include \(site.root)" + line.dropFirst("include ".count) : String(line)
            }
            try LabFileSystem.write(Array(rooted.joined(separator: "\n").utf8), to: makefile)
        }
        return headersDirectory
    }

    /// Copies the built module into place once its vermagic equals the packaged modules'.
    private static func install(
        _ built: FilePath, as module: FilePath, for kernel: KernelAssets, cache: FilePath
    ) throws(LabError) {
        let reference = try KernelModules.sample(
            in: kernel.modules, scratch: cache.appending("modules/\(kernel.release)"))
        let builtMagic = try KernelModules.modinfo("vermagic", of: built)
        let packagedMagic = try reference.flatMap { (file: FilePath) throws(LabError) in
            try KernelModules.modinfo("vermagic", of: file)
        }
        guard builtMagic != nil, builtMagic == packagedMagic else {
            throw .kernel(
                "the built module's vermagic '\(builtMagic ?? "none")' differs from the package's '\(packagedMagic ?? "none")'"
            )
        }
        try LabFileSystem.makeDirectories(module.removingLastComponent())
        guard let bytes = try? FileIO.readWholeFile(built) else {
            throw .io(path: built.string, reason: "the build left no module")
        }
        try LabFileSystem.replace(module, with: bytes)
    }

    /// Installs the compiler and make as root when missing; otherwise says what to install.
    static func ensureTools(compiler: String, package: String, progress: (String) -> Void)
        async throws(LabError)
    {
        let needed = [("/usr/bin/\(compiler)", package), ("/usr/bin/make", "make"), ("/usr/bin/xz", "xz-utils")]
            .filter { access($0.0, X_OK) != 0 }.map(\.1)
        guard !needed.isEmpty else { return }
        let command = ["apt-get", "install", "-y", "--no-install-recommends"] + needed
        guard geteuid() == 0 else {
            throw .missingPrerequisite(
                what: "building ghes_edac needs \(needed.joined(separator: ", "))",
                install: "sudo " + command.joined(separator: " "))
        }
        progress("installing \(needed.joined(separator: " ")) with apt-get")
        do {
            _ = try await ToolRunner.run(command)
        } catch {
            throw .missingPrerequisite(
                what:
                    "installing \(needed.joined(separator: " ")) failed (\(error)); the kernel was built with \(compiler)",
                install: command.joined(separator: " "))
        }
    }

    private static func tool(_ argv: [String]) async throws(LabError) {
        do {
            _ = try await ToolRunner.run(argv)
        } catch {
            throw .kernel("\(error)")
        }
    }
}
