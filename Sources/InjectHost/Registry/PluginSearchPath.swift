/// Where plugins are looked for, in order; an earlier entry wins a name clash.
///
/// 1. `--plugin-path` (repeatable; each may be a directory or a `.so` file; `:` separates several)
/// 2. `INJECT_PLUGIN_PATH`
/// 3. `plugin_path` in the configuration files
/// 4. the directory of the `inject` executable (so a plain `swift build` works), unless `inject` is
///    installed (its prefix has `lib/inject/plugins`): `/usr/bin` holds other programs' files
///    (Debian's `/usr/bin/ld.so`)
/// 5. `lib/inject/plugins` of the executable's install prefix (`<prefix>/bin/inject`)
/// 6. `/usr/local/lib/inject/plugins`
/// 7. `/usr/lib/inject/plugins`
///
/// When the process runs with privileges it did not start with (set-uid, file capabilities),
/// the first two are ignored with a warning, as the Vulkan loader does with its overrides.
public struct PluginSearchPath: Sendable, Equatable {
    /// One place to look.
    public struct Entry: Sendable, Equatable, Encodable {
        /// A directory or a single plugin file.
        public var path: String
        /// Which rule added it, such as `--plugin-path` or `beside executable`.
        public var origin: String
    }

    /// The places, in precedence order.
    public var entries: [Entry]
    /// Warnings to show (ignored overrides).
    public var warnings: [String]

    /// The system-wide directories, last in the order.
    public static let systemDirectories = ["/usr/local/lib/inject/plugins", "/usr/lib/inject/plugins"]

    /// Builds the search path.
    ///
    /// - Parameters:
    ///   - commandLine: `--plugin-path` values.
    ///   - environment: `INJECT_PLUGIN_PATH`, if set.
    ///   - configured: `plugin_path` entries from the configuration files.
    ///   - executableDirectory: where `inject` lives; `nil` to skip.
    ///   - elevated: whether the process gained privileges at exec (`AT_SECURE`).
    public init(
        commandLine: [String], environment: String?, configured: [String],
        executableDirectory: String?, elevated: Bool = PluginSearchPath.processIsElevated
    ) {
        var entries: [Entry] = []
        var warnings: [String] = []
        func add(_ list: [String], _ origin: String) {
            for item in list.flatMap({ $0.split(separator: ":").map(String.init) }) where !item.isEmpty {
                entries.append(Entry(path: item, origin: origin))
            }
        }
        if elevated {
            if !commandLine.isEmpty {
                warnings.append(
                    "\(Setting.pluginPath) ignored: the process runs with elevated privileges it did not start with")
            }
            if environment != nil {
                warnings.append(
                    "INJECT_PLUGIN_PATH ignored: the process runs with elevated privileges it did not start with")
            }
        } else {
            add(commandLine, Setting.pluginPath.description)
            add(environment.map { [$0] } ?? [], "INJECT_PLUGIN_PATH")
        }
        add(configured, "config file")
        if let executableDirectory {
            let prefix = Self.prefixPluginDirectory(of: executableDirectory)
            if access(prefix, F_OK) != 0 { add([executableDirectory], "beside executable") }
            add([prefix], "install prefix")
        }
        add(Self.systemDirectories.filter { path in !entries.contains { $0.path == path } }, "system")
        self.entries = entries
        self.warnings = warnings
    }

    /// `<prefix>/lib/inject/plugins` for an executable in `<prefix>/bin`.
    static func prefixPluginDirectory(of executableDirectory: String) -> String {
        let parent = executableDirectory.lastIndex(of: "/").map { String(executableDirectory[..<$0]) } ?? "."
        return parent + "/lib/inject/plugins"
    }

    /// Whether the process runs with privileges it did not start with (set-uid or set-gid).
    public static var processIsElevated: Bool { getuid() != geteuid() || getgid() != getegid() }

    /// The running executable, from /proc/self/exe.
    public static var executablePath: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory holding the running executable.
    public static var executableDirectory: String? {
        guard let path = executablePath, let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
