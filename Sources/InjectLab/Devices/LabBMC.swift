/// The lab's BMC: QEMU's simulated one on an ISA KCS interface (it appears in QEMU's DSDT). Its
/// watchdog raises NMIs and `chassis power diag` is an NMI; the guest reaches it through the
/// kernel's IPMI drivers (`/dev/ipmi0`), the host through QEMU.
public struct LabBMC: LabDevice {
    public init() {}
    public var name: String { "bmc" }
    public var summary: String { "a simulated BMC on an ISA KCS interface (IPMI)" }
    public func qemuArguments(_ paths: LabPaths) -> [String] {
        ["-device", "ipmi-bmc-sim,id=bmc0", "-device", "isa-ipmi-kcs,bmc=bmc0"]
    }
    public var guestModules: [String] { ["ipmi_si", "ipmi_devintf"] }
}
