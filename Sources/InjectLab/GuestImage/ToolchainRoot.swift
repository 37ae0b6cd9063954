import InjectHost

/// A Debian root that holds the compiler a kernel was built with, where the machine cannot install
/// it: Debian's trixie and later kernels are built with gcc-14, which bookworm does not have (and
/// whose binaries, like the kernel's own build tools in linux-kbuild, need trixie's libc). The
/// root is made once with mmdebstrap from the suite whose compiler matches the kernel's
/// (`CONFIG_CC_VERSION_TEXT`'s Debian version, else the first suite that has the package), cached
/// in the lab cache as a directory, and builds run inside it with `chroot` (root only).
enum ToolchainRoot {
    /// The suites searched for a compiler, oldest first.
    static let suites = ["trixie", "forky", "sid"]
    /// What a kernel module's out-of-tree build runs besides the compiler: make, and what the
    /// kernel's build scripts and objtool call or link (awk, libelf).
    static let packages = ["make", "mawk", "libelf1t64", "xz-utils"]

    /// The root with `compiler` (`x86_64-linux-gnu-gcc-14`) from package `package` (`gcc-14`) at
    /// `version` (the Debian version the kernel names, e.g. 14.2.0-19), built when missing.
    static func ensure(
        compiler: String, package: String, version: String?, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) -> FilePath {
        guard geteuid() == 0 else {
            throw .missingPrerequisite(
                what: "\(package) is not installable here, and building in a root that has it needs chroot (root)",
                install: "run inject lab up as root")
        }
        guard LabPrerequisites.onPath("mmdebstrap") else {
            throw .missingPrerequisite(
                what: "mmdebstrap (it makes the root that holds \(package))", install: "apt-get install mmdebstrap")
        }
        var suite: String?
        var candidates: [String] = []
        for name in suites {
            let archive = DebianArchive.privateSuites([name], cache: cache, environment: environment)
            try await archive.prepare(progress: progress)
            guard let candidate = await archive.candidateVersion(package) else { continue }
            candidates.append("\(name) \(candidate)")
            if suite == nil || candidate == version { suite = name }
            if candidate == version { break }
        }
        guard let suite else {
            throw .kernel("no suite of \(suites.joined(separator: ", ")) has \(package)")
        }
        let directory = cache.appending("toolchain")
        let root = directory.appending("\(suite)-\(package)")
        return try await LabFileSystem.withLock(directory.appending("build.lock")) { () throws(LabError) in
            if access(root.appending("usr/bin/\(compiler)").string, X_OK) == 0 { return root }
            progress(
                "making a \(suite) root with \(package) (the kernel's compiler; the suites have \(candidates.joined(separator: ", "))), once, in \(root)"
            )
            let mirror =
                environment["INJECT_DEBIAN_MIRROR"].flatMap { $0.isEmpty ? nil : $0 } ?? DebianArchive.defaultMirror
            let partial = directory.appending("partial-\(getpid())-\(suite)-\(package)")
            try? LabFileSystem.removeTree(partial)
            do {
                _ = try await ToolRunner.run([
                    "mmdebstrap", "--quiet", "--variant=essential",
                    "--aptopt=Acquire::Check-Valid-Until \"false\"",
                    "--include=" + ([package] + packages).joined(separator: ","), suite, partial.string,
                    "deb \(mirror) \(suite) main",
                ])
            } catch {
                try? LabFileSystem.removeTree(partial)
                throw .kernel("making the \(suite) root with \(package) failed: \(error)")
            }
            try? LabFileSystem.removeTree(root)
            try LabFileSystem.rename(partial, to: root)
            return root
        }
    }
}
