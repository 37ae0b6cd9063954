import FirmwareFormats

/// A CXL protocol error as firmware reports it: the CPER "CXL Protocol Error" section (UEFI 2.10
/// N.2.13): validation bits, the agent (a CXL device, named by its PCI address), its PCI identity
/// and serial number, then the agent's CXL RAS capability as the error log (uncorrectable status,
/// mask and severity, correctable status and mask, capability control with the first error
/// pointer, the header log). Linux (6.3 and later) prints it as `section_type: CXL Protocol Error`
/// with the agent and each RAS register.
public struct CXLProtocolErrorSection: Sendable, Equatable {
    /// The section type GUID.
    public static let sectionType = "80B9EFB4-52B5-4DE3-A777-68784B771048"
    /// The fixed part's length (the kernel's packed `cxl_cper_sec_prot_err`).
    static let headerLength = 116
    /// The error log's length: six RAS registers and the 64-byte header log.
    static let errorLogLength = 88

    /// The agent's PCI segment, bus, device, function.
    public var segment: UInt16, bus: UInt8, device: UInt8, function: UInt8
    public var vendorID: UInt16, deviceID: UInt16, subsystemVendorID: UInt16, subsystemID: UInt16
    /// The PCI class code's upper 16 bits (base class and subclass, `0x0502` for CXL memory).
    public var classCode: UInt16
    public var serial: UInt64
    /// The RAS capability's Correctable Error Status register.
    public var correctableStatus: UInt32
    /// The RAS capability's Uncorrectable Error Status register.
    public var uncorrectableStatus: UInt32

    /// The section's bytes (204).
    public var bytes: [UInt8] {
        var out = ByteWriter()
        // Agent type, agent address, device id, serial number, error log valid (no capability
        // structure or DVSEC).
        out.put(UInt64(0b100_1111))
        out.put(UInt8(2))
        out.put([], padTo: 7)  // agent type 2: CXL Device
        out.put(function)
        out.put(device)
        out.put(bus)
        out.put(segment)
        out.put([], padTo: 3)
        out.put(vendorID)
        out.put(deviceID)
        out.put(subsystemVendorID)
        out.put(subsystemID)
        out.put(classCode)  // sub-class, then base class
        out.put([], padTo: 2 + 4)  // slot, reserved
        out.put(serial)  // lower then upper double word
        out.put([], padTo: 60)  // PCIe capability structure (not valid)
        out.put(UInt16(0))
        out.put(UInt16(Self.errorLogLength))
        out.put(UInt32(0))
        // The error log: the CXL RAS capability.
        let firstError = uncorrectableStatus == 0 ? 0 : UInt32(uncorrectableStatus.trailingZeroBitCount)
        for register in [uncorrectableStatus, 0, 0, correctableStatus, 0, firstError] { out.put(register) }
        out.put([], padTo: 64)  // header log
        return out.bytes
    }

    /// The lines the kernel prints for the section (cxl_cper_print_prot_err).
    public var kernelLines: [String] {
        [
            "agent_type: 2, CXL Device",
            "agent_address: " + pciAddress(segment: segment, bus: bus, device: device, function: function),
            "vendor_id: 0x\(hexText(vendorID, digits: 4)), device_id: 0x\(hexText(deviceID, digits: 4))",
            "lower_dw: 0x\(hexText(serial & 0xFFFF_FFFF, digits: 8)), upper_dw: 0x\(hexText(serial >> 32, digits: 8))",
            "cxl_ras_uncor_status: 0x\(hexText(uncorrectableStatus, digits: 8))",
            "cxl_ras_cor_status: 0x\(hexText(correctableStatus, digits: 8))",
        ]
    }

    /// The status bit of an error, by QEMU's name: correctable errors in spec order from bit 0;
    /// uncorrectable ones from bit 0 to 11, then internal (14) and the IDE errors (15, 16).
    static func statusBit(_ name: String, correctable: Bool) -> UInt32? {
        if correctable {
            return CXLBackend.correctableErrors.firstIndex { $0.key == name }.map { 1 << UInt32($0) }
        }
        return CXLBackend.uncorrectableErrors.firstIndex(of: name).map { 1 << UInt32($0 < 12 ? $0 : $0 + 2) }
    }
}
