import ArgumentParser
import InjectHost
import InjectLab

/// Options every subcommand shares: where plugins and configuration come from, the target, output.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("plugin-path"),
        help: ArgumentHelp(
            "A plugin directory or .so file, searched first (repeatable; ':' separates several).", valueName: "path"))
    var pluginPaths: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("A JSON config file to use instead of the per-user and system-wide ones.", valueName: "file")
    )
    var configPath: String?

    @Option(
        help: ArgumentHelp(
            "The root under which attribute files (sysfs, debugfs, procfs) are resolved.", valueName: "dir"))
    var root: String = "/"

    @Option(help: ArgumentHelp("A QEMU QMP unix socket: the target is (or includes) that guest.", valueName: "socket"))
    var qmp: String?

    @Option(
        name: .customLong("guest-memory"),
        help: ArgumentHelp("The guest RAM file (memory-backend-file) for firmware-memory steps.", valueName: "file"))
    var guestMemory: String?

    @Option(
        help: ArgumentHelp(
            "A running lab (`inject lab up`) as the target: its guest's files, QMP socket and firmware memory.",
            valueName: "name"))
    var lab: String?

    @Option(
        help: ArgumentHelp(
            "A BMC over the network (RMCP+) for IPMI steps; the password is read from IPMI_PASSWORD.",
            valueName: "host[:port]"))
    var bmc: String?

    @Option(name: .customLong("bmc-user"), help: ArgumentHelp("The BMC user for --bmc.", valueName: "user"))
    var bmcUser: String = "admin"

    @Option(
        help: ArgumentHelp(
            "The journal file (default /var/log/inject/journal.jsonl for root, else ~/.local/state/inject/journal.jsonl; INJECT_JOURNAL=FILE or off).",
            valueName: "file"))
    var journal: String?

    @Flag(name: .customLong("no-journal"), help: "Do not journal this run.")
    var noJournal = false

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    @Flag(name: .shortAndLong, help: "Show plugin log lines down to info (-v) or debug (-vv).")
    var verbose: Int

    /// Builds the host session these options describe.
    /// The session; `wanting` names the one backend the command uses, if it uses one.
    func session(rescan: Bool = false, wanting: String? = nil) throws -> InjectSession {
        HostLog.pluginThreshold = max(0, 2 - Int32(verbose))
        var options = InjectSession.Options(environment: currentEnvironment())
        options.wantedBackend = wanting
        // Plugins are scanned by this executable in processes of their own, and cached.
        options.scannerExecutable = PluginSearchPath.executablePath
        options.rescan = rescan
        options.pluginPaths = pluginPaths
        options.configPath = configPath
        options.target = InjectionTarget(
            root: FilePath(root), qmpSocket: qmp, guestMemory: guestMemory.map { FilePath($0) })
        if let lab {
            var target = try report { () throws(InjectError) in
                do throws(LabError) { return try Lab(name: lab, environment: options.environment).target() } catch {
                    throw .target(error.asTargetError(lab))
                }
            }
            target.qmpSocket = qmp ?? target.qmpSocket
            target.guestMemory = guestMemory.map { FilePath($0) } ?? target.guestMemory
            options.target = target
        }
        if let bmc {
            options.target.bmc = try report { () throws(InjectError) in
                do throws(TargetError) { return try BMCEndpoint(parsing: bmc, user: bmcUser) } catch {
                    throw .target(error)
                }
            }
        }
        let session = try report { () throws(InjectError) in try InjectSession(options) }
        session.registry.searchPath.warnings.forEach(HostLog.warning)
        return session
    }

    /// The journal's path, or `nil` when journaling is off. `--no-journal` wins, then an explicit
    /// `--journal FILE`, then `INJECT_JOURNAL` (a file, or `off`), then the default.
    func journalPath(_ session: InjectSession) -> String? {
        if noJournal { return nil }
        if let journal { return journal }
        let environment = session.options.environment["INJECT_JOURNAL"]
        if environment == "off" { return nil }
        return environment.flatMap { $0.isEmpty ? nil : $0 }
            ?? Journal.defaultPath(environment: session.options.environment)
    }

    /// The journal to write, or `nil` when journaling is off.
    func journal(_ session: InjectSession) throws(InjectError) -> Journal? {
        guard let path = journalPath(session) else { return nil }
        do throws(JournalError) { return try Journal(path: path) } catch { throw .journal(error) }
    }

    mutating func validate() throws {
        guard !root.isEmpty else {
            throw ValidationError(
                "--root is empty (an unset variable?): give the directory attribute files live under, or leave --root out for /"
            )
        }
        if let journal, journal.isEmpty {
            throw ValidationError("--journal is empty (an unset variable?): give a file, or --no-journal")
        }
    }

    /// The request `words` (`name=value`) make for `backend`; a malformed word exits 64.
    func request(_ backend: String, _ words: [String]) throws -> InjectionRequest {
        try report { () throws(InjectError) in
            do throws(ConfigurationError) { return try InjectionRequest(backend, words: words) } catch {
                throw .configuration(error)
            }
        }
    }

    /// Runs `body`, turning an ``InjectError`` into its message and exit code.
    func report<R>(_ body: () throws(InjectError) -> R) throws -> R {
        do {
            return try body()
        } catch {
            throw fail(error)
        }
    }

    /// Prints `error` (as JSON too with `--json`) and returns the exit code to throw.
    func fail(_ error: InjectError) -> ExitCode {
        if json { Output.json(ErrorReport(error: error.description, exitCode: ExitCodes.of(error))) }
        Output.error(error.description)
        return ExitCode(ExitCodes.of(error))
    }
}

struct ErrorReport: Encodable {
    var error: String
    var exitCode: Int32
}

/// The process environment as a dictionary.
func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    result.reserveCapacity(64)
    var pointer = environ
    while let entry = pointer.pointee {
        pointer += 1
        // Split at the first "=" on the C string itself: no intermediate String is made.
        guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
        let nameLength = entry.distance(to: equals)
        let name = entry.withMemoryRebound(to: UInt8.self, capacity: nameLength) {
            String(decoding: UnsafeBufferPointer(start: $0, count: nameLength), as: UTF8.self)
        }
        result[name] = String(cString: equals + 1)
    }
    return result
}
