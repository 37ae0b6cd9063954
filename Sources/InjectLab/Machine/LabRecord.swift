import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `lab up` knows about a running lab; saved as `lab.json` in its state directory and shown
/// by `lab status`.
public struct LabRecord: Codable, Sendable, Equatable {
    public var name: String
    /// QEMU's pid.
    public var pid: Int32
    public var memoryMiB: Int
    public var cpus: Int
    /// The guest kernel release and where it came from.
    public var kernel: String
    public var kernelOrigin: String
    /// The `--kernel` spelling that chose it.
    public var kernelSpec: String?
    /// The QEMU it runs (``LabQEMU``); `nil` in records from before the choice existed.
    public var qemu: LabQEMU?
    /// The devices `lab up --with` added (``LabDevices/optional``), by name.
    public var devices: [String]?
    /// What the platform did for each device once the guest answered (``LabDevice/afterBoot(_:)``),
    /// as lines for `lab status`.
    public var deviceStatus: [String]?
    /// How GHES memory records reach EDAC counters (ghes_edac), or why they do not.
    public var edac: String?
    /// Whether they do.
    public var edacCounters: Bool?
    /// The DIMM labels the lab's SMBIOS gives (ghes_edac's labels, in index order).
    public var dimms: [String]?
    public var qmpSocket: String
    public var agentSocket: String
    public var guestMemory: String
    public var consoleLog: String
    /// The firmware window's GHES sources.
    public var sources: [FirmwareLayout.Source]
    /// Seconds from `lab up` to a guest that answers.
    public var bootSeconds: Double
    /// QEMU's resident memory when the guest came up, in KiB.
    public var residentKiB: Int?
    /// The EINJ error types the lab's firmware offers.
    public var einjTypes: UInt32?
    /// Whether the guest runs the SCI path's DSDT (its HED device is bound): GHES sources notified
    /// by SCI can be raised.
    public var sciPath: Bool?
    /// The host's `inject` binary that runs the EINJ firmware (started again on a restart).
    public var agentExecutable: String?
    /// The guest's Debian root image (``GuestRoot``).
    public var guestRoot: String?
    /// The inject package the guest runs as its agent (``GuestPackage``).
    public var guestPackage: String?
    /// The snapshot of this configuration's ready state (``LabSnapshot``): its directory, whether
    /// the guest came from it (last `lab up` or restart) rather than a boot, and the seconds the
    /// save stopped the guest when this lab saved it.
    public var snapshot: String?
    /// A line per consumer package in the guest: its version, and whether it runs (``LabConsumers``).
    public var consumers: [String]?
    /// The consumers `lab up --with` started (``LabConsumers/Consumer``), started again when a
    /// restart has to boot.
    public var startedConsumers: [String]?
    public var restored: Bool?
    /// Why the last restart could not restore the snapshot and booted instead.
    public var lastRestoreFailure: String?
    public var snapshotSaveSeconds: Double?
    /// Seconds from the start of the last restore (the RAM copied in, QEMU started) to the agent
    /// answering.
    public var restoreSeconds: Double?
    /// The EINJ firmware emulator's pid.
    public var firmwarePid: Int32?
    /// Kernel panics the lab noticed, and guest restarts after them.
    public var panics: Int?
    public var restarts: Int?
    /// The last panic's line, and the file with the console of that run.
    public var lastPanic: String?
    public var lastPanicConsole: String?
    /// The guest's QEMU run state (`running`, `guest-panicked`, ...), filled in by `lab status`.
    public var runState: String?
    /// What the EINJ firmware has done (filled in by `lab status`, not saved).
    public var einj: EINJFirmware.Counts?
    /// Whether the EINJ firmware emulator still runs (filled in by `lab status`).
    public var firmwareRunning: Bool?

    func save(_ path: FilePath) throws(LabError) {
        try LabFileSystem.writeJSON(self, to: path)
    }

    static func load(_ path: FilePath) -> LabRecord? {
        guard let bytes = try? FileIO.readWholeFile(path) else { return nil }
        return try? JSONDecoder().decode(LabRecord.self, from: Data(bytes))
    }
}
