import InjectHost

/// The inject the guest runs as its agent: the project's Debian package (Scripts/package.sh), not
/// the host's binary. The guest gets the package's files as a read-only layer over its Debian root
/// (``GuestRoot``) and dpkg's record of it, so that `dpkg -s inject` in the guest says it is
/// installed, and nothing else of the host.
///
/// Where the package comes from, first found first:
/// 1. the file given with `lab up --package` (or `INJECT_LAB_PACKAGE`);
/// 2. the installed package, when the running inject is it (`/usr/bin/inject`, known to dpkg);
/// 3. in a source checkout, the newest `dist/inject_*_amd64.deb` that package.sh made, when it is
///    not older than the running executable.
struct GuestPackage: Sendable {
    /// Where its files come from.
    enum Source: Sendable, Equatable {
        /// A .deb file.
        case file(FilePath)
        /// The package installed on this machine.
        case installed
    }

    let source: Source
    /// Its control stanza (`Package: inject`, `Version:`, `Depends:` ...).
    let control: String
    /// The paths it installs, as dpkg lists them (`/.`, `/usr`, `/usr/bin/inject` ...).
    let files: [String]

    /// The package's name, as dpkg knows it.
    static let name = "inject"
    /// Where the agent is, in the guest.
    static let executable = "/usr/bin/inject"

    /// The field `name` of the control stanza.
    func field(_ name: String) -> String? {
        control.split(separator: "\n").first { $0.hasPrefix(name + ": ") }.map {
            String($0.dropFirst(name.count + 2)).trimmed()
        }
    }

    /// The package's version (`0.9.0-1`).
    var version: String { field("Version") ?? "unknown" }

    /// The packages it depends on, by name (the first of each alternative, without versions).
    var dependencies: [String] {
        (field("Depends") ?? "").split(separator: ",").compactMap {
            $0.split(separator: "|").first?.split(separator: " ").first.map(String.init)
        }
    }

    /// dpkg's status entry for it, installed.
    var statusEntry: String {
        let lines = control.split(separator: "\n").filter { !$0.hasPrefix("Status:") }
        return ([lines.first ?? "Package: inject", "Status: install ok installed"] + lines.dropFirst())
            .joined(separator: "\n") + "\n\n"
    }

    /// What it is, for messages and `lab status`.
    var description: String {
        switch source {
        case .file(let path): "inject \(version) from \(path)"
        case .installed: "inject \(version), installed here"
        }
    }

    /// Finds the package for the guest.
    ///
    /// - Parameters:
    ///   - given: the file named by ``Setting/guestPackage`` or `INJECT_LAB_PACKAGE`, if any.
    ///   - executable: the running inject, whose package (or checkout) is looked for otherwise.
    static func locate(given: String?, executable: String) async throws(LabError) -> GuestPackage {
        if let given, !given.isEmpty { return try await fromFile(FilePath(given)) }
        if let installed = await installed(executable: executable) { return installed }
        if let built = try checkoutPackage(executable: executable) { return try await fromFile(built) }
        throw .missingPrerequisite(
            what:
                "the lab's guest runs inject from its Debian package, and none was found: \(executable) is neither the installed package nor beside a dist/ that package.sh filled",
            install:
                "Scripts/package.sh (then inject lab up picks dist/inject_*_amd64.deb), or give one: \(Setting.guestPackage.named("FILE.deb"))"
        )
    }

    /// The package in `deb`, read with dpkg-deb.
    static func fromFile(_ deb: FilePath) async throws(LabError) -> GuestPackage {
        guard deb.extension == "deb", access(deb.string, F_OK) == 0 else {
            throw .io(
                path: deb.string,
                reason: "no such Debian package; give the .deb that Scripts/package.sh made (dist/inject_*_amd64.deb)")
        }
        let control = try await tool(["dpkg-deb", "--field", deb.string], about: deb)
        let listing = try await tool(
            ["/bin/bash", "-c", "set -o pipefail; dpkg-deb --fsys-tarfile \"$1\" | tar -t", "bash", deb.string],
            about: deb)
        let package = GuestPackage(
            source: .file(deb), control: control,
            files: listing.split(separator: "\n").map { line in
                let path = line.hasPrefix("./") ? String(line.dropFirst()) : "/" + line
                return path == "/" ? "/." : (path.hasSuffix("/") ? String(path.dropLast()) : path)
            })
        guard package.field("Package") == name else {
            throw .io(path: deb.string, reason: "is the package '\(package.field("Package") ?? "?")', not \(name)")
        }
        return package
    }

