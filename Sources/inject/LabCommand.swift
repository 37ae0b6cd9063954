import ArgumentParser
import InjectHost
import InjectLab

/// `inject lab ...`: the firmware-first RAS machine in software.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract:
            "Run a RAS lab: QEMU (TCG) with a Debian kernel, GHES error sources, EDAC DIMMs and a Debian server's root.",
        discussion: """
            `inject lab up` installs QEMU and busybox-static when run as root (and says what to run \
            when not), fetches the Debian kernel package --kernel names (6.12 from bookworm-backports by \
            default; `stock`, `trixie`, a package or a path otherwise) into a cache, builds ghes_edac for \
            it from its own Debian source when the kernel lacks it, builds the guest's Debian root (mmdebstrap, \
            cached) with inject's own package over it, writes an initramfs, SMBIOS DIMMs and a HEST table \
            with polled, NMI and SCI GHES sources, and boots the guest, which shares no host directory. \
            The first boot of a configuration saves its ready state as a snapshot in the cache; later \
            `lab up`s of it, and restarts after a panic, restore that in about a second (--cold boots). \
            Use the lab as the target \
            of any backend with --lab NAME, run commands in the guest with `inject lab exec`, and stop it \
            with `inject lab down`, which leaves no process or file behind.
            """,
        subcommands: [
            LabUpCommand.self, LabDownCommand.self, LabStatusCommand.self, LabKernelsCommand.self, LabExecCommand.self,
            LabConsoleCommand.self, LabRasdaemonCommand.self, LabDemoCommand.self, LabAgentCommand.self,
            LabFirmwareCommand.self,
        ])
}

/// Options shared by the lab subcommands.
struct LabOptions: ParsableArguments {
    @Option(
        name: [.short, .long, .customLong("lab")], help: "The lab's name (labs with different names run side by side).")
    var name: String = LabPaths.defaultName

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    /// The lab `name`.
    func lab() throws -> Lab {
        try check { () throws(LabError) in try Lab(name: name, environment: currentEnvironment()) }
    }

    /// Runs `body`, turning a ``LabError`` into its message and exit code 2.
    func check<R>(_ body: () throws(LabError) -> R) throws -> R {
        do {
            return try body()
        } catch {
            throw fail(error)
        }
    }

    /// Prints `error` and returns the exit code to throw.
    func fail(_ error: LabError) -> ExitCode {
        if json { Output.json(ErrorReport(error: error.description, exitCode: ExitCodes.unavailable)) }
        Output.error(error.description)
        return ExitCode(ExitCodes.unavailable)
    }
}

extension GuestSuite: ExpressibleByArgument {}

/// Options for booting a lab.
struct LabBootOptions: ParsableArguments {
    @Option(help: "Guest memory in MiB (256...65536).")
    var memory: Int = 512

    @Option(help: "Virtual CPUs (1...64; TCG runs one host thread per vCPU).")
    var cpus: Int = 1

    @Option(name: .customLong("boot-timeout"), help: "Seconds to wait for the guest.")
    var bootTimeout: Int = 120

    @Option(
        help: ArgumentHelp(
            "The guest kernel: stock (the machine's Debian kernel), bookworm, bookworm-backports (6.12, the default: EDAC counters through ghes_edac), trixie, a Debian package (linux-image-6.12.95+deb12-amd64), or a path to an unpacked kernel tree or a vmlinuz file. Fetched once into the lab cache; `inject lab kernels` lists what is there.",
            valueName: "spec"))
    var kernel: String = KernelSpec.defaultSpelling

    @Flag(
        name: .customLong("no-edac"),
        help: "Do not build ghes_edac for a kernel that lacks it (EDAC counters then stay without GHES records).")
    var noEdac = false

    @Option(name: .customLong("kernel-arg"), help: "An extra guest kernel argument (repeatable).")
    var kernelArguments: [String] = []

    @Option(
        name: .customLong("qemu-arg"), parsing: .unconditionalSingleValue,
        help: "An extra QEMU argument, passed as given (repeatable; e.g. --qemu-arg=-device --qemu-arg=...).")
    var qemuArguments: [String] = []

    @Option(
        help: ArgumentHelp(
            "The QEMU to run: machine (the machine's qemu-system-x86, the default) or bookworm-backports (QEMU 10, fetched once into the lab cache with a private apt configuration; it has the CXL injection commands). --with cxl picks bookworm-backports unless this says otherwise.",
            valueName: "source"))
    var qemu: String?

