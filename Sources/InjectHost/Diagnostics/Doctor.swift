#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

    /// Runs every check.
    public func run() -> [Check] {
        let files: any TargetFiles = (try? session.targetFiles()) ?? AttributeFiles(root: session.options.target.root)
        var checks: [Check] = []
        let uid = geteuid()
        checks.append(uid == 0 ? Check(status: .ok, name: "privileges", detail: "running as root")
                      : Check(status: .warn, name: "privileges", detail: "running as uid \(uid): injection files in debugfs and sysfs need root; use sudo"))
        let mounts = files.text("proc/mounts") ?? ""
        func mounted(_ type: String) -> Bool { mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(2).first == Substring(type) } }
        checks.append(mounted("debugfs") || files.exists("sys/kernel/debug/tracing")
                      ? Check(status: .ok, name: "debugfs", detail: "mounted")
                      : Check(status: .fail, name: "debugfs", detail: "not mounted: mount -t debugfs none /sys/kernel/debug"))
        checks.append(mounted("tracefs") || files.exists("sys/kernel/tracing/trace")
                      ? Check(status: .ok, name: "tracefs", detail: "mounted")
                      : Check(status: .warn, name: "tracefs", detail: "not mounted (verification needs it): mount -t tracefs nodev /sys/kernel/tracing"))
        if let lockdown = files.text("sys/kernel/security/lockdown") {
            let mode = lockdown.split(separator: " ").first { $0.hasPrefix("[") }?.trimmed("[]") ?? lockdown
            checks.append(mode == "none" ? Check(status: .ok, name: "lockdown", detail: "none")
                          : Check(status: .fail, name: "lockdown", detail: "\(mode): the kernel refuses debugfs injection; boot without lockdown (Secure Boot off, or lockdown=none where allowed)"))
        } else {
            checks.append(Check(status: .ok, name: "lockdown", detail: "no lockdown LSM"))
        }
        // The modules each backend declares (ABI 1.2), so a vendor's backend gets the same check.
        let modules = Set((files.text("proc/modules") ?? "").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        var declared: [String: [String]] = [:]
        for backend in session.registry.backends {
            for module in backend.info.kernelModules { declared[module.replacing("-", with: "_"), default: []].append(backend.info.name) }
        }
        for (module, backends) in declared.sorted(by: { $0.key < $1.key }) {
            let present = modules.contains(module) || files.exists("sys/module/\(module)")
            let users = "(\(backends.joined(separator: ", ")))"
            checks.append(present ? Check(status: .ok, name: "module \(module)", detail: "loaded \(users)")
                          : Check(status: .warn, name: "module \(module)", detail: "not loaded: modprobe \(module) \(users)"))
        }
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
            let loaded = registry.backends.filter { $0.info.path.hasPrefix(realPath(entry.path) ?? entry.path) }.map(\.info.name)
            checks.append(Check(status: .ok, name: "plugins \(entry.path)", detail: "\(entry.origin): \(loaded.isEmpty ? "no backends" : loaded.joined(separator: ", "))"))
        }
        for refusal in registry.refusals {
            checks.append(Check(status: .warn, name: "refused plugin", detail: refusal.description))
        }
        return checks
    }
}
