import ArgumentParser
import InjectHost

/// `inject plugins pin|verify|rescan`: SHA-256 pinning of the plugin files that load, and the
/// registry cache.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "Pin and verify the SHA-256 digests of plugin files; rescan them.",
        discussion: """
            Pins live in the configuration file under "plugin_digests" (path: digest). A pinned file whose \
            digest changed is refused at load time; with "require_pinned": true, so is every file without a pin. \
            A manifest plugin pins both its manifest and its library.
            """,
        subcommands: [Pin.self, Verify.self, Rescan.self])

    struct Rescan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget the plugin registry cache and scan every plugin again.",
            discussion: """
                Plugin descriptors are read by a scanner process (this executable, re-run) and cached per file \
                (device, inode, size, modification and change time), so a changed or new file is rescanned by \
                itself; this command rescans everything. Cache: INJECT_REGISTRY (a file, or off), else \
                /var/cache/inject/plugin-registry.json for root and ~/.cache/inject/plugin-registry.json for others.
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try global.session(rescan: true)
            let registry = session.registry
            if global.json {
                Output.json([
                    "backends": registry.backends.map(\.info.name), "refused": registry.refusals.map(\.description),
                ])
            } else {
                Output.line("scanned: \(registry.backends.count) backend(s), \(registry.refusals.count) refused")
                registry.refusals.forEach { Output.line("  \($0)") }
            }
        }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute the digests of every plugin that loads now, and print or write them.")

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Write them into the configuration file (--config FILE, else the per-user one).")
        var write = false

        func run() throws {
            let session = try global.session()
            var digests = session.pins.digests
            for backend in session.registry.backends {
                for file in backend.files {
                    digests[file] = try global.report { () throws(InjectError) in
                        do throws(TargetError) { return try PluginPins.sha256(of: file) } catch { throw .target(error) }
                    }
                }
            }
            if write {
                let path = global.configPath ?? InjectSession.defaultConfigPaths(session.options.environment)[0]
                try global.report { () throws(InjectError) in
                    do throws(ConfigurationError) {
                        try ConfigurationEditor.set("plugin_digests", to: digests, in: path)
                    } catch { throw .configuration(error) }
                }
                Output.line("pinned \(digests.count) file(s) in \(path)")
            } else if global.json {
                Output.json(["plugin_digests": digests])
            } else {
                for (file, digest) in digests.sorted(by: { $0.key < $1.key }) { Output.line("\(digest)  \(file)") }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every pinned file and every loaded plugin against the pins; exit 1 on any mismatch.")

        @OptionGroup var global: GlobalOptions

        struct Row: Encodable {
            var file: String
            var state: String
            var detail: String
        }

        func run() throws {
            let session = try global.session()
            let pins = session.pins
            var rows: [Row] = []
            var files = Set(pins.digests.keys)
            for backend in session.registry.backends { files.formUnion(backend.files) }
            for refusal in session.registry.refusals { files.insert(refusal.path) }
            for file in files.sorted() {
                let found = try? PluginPins.sha256(of: file)
                switch (pins.digests[file], found) {
                case (let pinned?, let found?) where pinned.lowercased() == found:
                    rows.append(Row(file: file, state: "OK", detail: found))
                case (let pinned?, let found?):
                    rows.append(Row(file: file, state: "MISMATCH", detail: "pinned \(pinned), found \(found)"))
                case (_?, nil): rows.append(Row(file: file, state: "MISSING", detail: "pinned but cannot be read"))
                case (nil, _):
                    rows.append(
                        Row(
                            file: file, state: "UNPINNED",
                            detail: pins.requirePinned ? "refused (require_pinned)" : "loads without a pin"))
                }
            }
            if global.json {
                Output.json(rows)
            } else {
                Output.line(
                    Output.table(
                        [["STATE", "FILE", "DETAIL"]] + rows.map { [$0.state, $0.file, $0.detail] }, indent: ""))
            }
            if rows.contains(where: { $0.state == "MISMATCH" || $0.state == "MISSING" }) {
                throw ExitCode(ExitCodes.execution)
            }
        }
    }
}
