import CSystemShims
import FirmwareFormats
import InjectHost

/// A firmware-first RAS machine in software: QEMU under TCG running a Debian kernel with a HEST
/// table of GHES sources, their error status blocks in shared guest RAM, and a Debian server's
/// root of its own (``GuestRoot``) in which the packaged `inject` (``GuestPackage``) runs as the
/// guest agent. No host directory is shared with the guest.
public struct Lab {
    /// How to start a lab.
    public struct Options: Sendable {
        public var name = LabPaths.defaultName
        public var memoryMiB = 512
        public var cpus = 1
        /// Seconds to wait for the guest agent.
        public var bootTimeoutSeconds = 120
        /// Appended to the guest kernel's command line.
        public var extraKernelArguments: [String] = []
        /// Extra QEMU arguments, appended as given (devices to try, tracing).
        public var extraQEMUArguments: [String] = []
        /// The host's `inject` binary, which runs the lab's EINJ firmware emulator and whose
        /// package the guest runs unless ``package`` names one: by default the running one.
        public var agentExecutable = (PluginSearchPath.executableDirectory ?? "/usr/bin") + "/inject"
        /// The inject Debian package the guest runs (`--package`, `INJECT_LAB_PACKAGE`); when `nil`,
        /// ``GuestPackage/locate(given:executable:)`` finds it.
        public var package: String?
        /// The EINJ error types the firmware offers (`available_error_type`); a subset of
        /// ``EINJRegisters/supportedTypes``. By default the platform's ``EINJRegisters/defaultTypes``
        /// and every type of the added devices.
        public var einjTypes: UInt32?
        /// The guest kernel.
        public var kernel = KernelSpec.suite(KernelSpec.defaultSpelling)
        /// Whether to give a kernel without ghes_edac the one built from its source (``GhesEdacBuild``).
        public var buildGhesEdac = true
        /// The QEMU to run (``LabQEMU``): `machine`, or a Debian suite's. By default the machine's,
        /// unless an added device needs another (``LabDevice/neededQEMU``).
        public var qemu: String?
        /// The devices added to ``LabDevices/standard`` (`lab up --with`).
        public var addedDevices: [any LabDevice] = []
        /// Whether the guest's rasdaemon is started (`lab up --with rasdaemon`); part of the ready
        /// state a snapshot keeps.
        public var rasdaemon = false
        /// Whether the guest's prometheus-node-exporter is started (`lab up --with node_exporter`).
        public var nodeExporter = false
        /// The Debian suite of the guest's root, and so its consumers' versions.
        public var guestSuite = GuestSuite.standard
        /// Boots without the configuration's snapshot (`lab up --cold`); the ready state is saved afresh.
        public var cold = false
        public init() {}

        /// Every device of the machine.
        public var devices: [any LabDevice] { LabDevices.standard + addedDevices }
        /// The EINJ types the firmware offers.
        public var offeredEINJTypes: UInt32 {
            einjTypes ?? addedDevices.reduce(EINJRegisters.defaultTypes) { $0 | $1.einjTypes }
        }
        /// The QEMU spelling to run.
        public var qemuSpelling: String {
            qemu ?? addedDevices.lazy.compactMap(\.neededQEMU).first ?? LabQEMU.machineSpelling
        }
        /// The machine's shape: QEMU, CPUs, memory and devices (what identifies its DSDT).
        func shape(qemuVersion: String) -> String {
            "\(qemuVersion) \(QEMUCommand.machine) cpus=\(cpus) memory=\(memoryMiB) disks=virtio-blk:2 "
                + (devices.map(\.shape) + extraQEMUArguments).joined(separator: " ")
        }
    }

    /// The lab's files.
    public let paths: LabPaths
    let environment: [String: String]

    /// The lab whose files are `paths`.
    init(paths: LabPaths) {
        self.paths = paths
        self.environment = [:]
    }

    /// The lab `name` (which need not be running).
    public init(name: String, environment: [String: String]) throws(LabError) {
        paths = try LabPaths(name: name, environment: environment)
        self.environment = environment
    }

    /// The record of a running lab, or `nil` when QEMU is not running.
    public var record: LabRecord? {
        guard let record = LabRecord.load(paths.record), Self.isQEMU(record.pid, name: paths.name) else { return nil }
        return record
    }

