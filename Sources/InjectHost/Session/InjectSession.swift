/// The host as one object: configuration files, the plugin registry and the target, built from
/// the command line's options. The CLI is a thin layer over this type.
public final class InjectSession {
    /// Options that shape a session.
    public struct Options: Sendable {
        /// `--plugin-path` values.
        public var pluginPaths: [String] = []
        /// `--config`, when given (it must exist).
        public var configPath: String?
        /// The environment (the process's, or a test's).
        public var environment: [String: String]
        /// The target.
        public var target = InjectionTarget()
        /// The directory of the executable, searched for plugins; `nil` to skip.
        public var executableDirectory: String? = PluginSearchPath.executableDirectory
        /// The executable that scans plugins in a process of its own (``PluginScanner``), with
        /// the registry cache; `nil` loads every plugin into this process at once.
        public var scannerExecutable: String?
        /// Forget the registry cache first (`inject plugins rescan`).
        public var rescan = false
        /// The one backend the command uses, when it names one (`run mce`): a scan stops waiting
        /// for plugins that hang once this one is found (``Registry/Scanning``).
        public var wantedBackend: String?

        /// Creates options with the given environment.
        public init(environment: [String: String]) { self.environment = environment }
    }

    /// The options.
    public let options: Options
    /// Configuration files, highest precedence first.
    public let configFiles: [ConfigurationFile]
    /// All backends and refusals. Built on first use.
    public private(set) lazy var registry = Registry(
        searchPath: PluginSearchPath(
            commandLine: options.pluginPaths, environment: options.environment["INJECT_PLUGIN_PATH"],
            configured: configFiles.flatMap { $0.list(["plugin_path"]) },
            executableDirectory: options.executableDirectory),
        pins: pins, scanning: scanning)

    private var scanning: Registry.Scanning {
        guard let executable = options.scannerExecutable else { return .inProcess }
        let cache = RegistryCache.standard(environment: options.environment)
        if options.rescan { cache.clear() }
        return .scanner(executable: executable, cache: cache, wanted: options.wantedBackend)
    }

    /// Plugin pins from the configuration files (the highest-precedence file's pin wins).
    public var pins: PluginPins {
        var digests: [String: String] = [:]
        for file in configFiles.reversed() { digests.merge(file.pluginDigests) { $1 } }
        return PluginPins(digests: digests, requirePinned: configFiles.contains { $0.requirePinned })
    }

    /// Reads the configuration files.
    ///
    /// - Throws: ``InjectError/configuration(_:)`` when `--config` names a missing file, or a file
    ///   exists but cannot be parsed.
    public init(_ options: Options) throws(InjectError) {
        self.options = options
        if let problem = PluginGuard.configure(environment: options.environment) {
            throw .configuration(.environment(name: "INJECT_PLUGIN_TIME_LIMIT", reason: problem))
        }
        do throws(ConfigurationError) {
            if let path = options.configPath {
                guard let file = try ConfigurationFile.load(path) else {
                    throw .unreadableFile(path: path, reason: "does not exist (given as \(Setting.config))")
                }
                configFiles = [file]
            } else {
                var files: [ConfigurationFile] = []
                for path in Self.defaultConfigPaths(options.environment) {
                    if let file = try ConfigurationFile.load(path) { files.append(file) }
                }
                configFiles = files
            }
        } catch {
            throw .configuration(error)
        }
    }

    /// The per-user file (`$XDG_CONFIG_HOME/inject/config.json` or `~/.config/inject/config.json`),
    /// then the system-wide `/etc/inject/config.json`.
    public static func defaultConfigPaths(_ environment: [String: String]) -> [String] {
        var paths: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            paths.append(xdg + "/inject/config.json")
        } else if let home = environment["HOME"], !home.isEmpty {
            paths.append(home + "/.config/inject/config.json")
        }
        paths.append("/etc/inject/config.json")
        return paths
    }

    /// The sources for one request's parameters: its own values, the environment, the files.
    public func sources(_ assignments: [ParameterAssignment]) throws(ConfigurationError) -> ConfigurationSources {
        try ConfigurationSources(assignments: assignments, environment: options.environment, files: configFiles)
    }

    /// Every parameter of the request's backend with its effective value and source (for `inject info`).
    public func effectiveParameters(_ request: InjectionRequest) throws(InjectError) -> (
        BackendInfo, [ResolvedParameter]
    ) {
        let info = try registry.registered(named: request.backend).info
        let separated: InjectionRequest
        do { separated = try request.separatingOutcome() } catch { throw .configuration(error) }
        return (info, try planner.resolve(info, separated.assignments, requireAll: false))
    }

    /// For `expect=sigbus`, starts a ``Victim`` in the target and gives the request the victim's
    /// page as its address; other requests come back as they are (``Injector/prepare(_:)`` owns
    /// the victim from here).
    func startVictim(for given: InjectionRequest) async throws(InjectError) -> (
        request: InjectionRequest, victim: Victim?
    ) {
        let request: InjectionRequest
        do { request = try given.separatingOutcome() } catch { throw .configuration(error) }
        guard request.outcome == .sigbus else { return (request, nil) }
        let info = try registry.registered(named: request.backend).info
        let parameter = try ExpectedOutcome.victimParameter(info, request.assignments)
        guard options.target.guest != nil || options.target.root == "/" else {
            throw .invalidRequest(
                backend: info.name,
                message: "expect=sigbus starts a process where the kernel is: a \(Setting.root) tree has none")
        }
        let victim: Victim
        do {
            // A guest runs its own inject (the lab's guest, the package); here, the running one.
            victim = try await Victim.start(
                on: options.target,
                executable: options.target.guest != nil
                    ? "inject" : (options.executableDirectory ?? "/usr/bin") + "/inject")
        } catch {
            throw .target(error)
        }
        var prepared = request
        prepared.assignments.append(ParameterAssignment(parameter, .text(hexNumber(victim.physicalAddress))))
        return (prepared, victim)
    }

    /// Validates the request and builds the complete plan; touches nothing.
    public func plan(_ request: InjectionRequest) throws(InjectError) -> InjectionPlan {
        try planner.plan(request)
    }

    /// What the target supports, per backend.
    public func probe(backend name: String) throws(InjectError) -> [CapabilityReport] {
        try registry.backend(named: name).probe(options.target, files: targetFiles())
    }

    /// The target's attribute files, opened once per session (a lab's agent connection is kept).
    public func targetFiles() throws(InjectError) -> any TargetFiles {
        if let openedFiles { return openedFiles }
        do {
            let files = try options.target.files()
            openedFiles = files
            return files
        } catch {
            throw .target(error)
        }
    }

    private var openedFiles: (any TargetFiles)?

    private var planner: Planner {
        get throws(InjectError) {
            Planner(
                registry: registry,
                sources: { [self] assignments throws(ConfigurationError) in try sources(assignments) },
                target: options.target, files: try targetFiles())
        }
    }
}
