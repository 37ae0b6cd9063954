import InjectHost

/// The QEMU a lab runs: the machine's (`/usr/bin/qemu-system-x86_64`, Debian 12's 7.2), or the one
/// of a Debian suite (bookworm-backports' QEMU 10, which has the CXL injection commands) fetched
/// once with the lab's private apt configuration (``DebianArchive``), unpacked with `dpkg-deb` into
/// the lab cache and run from there with its firmware directory first (`-L`). Nothing is installed.
public struct LabQEMU: Sendable, Codable, Equatable {
    /// The spelling that chose it (`machine`, `bookworm-backports`).
    public var spec: String
    /// The executable.
    public var binary: String
    /// Firmware and ROM directories, searched in order (`-L`).
    public var dataDirectories: [String]
    /// Its version (`qemu-system-x86_64 --version`'s first line).
    public var version: String
    /// Where it came from, for `lab status`.
    public var origin: String

    /// The spelling of the machine's own QEMU.
    public static let machineSpelling = "machine"
    /// The suites a QEMU can come from: bookworm-backports' is built for this release's libraries.
    public static let suites = ["bookworm-backports"]
    /// The packages that make a runnable qemu-system-x86_64.
    static let packages = ["qemu-system-x86", "qemu-system-common", "qemu-system-data"]

    /// The arguments that go right after the executable.
    var leadingArguments: [String] { dataDirectories.flatMap { ["-L", $0] } }

    /// The machine's QEMU.
    static func machine() async -> LabQEMU {
        let binary = LabPrerequisites.qemu.string
        return LabQEMU(
            spec: machineSpelling, binary: binary, dataDirectories: [], version: await versionLine(binary),
            origin: "the machine's qemu-system-x86 (\(binary))")
    }

    /// The QEMU `spec` names: `machine`, or a suite in ``suites`` (fetched once, then cached).
    public static func locate(
        _ spec: String, cache: FilePath, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) -> LabQEMU {
        if spec == machineSpelling { return await machine() }
        guard suites.contains(spec) else {
            throw .io(
                path: Setting.qemu.description,
                reason:
                    "'\(spec)' is not a QEMU source: use \(machineSpelling) (the machine's, the default) or \(suites.joined(separator: ", ")) (QEMU 10, with CXL injection)"
            )
        }
        let archive = DebianArchive.privateSuites([spec], cache: cache, environment: environment)
        let directory = cache.appending("qemu")
        let resolved = directory.appending("\(spec).resolved")
        if let name = DebianArchive.remembered(resolved), var cached = cached(directory.appending(name), spec: spec) {
            cached.version = await versionLine(cached.binary)
            return cached
        }
        try await archive.prepare(progress: progress)
        guard let version = await archive.candidateVersion("qemu-system-x86") else {
            throw .io(path: Setting.qemu.description, reason: "\(archive.description) has no qemu-system-x86")
        }
        let name =
            "qemu-" + version.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" ? $0 : "_" }
        DebianArchive.remember(name, in: resolved)
        let final = directory.appending(name)
        if var cached = cached(final, spec: spec) {
            cached.version = await versionLine(cached.binary)
            return cached
        }
        let partial = directory.appending(name + ".partial")
        do {
            try LabFileSystem.removeTree(partial)
            for package in packages {
                progress("fetching \(package) \(version) from \(archive.description)")
                let deb = try await archive.download(package, version: version, into: partial)
                _ = try await ToolRunner.run(["dpkg-deb", "-x", deb.string, partial.string])
                try LabFileSystem.remove(deb)
            }
            try LabFileSystem.write(
                Array("qemu-system-x86 \(version) from \(spec)\n".utf8), to: partial.appending("inject-origin"))
            try LabFileSystem.removeTree(final)
            try LabFileSystem.rename(partial, to: final)
        } catch let error as LabError {
            throw error
        } catch {
            throw .io(path: partial.string, reason: "\(error)")
        }
        guard let found = cached(final, spec: spec) else {
            throw .io(path: final.string, reason: "the unpacked packages hold no usr/bin/qemu-system-x86_64")
        }
        let line = await versionLine(found.binary)
        guard line.hasPrefix("QEMU emulator version") else {
            let missing =
                (try? await ToolRunner.run(["ldd", found.binary]).output)?.split(separator: "\n").filter {
                    $0.contains("not found")
                }
                .map { $0.trimmed() }.joined(separator: ", ") ?? ""
            throw .io(
                path: found.binary,
                reason: "it does not run here"
                    + (missing.isEmpty ? ": \(line)" : "; missing libraries: \(missing) (apt-get install them)"))
        }
        var result = found
        result.version = line
        return result
    }

    /// An unpacked QEMU in `root`, or `nil`.
    static func cached(_ root: FilePath, spec: String) -> LabQEMU? {
        let binary = root.appending("usr/bin/qemu-system-x86_64").string
        guard access(binary, X_OK) == 0 else { return nil }
        let origin = (try? FileIO.readWholeFile(root.appending("inject-origin"))).flatMap { $0 }.map {
            String(decoding: $0, as: UTF8.self).trimmed()
        }
        // Its own firmware first; the machine's (SeaBIOS, iPXE from their own packages) after it.
        return LabQEMU(
            spec: spec, binary: binary, dataDirectories: [root.appending("usr/share/qemu").string, "/usr/share/qemu"],
            version: "", origin: (origin ?? "qemu-system-x86 from \(spec)") + " (cached in \(root))")
    }

    /// The first line of `binary --version`.
    static func versionLine(_ binary: String) async -> String {
        let output = (try? await ToolRunner.run([binary, "--version"]).output) ?? "unknown"
        return String(output.split(separator: "\n").first ?? "unknown")
    }
}