    /// The running lab's record.
    ///
    /// - Throws: ``LabError/notRunning(name:)``.
    public func running() throws(LabError) -> LabRecord {
        guard let record else { throw .notRunning(name: paths.name) }
        return record
    }

    /// Prepares the assets, boots the guest and waits until its agent answers.
    public static func up(
        _ options: Options, environment: [String: String],
        progress: (String) -> Void
    ) async throws(LabError) -> LabRecord {
        let lab = try Lab(name: options.name, environment: environment)
        if let existing = lab.record { throw .alreadyRunning(name: lab.paths.name, pid: existing.pid) }
        try validate(options)
        let started = HostClock.monotonicNanoseconds()
        try await LabPrerequisites.ensure(progress: progress)
        let assets = try await Assets.locate(options, environment: environment, progress: progress)
        if let problem = KernelImage.problem(assets.kernel.image) {
            throw .kernel(
                "\(assets.kernel.image.string) \(problem); if it is a cached copy, remove it (rm \(assets.kernel.image.string)) and run `inject lab up` again to fetch it afresh; else give \(Setting.kernel) a whole image"
            )
        }
        if !assets.edac.available { progress("EDAC counters: \(assets.edac)") }
        try lab.cleanUp()
        try LabFileSystem.makeDirectories(lab.paths.stateDirectory)
        try lab.paths.checkPrivate()  // made now, or found: either way this user's alone
        try await assets.package.writeLayer(
            to: lab.paths.packageLayer, cache: LabPaths.cacheBase(environment).appending("package-layers"))
        chmod(lab.paths.packageLayer.string, 0o600)
        do throws(LabError) {
            if let restored = try await lab.restoreReadyState(options, assets, started: started, progress: progress) {
                return restored
            }
            let pid = try await lab.bootWithSCIPath(options, assets, progress: progress)
            var record = lab.record(options, assets, pid: pid, started: started)
            try record.save(lab.paths.record)
            // The guest's agent answers `exec` once the record names the running lab.
            record.deviceStatus = try lab.afterBoot(options.devices)
            // The EINJ firmware runs beside QEMU for the life of the lab.
            record.firmwarePid = try lab.startFirmware(executable: options.agentExecutable)
            try LabConsumers.start(LabConsumers.requested(options), in: lab, progress: progress)
            record.consumers = try LabConsumers.describe(lab)
            try record.save(lab.paths.record)
            await lab.saveReadyState(options, assets, record: &record, progress: progress)
            return record
        } catch {
            _ = try? lab.down()
            throw error
        }
    }

    /// Refuses options the machine cannot have, naming the setting, before anything starts.
    static func validate(_ options: Options) throws(LabError) {
        guard (1...64).contains(options.cpus) else {
            throw .io(path: Setting.cpus.description, reason: "\(options.cpus) is outside 1...64")
        }
        let einjTypes = options.offeredEINJTypes
        guard einjTypes != 0, einjTypes & ~EINJRegisters.supportedTypes == 0 else {
            throw .io(
                path: Setting.einjTypes.description,
                reason:
                    "\(hexNumber(einjTypes)) is not a non-empty set of 0x1...0x100 (processor, memory, PCIe; correctable, uncorrectable, fatal) and the devices' types (\(hexNumber(LabDevices.supportedEINJTypes & ~EINJRegisters.platformTypes))), or EINJv2 V2_0x1, V2_0x2"
            )
        }
        guard (256...65536).contains(options.memoryMiB) else {
            throw .io(
                path: Setting.memory.description,
                reason: "\(options.memoryMiB) MiB is outside 256...65536 (the firmware window sits at 256 MiB)")
        }
        guard access(options.agentExecutable, X_OK) == 0 else {
            throw .io(
                path: options.agentExecutable,
                reason: "the guest agent (the inject binary) is not executable here; build it with `swift build`")
        }
    }

    /// What a lab boots: the kernel, ghes_edac's state, the QEMU, the guest's root and its inject.
    struct Assets {
        var kernel: KernelAssets
        var edac: GhesEdacBuild.Status
        var qemu: LabQEMU
        var root: FilePath
        var package: GuestPackage

