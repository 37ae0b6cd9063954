import Synchronization

/// A setting a user gives the host or the lab (where the target is, what to confirm, what to
/// boot), as errors and hints name it. The host's and the lab's errors carry these values, never a
/// front end's words: the front end that takes the settings says how they are spelled, once at
/// start (``bootstrap(_:)``; the command line says `--qmp PATH`), the way swift-log's
/// `LoggingSystem.bootstrap` installs a backend. Without it a setting is named by its own name.
public enum Setting: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The directory attribute files are resolved beneath.
    case root
    /// A QEMU monitor socket.
    case qmpSocket
    /// The guest RAM file of firmware memory.
    case guestMemory
    /// A BMC reached over the network.
    case bmc
    /// A running lab as the target.
    case lab
    /// The journal file, and running without one.
    case journal, noJournal
    /// More plugin files or directories.
    case pluginPath
    /// A configuration file.
    case config
    /// The confirmation destructive requests need.
    case confirmation
    /// A lab's name.
    case labName
    /// A lab's guest kernel, CPUs, memory, EINJ types, QEMU, and skipping ghes_edac's build.
    case kernel, cpus, memory, einjTypes, qemu, noEDAC
    /// The Debian package of inject a lab's guest runs, the suite of its root, and booting without the lab's snapshot.
    case guestPackage, guestSuite, coldBoot
    /// The consumers a lab's guest runs (rasdaemon, node_exporter).
    case labConsumers
    /// Writing the digests of the plugins found into the configuration's pins.
    case pinPlugins

    /// How a front end spells a setting, given with a value (a placeholder such as `PATH`) or not.
    public typealias Naming = @Sendable (Setting, String?) -> String

    private static let naming = Mutex<Naming>({ setting, value in
        value.map { "\(setting.rawValue)=\($0)" } ?? setting.rawValue
    })

    /// Installs the front end's spelling of settings (call once, before anything is reported).
    public static func bootstrap(_ naming: @escaping Naming) { self.naming.withLock { $0 = naming } }

    /// The setting as the front end spells it, with `value` when given (`--kernel bookworm-backports`).
    public func named(_ value: String? = nil) -> String {
        let naming = Self.naming.withLock { $0 }
        return naming(self, value)
    }

    public var description: String { named() }
}