    @Option(
        name: .customLong("einj-types"),
        help: ArgumentHelp(
            "The EINJ error types the lab's firmware offers: a mask or a list (0x1,0x8,0x10); default 0xdb (processor, memory and PCIe, correctable and uncorrectable non-fatal), with --with cxl also 0x1b000 (CXL.cache and CXL.mem protocol errors, correctable and uncorrectable non-fatal). EINJv2 types as the kernel spells them: V2_0x1 (processor), V2_0x2 (memory), e.g. 0xdb,V2_0x2; a kernel with EINJv2 then has component_idN/component_syndromeN files (4 components).",
            valueName: "types"))
    var einjTypes: String?

    @Option(
        help: ArgumentHelp(
            "The inject Debian package the guest runs as its agent (default: INJECT_LAB_PACKAGE, else the installed package when this inject is it, else in a checkout the newest dist/inject_*_amd64.deb from Scripts/package.sh).",
            valueName: "file.deb"))
    var package: String?

    @Option(
        name: .customLong("guest-suite"),
        help: ArgumentHelp(
            "The Debian suite of the guest's root: "
                + GuestSuite.allCases.map { "\($0) (\($0.consumerVersions))" }.joined(separator: "; ")
                + ". Built once with mmdebstrap and cached in the lab cache.",
            valueName: "suite"))
    var guestSuite: GuestSuite = .standard

    @Flag(
        help:
            "Boot the guest instead of restoring this configuration's snapshot (the ready state the first boot saved in the lab cache), and save it afresh."
    )
    var cold = false

    func validate() throws {
        if let package, !package.hasSuffix(".deb") {
            throw ValidationError(
                "--package '\(package)' is not a .deb file; give the one Scripts/package.sh made (dist/inject_*_amd64.deb)"
            )
        }
        do { _ = try KernelSpec(parsing: kernel) } catch { throw ValidationError(error.description) }
        if let einjTypes, Self.mask(einjTypes) == nil {
            throw ValidationError(
                "--einj-types '\(einjTypes)' is not a mask or a comma-separated list of the EINJ types the lab's firmware produces (0x1...0x100, the CXL types 0x1000, 0x2000, 0x8000, 0x10000, and the EINJv2 types V2_0x1, V2_0x2; e.g. 0x8,0x10,V2_0x2)"
            )
        }
    }

    /// The types as a mask, or `nil` when malformed or outside what the firmware can produce.
    /// `V2_0x2` is an EINJv2 type (kept in the lab's own bits of the offer, ``EINJRegisters/v2Shift``).
    static func mask(_ text: String) -> UInt32? {
        var mask: UInt32 = 0
        let classic = EINJRegisters.supportedTypes & ~(0x7 << EINJRegisters.v2Shift)
        for word in text.split(separator: ",", omittingEmptySubsequences: false).map({ String($0).trimmed() }) {
            let v2 = word.uppercased().hasPrefix("V2_")
            guard let value = NumberText.unsigned(v2 ? String(word.dropFirst(3)) : word), value != 0,
                value <= UInt64(v2 ? EINJRegisters.supportedV2Types : classic),
                UInt32(value) & ~(v2 ? EINJRegisters.supportedV2Types : classic) == 0
            else { return nil }
            mask |= v2 ? UInt32(value) << EINJRegisters.v2Shift : UInt32(value)
        }
        return mask
    }

    func options(name: String) -> Lab.Options {
        var options = Lab.Options()
        options.package = package
        options.cold = cold
        options.guestSuite = guestSuite
        options.name = name
        options.memoryMiB = memory
        options.cpus = cpus
        options.bootTimeoutSeconds = bootTimeout
        options.extraKernelArguments = kernelArguments
        options.extraQEMUArguments = qemuArguments
        if let spec = try? KernelSpec(parsing: kernel) { options.kernel = spec }
        options.buildGhesEdac = !noEdac
        if let qemu { options.qemu = qemu }
        if let einjTypes, let mask = Self.mask(einjTypes) { options.einjTypes = mask }
        return options
    }
}

