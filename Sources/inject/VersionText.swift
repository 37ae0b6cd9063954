import InjectHost
import InjectPluginABI

/// What `inject --version` prints: the version, the package's version and git commit when
/// installed from a package (its `lib/inject/build-info`, written by Scripts/package.sh), and the
/// plugin ABI this host speaks, e.g. `inject 0.1.0 (package 0.1.0-1, commit 1a2b3c4d5e6f), plugin ABI 1.5`.
enum VersionText {
    static func line(upstream: String) -> String {
        let abi = "plugin ABI \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)"
        guard let directory = PluginSearchPath.executableDirectory,
            let bytes = try? UserFile.read(directory + "/../lib/inject/build-info", limit: 4096)
        else { return "inject \(upstream) (a build tree, not a package), \(abi)" }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = PrintableText.escaped(String(parts[1]), limit: 64) }
        }
        return "inject \(upstream) (package \(fields["version"] ?? "?"), commit \(fields["commit"] ?? "?")), \(abi)"
    }
}
