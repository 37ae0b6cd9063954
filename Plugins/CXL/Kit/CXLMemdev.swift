import InjectPluginAPI

/// A CXL memory device as the kernel lists it (`sys/bus/cxl/devices/memN`), with the PCI device it
/// sits on (found by the host, which also knows its QEMU id on a QEMU target).
public struct CXLMemdev: Sendable, Equatable {
    /// The kernel's name (`mem0`).
    public var name: String
    /// Its serial number as the kernel reads it (`0x1`).
    public var serial: String?
    /// Its PCI device.
    public var pci: PCIDevice?

    /// The memdev `spec` names on `target`: a name (`mem0`), a serial (`serial:1`), or the PCI
    /// address or QEMU id of its device; the first memdev when `spec` is `nil`.
    public static func find(_ spec: String?, on target: Target) throws -> CXLMemdev {
        let names = ((try? target.list("sys/bus/cxl/devices")) ?? []).filter { $0.hasPrefix("mem") }
        guard !names.isEmpty else {
            throw BackendError.unsupported(
                "the target lists no CXL memory device (sys/bus/cxl/devices/mem*): in a lab, `inject lab up --with cxl`; on a host, modprobe cxl_acpi cxl_pci cxl_mem"
            )
        }
        let pciDevices = (try? target.list("sys/bus/pci/devices")) ?? []
        func memdev(_ name: String) -> CXLMemdev {
            let address = pciDevices.first { target.exists("sys/bus/pci/devices/\($0)/\(name)") }
            return CXLMemdev(
                name: name, serial: target.value("sys/bus/cxl/devices/\(name)/serial"),
                pci: address.flatMap { try? target.pciDevice($0) })
        }
        guard let spec else { return memdev(names[0]) }
        if names.contains(spec) { return memdev(spec) }
        if spec.hasPrefix("serial:") {
            let wanted = spec.dropFirst(7).lowercased()
            if let found = names.map(memdev).first(where: {
                ($0.serial.flatMap { UInt64($0.dropFirst(2), radix: 16) })
                    == UInt64(
                        wanted.hasPrefix("0x") ? String(wanted.dropFirst(2)) : String(wanted),
                        radix: wanted.hasPrefix("0x") ? 16 : 10)
            }) {
                return found
            }
        } else if let device = try? target.pciDevice(spec),
            let found = names.map(memdev).first(where: { $0.pci?.address == device.address })
        {
            return found
        }
        throw BackendError.invalid(
            "memdev=\(spec) names no CXL memory device here; the target has \(names.map(memdev).map { "\($0.name) (serial \($0.serial ?? "?"), \($0.pci?.address ?? "no PCI device")\($0.pci?.qemuID.map { ", QEMU \($0)" } ?? ""))" }.joined(separator: ", "))"
        )
    }

    /// QEMU's QOM path of the device, for its `cxl-inject-*` commands.
    public var qomPath: String? { pci?.qemuID.map { "/machine/peripheral/\($0)" } }
}