        /// Fetches or builds what is missing; labs starting at once take turns at the cache: one
        /// fetches or builds, the others find it.
        static func locate(_ options: Options, environment: [String: String], progress: (String) -> Void)
            async throws(LabError) -> Assets
        {
            let cache = LabPaths.cacheBase(environment)
            return try await LabFileSystem.withLock(cache.appending("cache.lock")) { () throws(LabError) in
                let kernel = try await KernelAssets.locate(
                    options.kernel, cache: cache, environment: environment, progress: progress)
                let edac =
                    options.buildGhesEdac
                    ? await GhesEdacBuild.ensure(kernel, cache: cache, environment: environment, progress: progress)
                    : GhesEdacBuild.Status.unavailable("not built (\(Setting.noEDAC))")
                let qemu = try await LabQEMU.locate(
                    options.qemuSpelling, cache: cache, environment: environment, progress: progress)
                let package = try await GuestPackage.locate(
                    given: options.package ?? environment["INJECT_LAB_PACKAGE"], executable: options.agentExecutable)
                let root = try await GuestRoot(
                    suite: options.guestSuite, dependencies: package.dependencies, environment: environment
                )
                .ensure(cache: cache, progress: progress)
                return Assets(kernel: kernel, edac: edac, qemu: qemu, root: root, package: package)
            }
        }
    }

    /// Boots the guest with the SCI path's DSDT: the one cached for this machine's shape, or, the
    /// first time, one derived from the machine's own (a boot, the table patched, a second boot);
    /// without it when it cannot be derived. QEMU's pid.
    private func bootWithSCIPath(_ options: Options, _ assets: Assets, progress: (String) -> Void)
        async throws(LabError) -> Int32
    {
        let cached = sciPathDSDTFile(options, assets)
        let dsdt = try? FileIO.readWholeFile(cached)
        progress("booting \(assets.kernel.release) under TCG (\(options.cpus) vCPU, \(options.memoryMiB) MiB)")
        let pid = try await boot(options, assets, dsdt: dsdt ?? nil)
        guard dsdt == nil && access(LabPrerequisites.iasl, X_OK) == 0 else { return pid }
        progress("deriving the SCI path's DSDT from this machine (once; cached in \(cached.removingLastComponent()))")
        do throws(LabError) {
            let original: [UInt8]
            do { original = try AgentFiles(paths).read(TargetPath("sys/firmware/acpi/tables/DSDT")) } catch {
                throw LabError.agent("reading the guest's DSDT: \(error)")
            }
            let scratch = paths.stateDirectory.appending("dsdt")
            try LabFileSystem.makeDirectories(scratch)
            let patched = try await SCIPath.patch(original, scratch: scratch)
            // Written whole then renamed: labs booting side by side may derive it at once.
            try LabFileSystem.makeDirectories(cached.removingLastComponent())
            try LabFileSystem.replace(cached, with: patched)
            stopQEMU()
            return try await boot(options, assets, dsdt: patched)
        } catch {
            progress("no SCI path in this lab (GHES sources notified by SCI cannot be raised): \(error)")
            if pidFromFile().map({ Self.isQEMU($0, name: paths.name) }) == true { return pid }
            return try await boot(options, assets, dsdt: nil)
        }
    }

    /// Where the SCI path's DSDT for this machine's shape is cached.
    func sciPathDSDTFile(_ options: Options, _ assets: Assets) -> FilePath {
        SCIPath.cacheFile(
            LabPaths.cacheBase(environment), configuration: options.shape(qemuVersion: assets.qemu.version))
    }

    /// The record of the lab just booted.
    func record(_ options: Options, _ assets: Assets, pid: Int32, started: UInt64) -> LabRecord {
        var record = LabRecord(
            name: paths.name, pid: pid, memoryMiB: options.memoryMiB, cpus: options.cpus, kernel: assets.kernel.release,
            kernelOrigin: assets.kernel.origin, qmpSocket: paths.qmpSocket.string,
            agentSocket: paths.agentSocket.string,
            guestMemory: paths.guestMemory.string, consoleLog: paths.consoleLog.string,
            sources: FirmwareLayout.lab.sources,
            bootSeconds: Double(HostClock.monotonicNanoseconds() - started) / 1e9, residentKiB: Self.residentKiB(pid),
            einjTypes: options.offeredEINJTypes)
        record.kernelSpec = options.kernel.description
        record.qemu = assets.qemu
        record.devices = options.addedDevices.map(\.name)
        record.startedConsumers = LabConsumers.requested(options).map(\.rawValue)
        record.agentExecutable = options.agentExecutable
        record.guestRoot = assets.root.string
        record.guestPackage = assets.package.description
        record.edac = assets.edac.description
        record.edacCounters = assets.edac.available
        record.dimms = LabMemoryDevices(memoryMiB: options.memoryMiB).devices.map(\.edacLabel)
        let files = try? AgentFiles(paths)
        record.sciPath = files.map { files in HardwareErrorDevice.isBound { files.exists($0) } } ?? false
        return record
    }

