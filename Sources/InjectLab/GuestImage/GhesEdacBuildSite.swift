import InjectHost

/// The compiler a Debian kernel was built with, from its configuration's
/// `CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0"`.
struct KernelCompiler {
    /// The compiler's command (`x86_64-linux-gnu-gcc-12`).
    let name: String
    /// The Debian package that has it (`gcc-12`).
    let package: String
    /// The Debian version in the text (`12.2.0-14`), when it names one.
    let debianVersion: String?

    init(config: [String: String]) throws(LabError) {
        let text = (config["CONFIG_CC_VERSION_TEXT"] ?? "").filter { $0 != "\"" }
        guard let name = text.split(separator: " ").first.map(String.init), name.contains("gcc-") else {
            throw .kernel("the kernel's configuration names no gcc-N compiler (CONFIG_CC_VERSION_TEXT=\(text))")
        }
        self.name = name
        package = "gcc-" + (name.split(separator: "-").last.map(String.init) ?? "")
        debianVersion = text.firstRange(of: "(Debian ").map { String(text[$0.upperBound...].prefix { $0 != ")" }) }
    }
}

/// Where ghes_edac is built: on the machine, or in a root of the Debian suite whose compiler
/// matches the kernel's when the machine cannot install it (`ToolchainRoot`).
struct BuildSite {
    /// The toolchain's root, or `nil` when the machine's own compiler builds.
    let toolchain: FilePath?
    /// The scratch directory of this build (removed after it).
    let work: FilePath

    /// Installs the machine's compiler, or prepares a root that has it.
    init(
        kernel: KernelAssets, compiler: KernelCompiler, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) {
        do {
            try await GhesEdacBuild.ensureTools(compiler: compiler.name, package: compiler.package, progress: progress)
            toolchain = nil
        } catch {
            progress("\(compiler.package) is not the machine's to install (\(error)); building in a root that has it")
            toolchain = try await ToolchainRoot.ensure(
                compiler: compiler.name, package: compiler.package, version: compiler.debianVersion, cache: cache,
                environment: environment, progress: progress)
        }
        work = (toolchain?.appending("build") ?? cache.appending("build")).appending("ghes_edac-\(kernel.release)")
    }

    /// Where the packages are unpacked: in a toolchain's root where they install (their Makefiles
    /// name /usr/src/linux-headers-... by that path), else in the work directory.
    var root: FilePath { toolchain ?? work.appending("root") }

    /// A path as the build sees it: inside the toolchain's root, or as it is.
    func seen(_ path: FilePath) -> String {
        guard let toolchain else { return path.string }
        return "/" + path.string.dropFirst(toolchain.string.count).drop { $0 == "/" }
    }

    /// What runs a command in the site: in the toolchain's root, with a /proc of its own (objtool
    /// reads the process's limits) mounted in a mount namespace that ends with the command.
    var runPrefix: [String] {
        guard let toolchain else { return [] }
        return [
            "unshare", "--mount", "--", "sh", "-c", "mount -t proc proc \"$0/proc\" && exec chroot \"$0\" \"$@\"",
            toolchain.string,
        ]
    }

    /// Removes from a toolchain's root the unpacked kernel packages under usr/src whose names
    /// start with one of `prefixes` (the root is kept for the next kernel, its sources are not).
    func removeSources(_ prefixes: [String]) {
        guard let toolchain else { return }
        let sources = toolchain.appending("usr/src")
        for entry in (try? FileIO.listDirectory(sources)) ?? [] where prefixes.contains(where: entry.name.hasPrefix) {
            try? LabFileSystem.removeTree(sources.appending(entry.name))
        }
    }
}