/// Prints a lab's record.
func describe(_ record: LabRecord, firmware: EINJFirmware.Counts? = nil) -> String {
    let firmware = firmware ?? record.einj
    let state = record.runState.map { $0 == "running" ? "running" : "QEMU status \($0)" } ?? "running"
    let consumerLines: [String] = (record.consumers ?? []).map { "  consumer     " + $0 }
    let deviceLines: [String] = (record.deviceStatus ?? []).map { "  " + $0 }
    let lines =
        [
            "lab \(record.name): \(state), QEMU pid \(record.pid), \(record.cpus) vCPU, \(record.memoryMiB) MiB",
            "  kernel       \(record.kernel)" + (record.kernelSpec.map { " (--kernel \($0))" } ?? "")
                + ": \(record.kernelOrigin)",
            "  EDAC         \(record.edac ?? "unknown")"
                + (record.dimms.map { "; DIMMs \($0.joined(separator: ", "))" } ?? ""),
            "  QEMU         " + qemuLine(record),
            "  guest        \(record.guestPackage ?? "unknown") on \(record.guestRoot ?? "unknown")",
        ] + consumerLines + deviceLines + [
            "  up in        \(String(format2: record.bootSeconds)) s"
                + (record.restored == true ? " (restored from its snapshot)" : "")
                + (record.residentKiB.map { ", QEMU resident \($0 / 1024) MiB" } ?? ""),
            "  snapshot     " + snapshotLine(record),
            "  qmp          \(record.qmpSocket)",
            "  guest memory \(record.guestMemory)",
            "  console      \(record.consoleLog)",
            "  GHES sources "
                + record.sources.map { "\($0.id) \($0.notification.name) block \(hexNumber($0.blockAddress))" }.joined(
                    separator: "; "),
            "  EINJ         types \(hexNumber(EINJRegisters.classicTypes(record.einjTypes ?? 0)))"
                + (EINJRegisters.v2Types(record.einjTypes ?? 0) != 0
                    ? ", EINJv2 types V2_\(hexNumber(EINJRegisters.v2Types(record.einjTypes ?? 0)))" : "")
                + ", firmware "
                + (record.firmwareRunning == false
                    ? "pid \(record.firmwarePid ?? 0): NOT RUNNING (it exited; EINJ requests fail until the lab is restarted: inject lab down -n \(record.name) && inject lab up -n \(record.name))"
                    : "")
                + (record.firmwareRunning == false
                    ? ""
                    : firmware.map {
                        "pid \(record.firmwarePid ?? 0): \($0.accepted) accepted, \($0.refused) refused, \($0.delivered) delivered"
                            + ($0.pending ? ", one waiting for its trigger" : "")
                            + ($0.last.isEmpty ? "" : "; last: \($0.last)")
                    } ?? (record.firmwarePid.map { "pid \($0), started" } ?? "not running")),
            "  panics       \(record.panics ?? 0), restarts \(record.restarts ?? 0)"
                + (record.lastPanic.map { "; last: \($0)" } ?? "")
                + (record.lastPanicConsole.map { " (its console: \($0))" } ?? ""),
            "  use it       inject run <backend> ... --lab \(record.name);  inject lab exec\(record.name == LabPaths.defaultName ? "" : " -n \(record.name)") -- <command>",
        ]
    return lines.joined(separator: "\n")
}

/// The lab's snapshot, for `lab status`.
private func snapshotLine(_ record: LabRecord) -> String {
    if let failure = record.lastRestoreFailure {
        return "none: the last restart could not restore the snapshot and booted instead (\(failure)); it was removed"
    }
    if let refusal = LabDevices.snapshotRefusal(LabDevices.machine(with: record.devices ?? [])) {
        return "none: the lab boots every time (\(refusal))"
    }
    guard let snapshot = record.snapshot else {
        return "none (saved after a cold boot of a lab whose SCI path is cached; lab up --cold boots without one)"
    }
    if record.restored == true {
        return "\(snapshot) (restored"
            + (record.restoreSeconds.map { ": the agent answered \(String(format2: $0)) s after the restore began" }
                ?? "")
            + "; lab up --cold boots instead)"
    }
    return "\(snapshot) (saved after this boot"
        + (record.snapshotSaveSeconds.map { ", the guest stopped \(String(format2: $0)) s" } ?? "") + ")"
}

/// The QEMU a lab runs, for `lab status`.
private func qemuLine(_ record: LabRecord) -> String {
    guard let qemu = record.qemu else { return "the machine's" }
    return "\(qemu.version) (--qemu \(qemu.spec)): \(qemu.origin)"
}

extension String {
    /// Two decimals.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

struct LabUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Prepare the assets and boot a lab.")

    @OptionGroup var lab: LabOptions
    @OptionGroup var boot: LabBootOptions