    /// What the platform does for each device once the guest answers; lines for `lab status`.
    func afterBoot(_ devices: [any LabDevice]) throws(LabError) -> [String] {
        var lines: [String] = []
        for device in devices { lines += try device.afterBoot(self) }
        return lines
    }

    /// Writes the guest's image and firmware (with `dsdt` as the table upgrade, when given), starts
    /// QEMU and waits for the agent; QEMU's pid.
    private func boot(_ options: Options, _ assets: Assets, dsdt: [UInt8]?) async throws(LabError) -> Int32 {
        let argv = try prepareBoot(options, assets, dsdt: dsdt)
        return try await launch(
            argv, layout: .lab, einjTypes: options.offeredEINJTypes, bootTimeoutSeconds: options.bootTimeoutSeconds)
    }

    /// Writes the guest's image, tables and firmware window (with `dsdt` as the table upgrade, when
    /// given) and the QEMU command line that boots them (kept in the state directory); that argv.
    func prepareBoot(_ options: Options, _ assets: Assets, dsdt: [UInt8]?) throws(LabError) -> [String] {
        let (kernel, qemu, layout) = (assets.kernel, assets.qemu, FirmwareLayout.lab)
        let scratch = LabPaths.cacheBase(environment).appending("modules/\(kernel.release)")
        try LabFileSystem.write(
            try Initramfs.build(
                kernel: kernel, package: assets.package, scratch: scratch, dsdt: dsdt,
                devices: options.devices), to: paths.initramfs)
        for device in options.devices { try device.prepare(paths) }
        var smbiosFiles: [FilePath] = []
        for (index, structure) in LabMemoryDevices(memoryMiB: options.memoryMiB).structures.enumerated() {
            let file = paths.stateDirectory.appending("smbios-\(index).bin")
            try LabFileSystem.write(structure.encoded(), to: file)
            smbiosFiles.append(file)
        }
        try LabFileSystem.write(layout.hest.encoded(), to: paths.hestTable)
        try LabFileSystem.write(layout.einj.table(offer: options.offeredEINJTypes).encoded(), to: paths.einjTable)
        try LabFileSystem.allocate(paths.guestMemory, size: Int64(options.memoryMiB) << 20)
        try writeFirmware(layout, einjTypes: options.offeredEINJTypes)
        let argv =
            QEMUCommand.arguments(
                paths: paths, kernel: kernel, root: assets.root, memoryMiB: options.memoryMiB, cpus: options.cpus,
                layout: layout, smbiosFiles: smbiosFiles, extraKernelArguments: options.extraKernelArguments,
                qemu: qemu, devices: options.devices)
            + options.extraQEMUArguments
        try LabFileSystem.write(Array(argv.joined(separator: "\u{0}").utf8), to: paths.qemuArguments)
        return argv
    }

    /// Starts QEMU with `argv`, writes the firmware window again once QEMU has the RAM file open,
    /// and waits for the agent; QEMU's pid.
    func launch(_ argv: [String], layout: FirmwareLayout, einjTypes: UInt32, bootTimeoutSeconds: Int)
        async throws(LabError) -> Int32
    {
        let pid = try await startQEMU(argv)
        // QEMU has the RAM file open now; write the firmware again in case it was reset.
        try writeFirmware(layout, einjTypes: einjTypes)
        try waitForAgent(pid: pid, timeoutSeconds: bootTimeoutSeconds)
        return pid
    }

