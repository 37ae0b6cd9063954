import InjectHost

/// Where one lab keeps its files while it runs, and where all labs cache their assets.
///
/// Running state lives in one directory per lab (`/run/inject/lab/NAME` for root, else under
/// `$XDG_RUNTIME_DIR` or `/tmp/inject-lab-UID`) and the guest RAM in `/dev/shm`; `lab down`
/// removes both. Kernel assets are cached in `/var/cache/inject/lab` (root) or
/// `$XDG_CACHE_HOME/inject/lab` (`~/.cache/inject/lab`).
public struct LabPaths: Sendable, Equatable {
    /// The lab's name.
    public let name: String
    /// The lab's private directory.
    public let stateDirectory: FilePath
    /// The guest RAM (a shared memory-backend-file): guest-physical address P is offset P.
    public let guestMemory: FilePath

    /// The QMP socket.
    public var qmpSocket: FilePath { stateDirectory.appending("qmp.sock") }
    /// The guest agent's socket (a virtio-serial port).
    public var agentSocket: FilePath { stateDirectory.appending("agent.sock") }
    /// Held while a process talks to the agent, so that concurrent users take turns.
    public var agentLock: FilePath { stateDirectory.appending("agent.lock") }
    /// The guest's serial console.
    public var consoleLog: FilePath { stateDirectory.appending("console.log") }
    /// QEMU's pid.
    public var pidFile: FilePath { stateDirectory.appending("qemu.pid") }
    /// The HEST table given to QEMU.
    public var hestTable: FilePath { stateDirectory.appending("hest.aml") }
    /// The EINJ table given to QEMU.
    public var einjTable: FilePath { stateDirectory.appending("einj.aml") }
    /// The EINJ firmware emulator's pid, log and counts.
    public var firmwarePid: FilePath { stateDirectory.appending("firmware.pid") }
    public var firmwareLog: FilePath { stateDirectory.appending("firmware.log") }
    public var firmwareCounts: FilePath { stateDirectory.appending("einj.json") }
    /// The initramfs the host wrote.
    public var initramfs: FilePath { stateDirectory.appending("initramfs.cpio") }
    /// The inject package's files as the guest's read-only layer (``GuestPackage``).
    public var packageLayer: FilePath { stateDirectory.appending("inject-package.sqfs") }
    /// QEMU's command line, NUL-separated, so that a restart boots the same machine.
    public var qemuArguments: FilePath { stateDirectory.appending("qemu.argv") }
    /// The console of the run that ended in panic `number` (from 1), kept across the restart.
    public func panicConsole(_ number: Int) -> FilePath { stateDirectory.appending("panic-\(number).log") }
    /// The platform's persistent error-record store (``LabERST``): what the guest saved there
    /// survives its restarts, as a server's flash does.
    public var errorRecordStore: FilePath { stateDirectory.appending("erst.nvram") }
    /// What `lab up` recorded about the lab.
    public var record: FilePath { stateDirectory.appending("lab.json") }

    /// The default lab name.
    public static let defaultName = "lab"

    /// Paths for the lab `name` in `environment`.
    ///
    /// - Throws: ``LabError/invalidName(_:)``.
    public init(name: String, environment: [String: String]) throws(LabError) {
        try Self.validate(name)
        self.name = name
        stateDirectory = Self.runtimeBase(environment).appending(name)
        guestMemory = FilePath("/dev/shm/inject-lab-\(getuid())-\(name).ram")
        try checkPrivate()
    }

    /// Refuses the runtime base or this lab's directory when either exists but is not a
    /// directory of this user's alone (a symlink, another owner, writable by group or others):
    /// found, never trusted. `lab up` checks again after making them.
    public func checkPrivate() throws(LabError) {
        for directory in [stateDirectory.removingLastComponent(), stateDirectory] {
            if let problem = Self.privacyProblem(directory) {
                throw .untrustedDirectory(path: directory.string, reason: problem)
            }
        }
    }

    /// Why `directory` is not private to this user, or `nil` (also when it does not exist).
    public static func privacyProblem(_ directory: FilePath) -> String? {
        var info = stat()
        guard lstat(directory.string, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT != S_IFDIR { return "it is not a directory (a symbolic link or a file)" }
        if info.st_uid != geteuid() { return "it belongs to uid \(info.st_uid), not to you (uid \(geteuid()))" }
        if info.st_mode & 0o022 != 0 {
            return "group or others can write it (mode \(String(info.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    /// Paths that belong to no lab, for what is said of a machine apart from its files (a
    /// device's ``LabDevice/shape``).
    static let shapeOnly = LabPaths(placeholder: "lab")

    private init(placeholder name: String) {
        self.name = name
        stateDirectory = FilePath("/lab")
        guestMemory = FilePath("/lab.ram")
    }

    /// Checks a lab name.
    public static func validate(_ name: String) throws(LabError) {
        let allowed = name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.count <= 24, allowed, name.first != "-" else { throw .invalidName(name) }
    }

    /// The directory holding every running lab's state directory.
    public static func runtimeBase(_ environment: [String: String]) -> FilePath {
        if geteuid() == 0 { return "/run/inject/lab" }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return FilePath(runtime).appending("inject-lab")
        }
        return FilePath("/tmp/inject-lab-\(getuid())")
    }

    /// The cache for kernels.
    public static func cacheBase(_ environment: [String: String]) -> FilePath {
        if geteuid() == 0 { return "/var/cache/inject/lab" }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return FilePath(cache).appending("inject/lab")
        }
        return FilePath(environment["HOME"] ?? "/tmp").appending(".cache/inject/lab")
    }

    /// The names of labs that have a state directory.
    public static func existing(_ environment: [String: String]) -> [String] {
        let entries = (try? FileIO.listDirectory(runtimeBase(environment))) ?? []
        return entries.filter(\.isDirectory).map(\.name).filter { (try? validate($0)) != nil }.sorted()
    }
}