    /// What `--with` can add: the consumer, or one of the lab's optional devices.
    static let rasdaemon = "rasdaemon"
    static let nodeExporter = "node_exporter"
    static var extraNames: [String] { [rasdaemon, nodeExporter] + LabDevices.optional.map(\.name) }

    @Option(
        name: .customLong("with"),
        help: ArgumentHelp(
            "Also give the guest this (repeatable): rasdaemon (the guest's own, bookworm-backports' 0.8; see `inject lab rasdaemon`); node_exporter (the guest's prometheus-node-exporter on 127.0.0.1:9100, as its unit starts it)"
                + LabDevices.optional.map {
                    "; \($0.name) (\($0.summary)"
                        + ($0.neededQEMU.map { "; runs QEMU from \($0) unless --qemu says otherwise" } ?? "") + ")"
                }.joined()
                + ".", valueName: extraNames.joined(separator: "|")))
    var extras: [String] = []

    func validate() throws {
        for extra in extras where !Self.extraNames.contains(extra) {
            throw ValidationError("--with '\(extra)' is not one of \(Self.extraNames.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let record: LabRecord
        do {
            var options = boot.options(name: lab.name)
            options.addedDevices = extras.compactMap(LabDevices.named)
            options.rasdaemon = extras.contains(Self.rasdaemon)
            options.nodeExporter = extras.contains(Self.nodeExporter)
            record = try await Lab.up(options, environment: currentEnvironment()) { Output.progress($0) }
        } catch {
            throw lab.fail(error)
        }
        if lab.json { Output.json(record) } else { Output.line(describe(record)) }
    }
}

/// `inject lab rasdaemon start|stop|status`: the consumer in a running lab.
struct LabRasdaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rasdaemon", abstract: "Start, stop or show rasdaemon in a running lab's guest.",
        discussion: """
            The guest runs its own rasdaemon (bookworm-backports' 0.8, from the guest's Debian root) the way \
            Debian's unit starts it (/etc/default/rasdaemon, `rasdaemon -f -r`, then `--enable`), its database \
            on the guest's tmpfs state, and sets its trace instance's \
            buffer_percent to 0 first: rasdaemon leaves it at 50, and then records nothing until half a \
            buffer of events has arrived. `status` shows its process, buffer_percent and the rows of each \
            table of its database. `start --record-triggers` points its triggers at scripts that record the \
            environment each run gets, and `status` lists the runs.
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case start, stop, status
    }

    @OptionGroup var lab: LabOptions

    @Argument(help: "start, stop or status.")
    var action: Action = .status

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "With start: a setting of its /etc/default/rasdaemon, such as PAGE_CE_THRESHOLD=3 or PAGE_CE_ACTION=soft (repeatable; a running rasdaemon is restarted to read it).",
            valueName: "NAME=VALUE"))
    var settings: [String] = []

    @Flag(
        help:
            "With start: point rasdaemon's triggers (\(LabRasdaemon.triggers.joined(separator: ", "))) at scripts that record the environment each run gets; status lists the runs."
    )
    var recordTriggers = false

    func validate() throws {
        if recordTriggers && action != .start {
            throw ValidationError("--record-triggers applies to start (rasdaemon sets its triggers up when it starts)")
        }
        if !settings.isEmpty && action != .start {
            throw ValidationError("--set applies to start (rasdaemon reads /etc/default/rasdaemon when it starts)")
        }
        for setting in settings where !setting.contains("=") {
            throw ValidationError("--set '\(setting)' is not NAME=VALUE, e.g. --set PAGE_CE_THRESHOLD=3")
        }
    }

    func run() async throws {
        let status: LabRasdaemon.Status
        do {
            let consumer = LabRasdaemon(try Lab(name: lab.name, environment: currentEnvironment()))
            switch action {
            case .start:
                try consumer.configure(
                    settings.map { setting in
                        let parts = setting.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
                    })
                if recordTriggers { try consumer.recordTriggers() }
                if !settings.isEmpty || recordTriggers, try consumer.status().running {
                    Output.progress("restarting rasdaemon: it reads /etc/default/rasdaemon when it starts")
                    _ = try consumer.stop()
                }
                status = try consumer.start()
            case .stop: status = try consumer.stop()
            case .status: status = try consumer.status()
            }
        } catch {
            throw lab.fail(error)
        }
        struct Report: Encodable {
            var running: Bool
            var status: LabRasdaemon.Status
        }
        if lab.json {
            Output.json(Report(running: status.running, status: status))
            return
        }
        Output.line("rasdaemon in lab \(lab.name): " + (status.pid.map { "running, pid \($0)" } ?? "not running"))
        if let percent = status.bufferPercent {
            Output.line(
                "  buffer_percent \(percent)"
                    + (percent > 0
                        ? " (it records nothing until the buffer is \(percent)% full: inject lab rasdaemon stop, then start)"
                        : ""))
        }
        Output.line("  database     \(status.database)" + (status.rows.isEmpty ? " (none yet)" : ""))
        for (table, count) in status.rows.sorted(by: { $0.key < $1.key }) {
            Output.line("    \(table): \(count) row(s)")
        }
        if !status.triggerRuns.isEmpty { Output.line("  trigger runs \(status.triggerRuns.count)") }
        for run in status.triggerRuns {
            // What rasdaemon gave it; the shell adds PWD and SHLVL.
            let given = run.environment.filter { !["PWD", "SHLVL", "_", "PATH"].contains($0.key) }
            Output.line(
                "    \(run.trigger): "
                    + given.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}

struct LabDownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Stop a lab and remove its files.")

    @OptionGroup var lab: LabOptions

    @Flag(help: "Stop every lab.")
    var all = false

    func run() throws {
        let names = all ? LabPaths.existing(currentEnvironment()) : [lab.name]
        for name in names {
            let stopped = try lab.check { () throws(LabError) in
                try Lab(name: name, environment: currentEnvironment()).down()
            }
            if !lab.json {
                Output.line(
                    stopped ? "lab \(name): stopped, files removed." : "lab \(name): was not running; files removed.")
            }
        }
        if lab.json { Output.json(["stopped": names]) }
    }
}

struct LabStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show running labs (all, or --name).")

    @OptionGroup var lab: LabOptions

    func run() throws {
        let environment = currentEnvironment()
        let explicit = CommandLine.arguments.contains { $0 == "--name" || $0 == "-n" || $0.hasPrefix("--name=") }
        // A squatted runtime directory is said, not listed from.
        let base = LabPaths.runtimeBase(environment)
        if let problem = LabPaths.privacyProblem(base) {
            throw lab.fail(.untrustedDirectory(path: base.string, reason: problem))
        }
        let names = explicit ? [lab.name] : LabPaths.existing(environment)
        var records: [LabRecord] = []
        for name in names {
            guard let lab = try? Lab(name: name, environment: environment), var record = lab.record else { continue }
            record.einj = EINJFirmware.counts(lab.paths)
            record.runState = lab.runState()
            if record.firmwarePid != nil { record.firmwareRunning = lab.firmwareRuns() }
            records.append(record)
        }
        if lab.json {
            Output.json(records)
            return
        }
        if records.isEmpty {
            Output.line(
                explicit ? "lab \(lab.name): not running." : "no lab is running; start one with `inject lab up`.")
            if explicit { throw ExitCode(ExitCodes.unavailable) }
        }
        for record in records { Output.line(describe(record, firmware: record.einj)) }
    }
}

struct LabExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a shell command in the lab's guest, optionally with files copied in.",
        discussion: """
            The command runs with /bin/sh -c as root in the guest's Debian root, in the exchange \
            directory \(LabExchange.guestDirectory). The guest shares no directory with the host: \
            --copy copies a host file there first (its name and permission bits kept, at most \
            \(LabExchange.maximumBytes >> 20) MiB each; the guest's libraries are Debian's, so \
            build a binary for them or statically). The command's exit status becomes inject's.

            Examples:
              inject lab exec -- 'dmesg | tail'
              inject lab exec --copy ./victim -- ./victim --pages 4
            """)

    @OptionGroup var lab: LabOptions

    @Option(help: "Seconds before the guest kills the command.")
    var timeout: Int = 120

    @Option(
        name: .customLong("copy"),
        help: ArgumentHelp(
            "A host file to copy into the guest's exchange directory first (repeatable).", valueName: "file"))
    var copies: [String] = []

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (joined by spaces for /bin/sh -c).")
    var command: [String]

    func run() throws {
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        guard !words.isEmpty || !copies.isEmpty else {
            throw ValidationError("give a command, e.g. inject lab exec -- dmesg, or files to copy with --copy FILE")
        }
        // Every file is read and checked before the guest is touched.
        let files = try lab.check { () throws(LabError) in
            try copies.map { path throws(LabError) in try LabExchange.File(reading: FilePath(path)) }
        }
        let target = try lab.lab()
        let copied = try lab.check { () throws(LabError) in try target.copyIn(files) }
        guard !words.isEmpty else {
            if lab.json { Output.json(["copied": copied]) } else { copied.forEach { Output.line("copied \($0)") } }
            return
        }
        let inExchange =
            "mkdir -p \(LabExchange.guestDirectory) && cd \(LabExchange.guestDirectory) || exit 125\n"
        let result = try lab.check { () throws(LabError) in
            try target.exec(inExchange + words.joined(separator: " "), timeoutSeconds: timeout)
        }
        if lab.json {
            Output.json(["status": "\(result.status)", "stdout": result.text, "stderr": result.errorText])
        } else {
            Output.raw(result.output)
            Output.rawError(result.errorOutput)
        }
        if result.status != 0 { throw ExitCode(result.status) }
    }
}

struct LabConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Print the end of the guest's serial console.")

    @OptionGroup var lab: LabOptions

    @Option(help: "How many lines.")
    var lines: Int = 40

    func run() throws {
        let tail = try lab.lab().consoleTail(lines)
        Output.line(tail.isEmpty ? "(the console is empty)" : String(tail.drop { $0 == "\n" }))
    }
}

/// `inject lab agent`: the guest side of a lab, started by the guest's init. Not for users.
struct LabAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Serve the host from inside a lab guest (started by the guest's init).",
        shouldDisplay: false)

    @Option(help: "The virtio-serial port device.")
    var port: String

    func run() throws {
        do {
            try AgentServer.serve(port: FilePath(port))
        } catch {
            Output.error(error.description)
            throw ExitCode(ExitCodes.unavailable)
        }
    }
}

/// `inject lab firmware`: the lab's EINJ firmware emulator, started by `lab up`. Not for users.
struct LabFirmwareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firmware", abstract: "Run a lab's EINJ firmware emulator (started by `lab up`).",
        shouldDisplay: false)

    @OptionGroup var lab: LabOptions

    func run() throws {
        let paths = try lab.check { () throws(LabError) in
            try LabPaths(name: lab.name, environment: currentEnvironment())
        }
        try lab.check { () throws(LabError) in try EINJFirmware.serve(paths) }
    }
}

/// `inject lab kernels`: the guest kernels in the lab cache.
struct LabKernelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "List the guest kernels in the lab cache (what --kernel has fetched) and their EDAC support.")

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    @Flag(
        help:
            "List what Debian's suites offer instead (reads their package lists through the lab's private apt configuration)."
    )
    var available = false

    struct Suite: Encodable {
        var suite: String
        /// What `--kernel SUITE` fetches.
        var current: String?
        var packages: [String]
    }

    struct Entry: Encodable {
        var release: String
        var package: String?
        var version: String?
        var spec: String?
        var directory: String
        var edac: String
    }

    func run() async throws {
        let cache = LabPaths.cacheBase(currentEnvironment())
        if available {
            let suites: [Suite]
            do {
                suites = try await KernelAssets.available(cache: cache, environment: currentEnvironment()) {
                    Output.progress($0)
                }
                .map { Suite(suite: $0.suite, current: $0.current, packages: $0.packages) }
            } catch {
                Output.error(error.description)
                throw ExitCode(ExitCodes.unavailable)
            }
            if json {
                Output.json(suites)
                return
            }
            for suite in suites {
                Output.line(
                    "\(suite.suite): --kernel \(suite.suite) fetches \(suite.current ?? "nothing (no linux-image-amd64)")"
                )
                Output.line("    " + suite.packages.joined(separator: "\n    "))
            }
            return
        }
        let entries = KernelAssets.cachedKernels(cache.appending("kernel")).map { kernel in
            Entry(
                release: kernel.release, package: kernel.package, version: kernel.version, spec: kernel.spec,
                directory: kernel.cacheDirectory?.string ?? kernel.image.string,
                edac: GhesEdacBuild.cachedStatus(kernel).description)
        }
        if json {
            Output.json(entries)
            return
        }
        if entries.isEmpty {
            Output.line("no kernel in \(cache.appending("kernel")); `inject lab up --kernel SPEC` fetches one.")
            return
        }
        for entry in entries {
            Output.line(
                "\(entry.release)  \(entry.package ?? "-") \(entry.version ?? "")"
                    + (entry.spec.map { "  (--kernel \($0))" } ?? ""))
            Output.line("    \(entry.edac)")
            Output.line("    \(entry.directory)")
        }
    }
}
