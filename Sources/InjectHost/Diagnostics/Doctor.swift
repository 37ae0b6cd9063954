/// The checks behind `inject doctor`: privileges, mounts, lockdown, modules, the QEMU monitor and
/// the plugin directories, each with what to do about it.
public struct Doctor {
    /// One finding.
    public struct Check: Sendable, Equatable, Encodable {
        /// How it went.
        public enum Status: String, Sendable, Encodable { case ok, warn, fail }
        public var status: Status
        public var name: String
        public var detail: String
    }

    let session: InjectSession

    /// Creates the checks for `session`'s target and search path.
    public init(session: InjectSession) { self.session = session }

    /// rasdaemon's pitfalls, read from its trace instance: a `buffer_percent` above 0 (rasdaemon
    /// is then woken only when its buffer is that full, and records nothing in between), and the
    /// backends' events it does not record.
    /// The consumer checks alone, for `inject probe` (empty where rasdaemon has no trace instance).
    public func consumer() -> [Check] {
        guard let files = try? session.targetFiles() else { return [] }
        defer { session.options.target.guest?.release() }
        return Self.consumerChecks(files, traceEvents: session.registry.backends.flatMap(\.info.traceEvents))
    }

    static func consumerChecks(_ files: any TargetFiles, traceEvents: [String]) -> [Check] {
        let instance = RasdaemonConsumer.instancePath
        guard files.exists(instance) else { return [] }
        var checks: [Check] = []
        if let percent = files.text(instance + "/buffer_percent").flatMap({ Int($0.trimmed()) }) {
            checks.append(
                percent == 0
                    ? Check(
                        status: .ok, name: "rasdaemon buffer_percent",
                        detail: "0: rasdaemon reads each event as it arrives")
                    : Check(
                        status: .warn, name: "rasdaemon buffer_percent",
                        detail:
                            "\(percent): rasdaemon is woken only when its trace buffer is \(percent)% full and records nothing before; "
                            + "stop rasdaemon, echo 0 > /\(instance)/buffer_percent, start it again (in the lab: inject lab rasdaemon stop; inject lab rasdaemon start)"
                    ))
        }
        let events = Array(Set(traceEvents)).sorted()
        let unrecorded = events.filter { event in
            files.text(instance + "/events/" + event.split(separator: ":").joined(separator: "/") + "/enable")?
                .trimmed() != "1"
        }
        let recorded = events.filter { !unrecorded.contains($0) }
        checks.append(
            unrecorded.isEmpty
                ? Check(status: .ok, name: "rasdaemon events", detail: "records \(recorded.joined(separator: ", "))")
                : Check(
                    status: .warn, name: "rasdaemon events",
                    detail:
                        "does not record \(unrecorded.joined(separator: ", ")) (records \(recorded.isEmpty ? "none of the backends' events" : recorded.joined(separator: ", "))): those events reach the kernel's log and tracepoints but not rasdaemon's database"
                ))
        return checks
    }

    /// Runs every check.
    public func run() -> [Check] {
        let files: any TargetFiles = (try? session.targetFiles()) ?? AttributeFiles(root: session.options.target.root)
        var checks: [Check] = []
        let uid = geteuid()
        checks.append(
            uid == 0
                ? Check(status: .ok, name: "privileges", detail: "running as root")
                : Check(
                    status: .warn, name: "privileges",
                    detail: "running as uid \(uid): injection files in debugfs and sysfs need root; use sudo"))
        let mounts = files.text("proc/mounts") ?? ""
        func mounted(_ type: String) -> Bool {
            mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(2).first == Substring(type) }
        }
        checks.append(
            mounted("debugfs") || files.exists("sys/kernel/debug/tracing")
                ? Check(status: .ok, name: "debugfs", detail: "mounted")
                : Check(status: .fail, name: "debugfs", detail: "not mounted: mount -t debugfs none /sys/kernel/debug"))
        checks.append(
            mounted("tracefs") || files.exists("sys/kernel/tracing/trace")
                ? Check(status: .ok, name: "tracefs", detail: "mounted")
                : Check(
                    status: .warn, name: "tracefs",
                    detail: "not mounted (verification needs it): mount -t tracefs nodev /sys/kernel/tracing"))
        if let lockdown = files.text("sys/kernel/security/lockdown") {
            let mode = lockdown.split(separator: " ").first { $0.hasPrefix("[") }?.trimmed("[]") ?? lockdown
            checks.append(
                mode == "none"
                    ? Check(status: .ok, name: "lockdown", detail: "none")
                    : Check(
                        status: .fail, name: "lockdown",
                        detail:
                            "\(mode): the kernel refuses debugfs injection; boot without lockdown (Secure Boot off, or lockdown=none where allowed)"
                    ))
        } else {
            checks.append(Check(status: .ok, name: "lockdown", detail: "no lockdown LSM"))
        }
        // The modules each backend declares (ABI 1.2), so a vendor's backend gets the same check.
        let modules = Set(
            (files.text("proc/modules") ?? "").split(separator: "\n").compactMap {
                $0.split(separator: " ").first.map(String.init)
            })
        var declared: [String: [String]] = [:]
        for backend in session.registry.backends {
            for module in backend.info.kernelModules {
                declared[module.replacing("-", with: "_"), default: []].append(backend.info.name)
            }
        }
        for (module, backends) in declared.sorted(by: { $0.key < $1.key }) {
            let present = modules.contains(module) || files.exists("sys/module/\(module)")
            let users = "(\(backends.joined(separator: ", ")))"
            checks.append(
                present
                    ? Check(status: .ok, name: "module \(module)", detail: "loaded \(users)")
                    : Check(status: .warn, name: "module \(module)", detail: "not loaded: modprobe \(module) \(users)"))
        }
        checks += Self.consumerChecks(files, traceEvents: session.registry.backends.flatMap(\.info.traceEvents))
        if let socket = session.options.target.qmpSocket {
            do {
                let client = try QMPClient(socketPath: socket, timeoutSeconds: 3)
                checks.append(Check(status: .ok, name: "qmp", detail: "\(socket): QEMU \(client.qemuVersion)"))
            } catch {
                checks.append(Check(status: .fail, name: "qmp", detail: error.description))
            }
        }
        let registry = session.registry
        for entry in registry.searchPath.entries {
            var info = stat()
            guard stat(entry.path, &info) == 0 else {
                checks.append(Check(status: .ok, name: "plugins \(entry.path)", detail: "absent (\(entry.origin))"))
                continue
            }
            let loaded = registry.backends.filter { $0.info.path.hasPrefix(realPath(entry.path) ?? entry.path) }.map(
                \.info.name)
            checks.append(
                Check(
                    status: .ok, name: "plugins \(entry.path)",
                    detail: "\(entry.origin): \(loaded.isEmpty ? "no backends" : loaded.joined(separator: ", "))"))
        }
        for refusal in registry.refusals {
            checks.append(Check(status: .warn, name: "refused plugin", detail: refusal.description))
        }
        return checks
    }
}
