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

    /// What the kernel itself does with errors before a consumer sees them (its correctable-error
    /// collector), for `inject probe`.
    public func kernelPolicies() -> [Check] {
        guard let files = try? session.targetFiles() else { return [] }
        defer { session.options.target.guest?.release() }
        return KernelPolicyChecks.checks(files)
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
        // Only the events this kernel has: the instance mirrors the kernel's event directories.
        let eventDirectory = { (event: String) in
            instance + "/events/" + event.split(separator: ":").joined(separator: "/")
        }
        let events = Array(Set(traceEvents)).sorted().filter { files.exists(eventDirectory($0)) }
        let unrecorded = events.filter { files.text(eventDirectory($0) + "/enable")?.trimmed() != "1" }
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
        return [privilegeCheck()] + filesystemChecks(files) + KernelPolicyChecks.checks(files) + moduleChecks(files)
            + Self.consumerChecks(files, traceEvents: session.registry.backends.flatMap(\.info.traceEvents))
            + monitorChecks() + pluginChecks()
    }

    /// Whether the process can write the injection files.
    private func privilegeCheck() -> Check {
        let uid = geteuid()
        return uid == 0
            ? Check(status: .ok, name: "privileges", detail: "running as root")
            : Check(
                status: .warn, name: "privileges",
                detail: "running as uid \(uid): injection files in debugfs and sysfs need root; use sudo")
    }

    /// debugfs, tracefs and kernel lockdown.
    private func filesystemChecks(_ files: any TargetFiles) -> [Check] {
        let mounts = files.text("proc/mounts") ?? ""
        func mounted(_ type: String) -> Bool {
            mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(2).first == Substring(type) }
        }
        var checks = [
            mounted("debugfs") || files.exists("sys/kernel/debug/tracing")
                ? Check(status: .ok, name: "debugfs", detail: "mounted")
                : Check(status: .fail, name: "debugfs", detail: "not mounted: mount -t debugfs none /sys/kernel/debug"),
            mounted("tracefs") || files.exists("sys/kernel/tracing/trace")
                ? Check(status: .ok, name: "tracefs", detail: "mounted")
                : Check(
                    status: .warn, name: "tracefs",
                    detail: "not mounted (verification needs it): mount -t tracefs nodev /sys/kernel/tracing"),
        ]
        guard let lockdown = files.text("sys/kernel/security/lockdown") else {
            return checks + [Check(status: .ok, name: "lockdown", detail: "no lockdown LSM")]
        }
        let mode = lockdown.split(separator: " ").first { $0.hasPrefix("[") }?.trimmed("[]") ?? lockdown
        checks.append(
            mode == "none"
                ? Check(status: .ok, name: "lockdown", detail: "none")
                : Check(
                    status: .fail, name: "lockdown",
                    detail:
                        "\(mode): the kernel refuses debugfs injection; boot without lockdown (Secure Boot off, or lockdown=none where allowed)"
                ))
        return checks
    }

    /// The modules each backend declares (ABI 1.2), so a vendor's backend gets the same check.
    private func moduleChecks(_ files: any TargetFiles) -> [Check] {
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
        return declared.sorted(by: { $0.key < $1.key }).map { module, backends in
            let present = modules.contains(module) || files.exists("sys/module/\(module)")
            let users = "(\(backends.joined(separator: ", ")))"
            return present
                ? Check(status: .ok, name: "module \(module)", detail: "loaded \(users)")
                : Check(status: .warn, name: "module \(module)", detail: "not loaded: modprobe \(module) \(users)")
        }
    }

    /// The target's QEMU monitor, when it has one.
    private func monitorChecks() -> [Check] {
        guard let socket = session.options.target.qmpSocket else { return [] }
        do {
            let client = try QMPClient(socketPath: socket, timeoutSeconds: 3)
            return [Check(status: .ok, name: "qmp", detail: "\(socket): QEMU \(client.qemuVersion)")]
        } catch {
            return [Check(status: .fail, name: "qmp", detail: error.description)]
        }
    }

    /// Each plugin directory with the backends loaded from it, and every refused plugin.
    private func pluginChecks() -> [Check] {
        let registry = session.registry
        var checks: [Check] = []
        for entry in registry.searchPath.entries {
            var info = stat()
            guard stat(entry.path, &info) == 0 else {
                checks.append(Check(status: .ok, name: "plugins \(entry.path)", detail: "absent (\(entry.origin))"))
                continue
            }
            let loaded = registry.backends.filter { $0.info.path.hasPrefix(FileIO.realPath(entry.path) ?? entry.path) }
                .map(\.info.name)
            checks.append(
                Check(
                    status: .ok, name: "plugins \(entry.path)",
                    detail: "\(entry.origin): \(loaded.isEmpty ? "no backends" : loaded.joined(separator: ", "))"))
        }
        return checks + registry.refusals.map { Check(status: .warn, name: "refused plugin", detail: $0.description) }
    }
}