    /// Runs QEMU with `argv` (it daemonizes once its sockets exist); its pid. Its sockets and
    /// console, which it makes with its own umask (027), are then made the lab owner's alone (the
    /// state directory, 0700, guards them meanwhile).
    func startQEMU(_ argv: [String]) async throws(LabError) -> Int32 {
        defer {
            for file in [paths.qmpSocket, paths.agentSocket, paths.consoleLog] { chmod(file.string, 0o600) }
        }
        do {
            _ = try await ToolRunner.run(argv)
        } catch {
            throw LabError.qemuFailed(reason: "\(error)", console: LabFileSystem.tail(paths.consoleLog))
        }
        guard let pid = pidFromFile() else {
            throw LabError.qemuFailed(
                reason: "no pid in \(paths.pidFile)", console: LabFileSystem.tail(paths.consoleLog))
        }
        return pid
    }

    /// Stops QEMU (QMP `quit`, then SIGKILL after 5 s) and lets go of the agent; the lab's files stay.
    @discardableResult
    func stopQEMU() -> Bool {
        AgentClient.disconnect(paths)
        guard let pid = pidFromFile(), Self.isQEMU(pid, name: paths.name) else { return false }
        if let client = try? QMPClient(socketPath: paths.qmpSocket.string, timeoutSeconds: 2) {
            _ = try? client.execute("quit")
        }
        if !Self.waitForExit(pid, seconds: 5) {
            kill(pid, SIGKILL)
            _ = Self.waitForExit(pid, seconds: 5)
        }
        return true
    }

    /// Stops QEMU (QMP `quit`, then SIGKILL after 5 s) and removes every file of the lab.
    ///
    /// - Returns: whether a QEMU process was stopped.
    @discardableResult
    public func down() throws(LabError) -> Bool {
        stopFirmware()
        let stopped = stopQEMU()
        try cleanUp()
        return stopped
    }

    /// Runs a shell command in the guest.
    public func exec(_ command: String, timeoutSeconds: Int = 120) throws(LabError) -> AgentClient.Result {
        let record = try running()
        let agent = try AgentClient.shared(paths)
        return try agent.run(command, timeoutSeconds: timeoutSeconds) {
            Self.isQEMU(record.pid, name: paths.name) ? nil : "QEMU exited" + consoleTail()
        }
    }

    /// The end of the guest console.
    public func consoleTail(_ lines: Int = 20) -> String {
        let tail = LabFileSystem.tail(paths.consoleLog, lines: lines)
        return tail.isEmpty ? "" : "\nlast lines of the guest console:\n\(tail)"
    }

    /// The target this lab is: files through the agent, QMP, firmware memory.
    public func target() throws(LabError) -> InjectionTarget {
        let record = try running()
        return InjectionTarget(
            root: "/", qmpSocket: record.qmpSocket, guestMemory: FilePath(record.guestMemory),
            guest: AgentConnection(paths))
    }

    // MARK: - Internals

    private func cleanUp() throws(LabError) {
        try LabFileSystem.remove(paths.guestMemory)
        try LabFileSystem.removeTree(paths.stateDirectory)
        // The per-user base under /tmp goes too once no lab uses it.
        let base = LabPaths.runtimeBase(environment)
        for directory in [base, base.removingLastComponent()]
        where directory.lastComponent?.string.hasPrefix("inject") == true
            || directory.string.hasSuffix("inject/lab")
        {
            if (try? FileIO.listDirectory(directory))?.isEmpty == true { rmdir(directory.string) }
        }
    }

    /// Starts `inject lab firmware` (the EINJ emulator) in its own session, its output in the
    /// lab's firmware log.
    func startFirmware(executable: String) throws(LabError) -> Int32 {
        let pid: pid_t
        do {
            pid = try LabProcess.spawn(
                [executable, "lab", "firmware", "-n", paths.name], output: paths.firmwareLog,
                errorToOutput: true, newSession: true)
        } catch {
            throw .io(path: executable, reason: "cannot start the EINJ firmware: \(error)")
        }
        try LabFileSystem.write(Array("\(pid)\n".utf8), to: paths.firmwarePid)
        return pid
    }

    /// The EINJ emulator's pid as recorded by `lab up`, or `nil` when none was started.
    func firmwarePid() -> Int32? {
        guard let bytes = try? FileIO.readWholeFile(paths.firmwarePid),
            let pid = Int32(String(decoding: bytes, as: UTF8.self).trimmed()), pid > 0
        else { return nil }
        return pid
    }

