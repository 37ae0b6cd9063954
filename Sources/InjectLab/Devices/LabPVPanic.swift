/// QEMU's pvpanic device (ACPI QEMU0001, in QEMU's DSDT): the guest's kernel tells it that it
/// panicked, and QEMU (`-action panic=pause`) pauses the guest with QMP status `guest-panicked`,
/// which is how the lab notices a panic and keeps its console as the evidence.
public struct LabPVPanic: LabDevice {
    public init() {}
    public var name: String { "pvpanic" }
    public var summary: String { "a pvpanic device: the guest's panics pause it" }
    public func qemuArguments(_ paths: LabPaths) -> [String] { ["-device", "pvpanic"] }
    public var guestModules: [String] { ["pvpanic-mmio"] }
}
