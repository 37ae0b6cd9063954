/// The lab's PCI Express topology: two root ports, each with an AER-capable endpoint (QEMU's
/// e1000e, whose driver enables error reporting on kernels that do not do it for every device),
/// and a third root port left empty, the slot the SCI path hotplugs into to raise GPE 1.
///
/// Every device has a QEMU id, so that QEMU's `pcie_aer_inject_error` can name it; the guest
/// numbers the buses (the endpoints are 0000:01:00.0 and 0000:02:00.0 behind 0000:00:04.0 and
/// 0000:00:05.0).
public struct LabPCIe: LabDevice {
    /// One device of the topology.
    public struct Device: Sendable, Equatable {
        /// QEMU's device id.
        public var id: String
        /// The QEMU device type.
        public var driver: String
        /// The QEMU id of the bus it sits on.
        public var bus: String
        /// Extra properties (`chassis=1,addr=4.0`).
        public var properties: String
    }

    /// The devices, in creation order.
    public static let devices: [Device] = [
        Device(id: "rp0", driver: "pcie-root-port", bus: "pcie.0", properties: "chassis=1,addr=4.0"),
        Device(id: "ep0", driver: "virtio-rng-pci", bus: "rp0", properties: "aer=on"),
        Device(id: "rp1", driver: "pcie-root-port", bus: "pcie.0", properties: "chassis=2,addr=5.0"),
        Device(id: "ep1", driver: "virtio-rng-pci", bus: "rp1", properties: "aer=on"),
        Device(id: hotplugPort, driver: "pcie-root-port", bus: "pcie.0", properties: "chassis=3,addr=6.0"),
    ]

    /// The empty root port: a device added there is an ACPI PCI hotplug, which raises GPE 1 (the
    /// nmi backend's `signal=sci` default on q35, `NMIBackend.labHotplugPort`, names it too: a
    /// plugin cannot import the lab).
    public static let hotplugPort = "hotplug0"

    public init() {}
    public var name: String { "pcie" }
    public var summary: String {
        "root ports rp0 and rp1 with AER-capable endpoints ep0 and ep1, and an empty hotplug0"
    }
    /// The kernel's aer_inject (the aer backend's software path).
    public var guestModules: [String] { ["aer_inject"] }

    /// QEMU's arguments for the topology.
    public func qemuArguments(_ paths: LabPaths) -> [String] {
        Self.devices.flatMap { device in
            [
                "-device",
                ([device.driver, "id=\(device.id)", "bus=\(device.bus)"]
                    + (device.properties.isEmpty ? [] : [device.properties]))
                    .joined(separator: ","),
            ]
        }
    }
}