    /// Whether the recorded EINJ emulator runs (not exited, not a zombie, not a reused pid).
    public func firmwareRuns() -> Bool {
        guard let pid = firmwarePid(), kill(pid, 0) == 0,
            let cmdline = try? FileIO.readWholeFile(FilePath("/proc/\(pid)/cmdline")),
            String(decoding: cmdline, as: UTF8.self).contains("\u{0}firmware\u{0}"),
            let stat = try? FileIO.readWholeFile(FilePath("/proc/\(pid)/stat")),
            let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count
        else { return false }
        return stat[close + 2] != UInt8(ascii: "Z")
    }

    /// The helpers of this lab that were started and no longer run, one line each.
    public func helperFaults() -> [String] {
        guard let pid = firmwarePid(), !firmwareRuns() else { return [] }
        return [
            "the lab's EINJ firmware emulator (pid \(pid)) is not running, so the platform cannot answer EINJ (that, not the kernel, is the likely cause; its log: \(paths.firmwareLog.string)); restart the lab: inject lab down -n \(paths.name) && inject lab up -n \(paths.name)"
        ]
    }

    /// Stops the EINJ emulator (it also stops by itself once QEMU is gone).
    func stopFirmware() {
        guard let bytes = try? FileIO.readWholeFile(paths.firmwarePid),
            let pid = Int32(String(decoding: bytes, as: UTF8.self).trimmed()), pid > 0
        else { return }
        guard let cmdline = try? FileIO.readWholeFile(FilePath("/proc/\(pid)/cmdline")),
            String(decoding: cmdline, as: UTF8.self).contains("firmware")
        else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 where kill(pid, 0) == 0 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(10_000)
        }
    }

    func writeFirmware(_ layout: FirmwareLayout, einjTypes: UInt32) throws(LabError) {
        for (address, bytes) in layout.initialContents(einjTypes: einjTypes) {
            do {
                try FileIO.write(bytes, at: Int64(address), of: paths.guestMemory)
            } catch {
                throw .io(path: paths.guestMemory.string, reason: "\(error)")
            }
        }
    }

    func pidFromFile() -> Int32? {
        guard let bytes = try? FileIO.readWholeFile(paths.pidFile) else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).trimmed())
    }

    func waitForAgent(pid: Int32, timeoutSeconds: Int) throws(LabError) {
        let deadline = HostClock.monotonicNanoseconds() + UInt64(timeoutSeconds) * 1_000_000_000
        let alive = { () -> String? in
            if !Self.isQEMU(pid, name: paths.name) { return "QEMU exited during boot" }
            if HostClock.monotonicNanoseconds() > deadline { return "timeout" }
            return nil
        }
        do throws(LabError) {
            let agent = try AgentClient(paths)
            let answer = try agent.run("echo ok", timeoutSeconds: timeoutSeconds, stillAlive: alive)
            guard answer.text.trimmed() == "ok" else {
                throw LabError.agent(
                    "the guest answered `echo ok` with status \(answer.status): \(answer.text)\(answer.errorText)")
            }
        } catch .agent(let reason) where reason == "timeout" {
            throw .bootTimeout(seconds: timeoutSeconds, console: LabFileSystem.tail(paths.consoleLog))
        } catch .agent(let reason) {
            throw .qemuFailed(reason: reason, console: LabFileSystem.tail(paths.consoleLog))
        }
    }

    /// Whether `pid` is this lab's QEMU (and not a reused pid).
    public static func isQEMU(_ pid: Int32, name: String) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM,
            let cmdline = try? FileIO.readWholeFile(FilePath("/proc/\(pid)/cmdline"))
        else { return false }
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains { $0.hasPrefix("inject-lab-\(name),") }
    }

    static func waitForExit(_ pid: Int32, seconds: Int) -> Bool {
        for _ in 0..<(seconds * 50) {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            // A zombie child of ours (not the daemonized case) counts as gone once reaped.
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return true }
            usleep(20_000)
        }
        return false
    }

    private static func residentKiB(_ pid: Int32) -> Int? {
        guard let bytes = try? FileIO.readWholeFile(FilePath("/proc/\(pid)/status")) else { return nil }
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }
}