    /// The installed package, when `executable` is its `/usr/bin/inject`.
    static func installed(executable: String) async -> GuestPackage? {
        let list = FilePath("/var/lib/dpkg/info/\(name).list")
        guard FileIO.realPath(executable) == Self.executable,
            let bytes = try? FileIO.readWholeFile(list),
            let control = try? await ToolRunner.run(["dpkg-query", "--status", name]).output
        else { return nil }
        return GuestPackage(
            source: .installed, control: control,
            files: String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    /// In a source checkout (a directory above `executable` with Package.swift), the newest
    /// `dist/inject_*_amd64.deb`; refused when it is older than the executable (it would run older
    /// code in the guest than on the host).
    static func checkoutPackage(executable: String) throws(LabError) -> FilePath? {
        var directory = FilePath(executable).removingLastComponent()
        while !directory.isEmpty, directory.string != "/" {
            if access(directory.appending("Package.swift").string, F_OK) == 0 { break }
            directory = directory.removingLastComponent()
        }
        let dist = directory.appending("dist")
        guard access(directory.appending("Package.swift").string, F_OK) == 0,
            let names = try? FileIO.listDirectory(dist)
        else { return nil }
        let debs = names.map(\.name).filter { $0.hasPrefix("\(name)_") && $0.hasSuffix("_amd64.deb") }.map {
            dist.appending($0)
        }
        guard let newest = debs.max(by: { LabFileSystem.modified($0) < LabFileSystem.modified($1) }) else { return nil }
        guard LabFileSystem.modified(newest) >= LabFileSystem.modified(FilePath(executable)) else {
            throw .missingPrerequisite(
                what: "\(newest) is older than \(executable): the guest would run older code than the host",
                install: "Scripts/package.sh --build-dir \(FilePath(executable).removingLastComponent())")
        }
        return newest
    }

    /// How many package layers ``writeLayer(to:cache:)`` keeps.
    static let keptLayers = 4

    /// Writes the layer at `image` from its copy in `cache`, made there first when missing. The copy
    /// is named by the package's control text, file list and source (the .deb's size and time, or
    /// the installed list's and executable's), and the least recently used beyond ``keptLayers`` go.
    func writeLayer(to image: FilePath, cache: FilePath) async throws(LabError) {
        let sources: [FilePath] =
            switch source {
            case .file(let deb): [deb]
            case .installed: [FilePath("/var/lib/dpkg/info/\(Self.name).list"), FilePath(Self.executable)]
            }
        let key = LabCacheKey.digest(([control] + files + sources.map(LabFileSystem.identity)).joined(separator: "\n"))
        let cached = cache.appending("\(key).sqfs")
        if access(cached.string, R_OK) != 0 {
            try LabFileSystem.makeDirectories(cache)
            let partial = cache.appending(".\(key).\(getpid()).sqfs")
            try await buildLayer(partial)
            try LabFileSystem.rename(partial, to: cached)
            LabFileSystem.keepMostRecentlyUsed(Self.keptLayers, in: cache)
        }
        _ = utimensat(AT_FDCWD, cached.string, nil, 0)
        try LabFileSystem.copyNonZeroPages(from: cached, to: image)
    }

    /// The package's files as a squashfs image at `image`, for the guest to mount over its root.
    private func buildLayer(_ image: FilePath) async throws(LabError) {
        let script: String
        let arguments: [String]
        switch source {
        case .file(let deb):
            script =
                "set -o pipefail; dpkg-deb --fsys-tarfile \"$1\" | tar2sqfs --quiet --force --compressor lz4 \"$2\""
            arguments = [deb.string, image.string]
        case .installed:
            // Exactly the files dpkg lists for the package, read from this machine.
            script =
                "set -o pipefail; tar -C / --no-recursion -c -f - -T \"$1\" | tar2sqfs --quiet --force --compressor lz4 \"$2\""
            arguments = ["/var/lib/dpkg/info/\(Self.name).list", image.string]
        }
        _ = try await Self.tool(["/bin/bash", "-c", script, "bash"] + arguments, about: image)
    }

    private static func tool(_ argv: [String], about path: FilePath) async throws(LabError) -> String {
        do {
            return try await ToolRunner.run(argv).output
        } catch {
            throw .io(path: path.string, reason: "\(error)")
        }
    }
}
