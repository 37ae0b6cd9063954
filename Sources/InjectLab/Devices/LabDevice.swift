import FirmwareFormats

/// A device of the lab's machine: what it adds to QEMU's command line, which kernel modules the
/// guest loads for it, what the platform does for it before the drivers load and once the guest
/// answers (after the first boot and after every restart), whether a snapshot can bring it back,
/// what `lab status` says of it, and the EINJ errors the lab's firmware produces with it. The lab
/// is built from ``LabDevices``: a new device is one file conforming to this protocol and one
/// entry in that list (swift-log's `LogHandler` and one `bootstrap` are
/// the shape). Every requirement but ``name`` and ``qemuArguments(_:)`` has a default.
public protocol LabDevice: Sendable {
    /// The name `lab up --with` takes and the lab's record keeps (`cxl`); also the device's
    /// label in `lab status`.
    var name: String { get }
    /// One line for `--with`'s help: what the guest gets.
    var summary: String { get }
    /// Properties added to QEMU's `-machine` (`cxl=on`).
    var machineProperties: [String] { get }
    /// QEMU's arguments for the device; `paths` place its backing files.
    func qemuArguments(_ paths: LabPaths) -> [String]
    /// The device's shape without file paths: part of what identifies the machine's DSDT (the SCI
    /// path's table is derived once per shape).
    var shape: String { get }
    /// Kernel modules the guest loads for it when the kernel has them.
    var guestModules: [String] { get }
    /// Kernel modules without which the device is useless: a kernel lacking one is refused.
    var requiredModules: [String] { get }
    /// The QEMU it needs when the machine's is too old (a ``LabQEMU`` spelling), or `nil`.
    var neededQEMU: String? { get }
    /// Readies the host side before QEMU starts (backing files).
    func prepare(_ paths: LabPaths) throws(LabError)
    /// What the platform's firmware does to the device before the OS drivers bind: a busybox `sh`
    /// fragment the guest's `/init` runs before it loads the kernel's modules (PCI is enumerated,
    /// no driver holds the device, /dev/mem reaches its registers), or "".
    var beforeDrivers: String { get }
    /// What the platform does for the device once the guest answers, as its firmware would
    /// (after the first boot and after every restart); lines for `lab status`.
    func afterBoot(_ lab: Lab) throws(LabError) -> [String]
    /// Whether a restart after a panic must boot the guest rather than restore its snapshot: the
    /// device keeps what the panicked guest gave it, and a restored kernel would not read it again.
    var restartBoots: Bool { get }
    /// Why the machine with this device cannot be restored from a snapshot (QEMU does not bring
    /// the device back), or `nil`: a lab with such a device boots every time and saves none.
    var snapshotRefusal: String? { get }
    /// The EINJ error types the lab's firmware produces with this device.
    var einjTypes: UInt32 { get }
    /// An EINJ error of one of ``einjTypes`` aimed at the device (the parameters the OS wrote),
    /// or why the platform refuses it.
    func einjError(type: UInt32, parameters: EINJParameters, qmpSocket: String)
        -> Result<EINJFirmware.PendingError, EINJFirmware.Refusal>
}

// MARK: - Default implementations

extension LabDevice {
    public var summary: String { name }
    public var machineProperties: [String] { [] }
    public var shape: String { qemuArguments(LabPaths.shapeOnly).joined(separator: " ") }
    public var guestModules: [String] { [] }
    public var requiredModules: [String] { [] }
    public var neededQEMU: String? { nil }
    public func prepare(_ paths: LabPaths) throws(LabError) {}
    public var beforeDrivers: String { "" }
    public func afterBoot(_ lab: Lab) throws(LabError) -> [String] { [] }
    public var restartBoots: Bool { false }
    public var snapshotRefusal: String? { nil }
    public var einjTypes: UInt32 { 0 }
    public func einjError(type: UInt32, parameters: EINJParameters, qmpSocket: String)
        -> Result<EINJFirmware.PendingError, EINJFirmware.Refusal>
    {
        .failure(EINJFirmware.Refusal(text: "\(name) produces no EINJ errors"))
    }
}

/// The lab's devices: those every lab has, and those `lab up --with NAME` adds.
public enum LabDevices {
    /// The devices of every lab, in QEMU's command-line order: the BMC and pvpanic (both in QEMU's
    /// DSDT), then the PCI Express topology.
    public static let standard: [any LabDevice] = [LabBMC(), LabPVPanic(), LabPCIe()]
    /// The devices `lab up --with NAME` can add.
    public static let optional: [any LabDevice] = [LabCXL(), LabERST()]

    /// The optional device called `name`.
    public static func named(_ name: String) -> (any LabDevice)? { optional.first { $0.name == name } }

    /// The devices of a lab with the optional devices `names` (unknown names are left out).
    public static func machine(with names: [String]) -> [any LabDevice] {
        standard + names.compactMap(named)
    }

    /// Why a machine of `devices` is never restored from a snapshot (`NAME: reason`, the first
    /// device's ``LabDevice/snapshotRefusal``), or `nil`.
    public static func snapshotRefusal(_ devices: [any LabDevice]) -> String? {
        devices.lazy.compactMap { device in device.snapshotRefusal.map { "\(device.name): \($0)" } }.first
    }

    /// Every EINJ error type the lab's firmware can produce: the platform's own and the devices'.
    public static var supportedEINJTypes: UInt32 {
        (standard + optional).reduce(EINJRegisters.platformTypes) { $0 | $1.einjTypes }
    }
}
