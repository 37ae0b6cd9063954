import FirmwareFormats
import InjectHost

/// The lab's DIMMs as its SMBIOS describes them: four sockets on two channels
/// (`P0_CH_A DIMM_A1` ... `P0_CH_B DIMM_B2`), each a quarter of the guest RAM, with a type-17
/// memory device and type-20 mapped-address ranges each. QEMU takes them as `-smbios file=`
/// structures in place of its own single "DIMM 0", so that ghes_edac registers one EDAC DIMM per
/// socket and a CPER record whose module handle names a socket lands on exactly that DIMM.
public struct LabMemoryDevices: Sendable, Equatable {
    /// QEMU's own handles: the physical memory array (type 16) and its first mapped range (type 19).
    static let arrayHandle: UInt16 = 0x1000
    static let arrayMappedAddressHandle: UInt16 = 0x1300
    /// The first type-17 handle (QEMU uses the same base for its own) and the first type-20 one.
    static let deviceHandleBase: UInt16 = 0x1100
    static let mappedHandleBase: UInt16 = 0x1400
    /// Where QEMU's q35 machine splits RAM (pc_q35.c): from 2.75 GiB of RAM on, the first 2 GiB
    /// stay below 4 GiB and the rest starts at 4 GiB.
    static let splitThreshold: UInt64 = 0xB000_0000
    static let lowMemoryWhenSplit: UInt64 = 0x8000_0000

    /// The sockets, in table order (ghes_edac's DIMM index order).
    public var devices: [SMBIOSMemoryDevice]
    /// Their guest-physical ranges.
    public var ranges: [SMBIOSMemoryDeviceMappedAddress]

    /// The layout for `memoryMiB` of guest RAM.
    public init(memoryMiB: Int) {
        let labels = [("P0_CH_A", "DIMM_A1"), ("P0_CH_A", "DIMM_A2"), ("P0_CH_B", "DIMM_B1"), ("P0_CH_B", "DIMM_B2")]
        let total = UInt64(memoryMiB) << 20
        let size = total / UInt64(labels.count)
        let low = total >= Self.splitThreshold ? Self.lowMemoryWhenSplit : total
        devices = []
        ranges = []
        for (index, label) in labels.enumerated() {
            let handle = Self.deviceHandleBase + UInt16(index)
            devices.append(
                SMBIOSMemoryDevice(
                    handle: handle, arrayHandle: Self.arrayHandle, sizeMiB: UInt32(size >> 20),
                    deviceLocator: label.1, bankLocator: label.0))
            // The RAM offsets of this DIMM, mapped around the PCI hole.
            let start = UInt64(index) * size
            let end = start + size
            var pieces: [(UInt64, UInt64)] = []
            if start < low { pieces.append((start, min(end, low))) }
            if end > low { pieces.append((0x1_0000_0000 + max(start, low) - low, 0x1_0000_0000 + end - low)) }
            for piece in pieces {
                ranges.append(
                    SMBIOSMemoryDeviceMappedAddress(
                        handle: Self.mappedHandleBase + UInt16(ranges.count), deviceHandle: handle,
                        arrayMappedAddressHandle: Self.arrayMappedAddressHandle,
                        start: piece.0, end: piece.1))
            }
        }
    }

    /// One binary structure per file (QEMU counts one structure per `-smbios file=`).
    public var structures: [SMBIOSStructure] {
        devices.map { $0.structure() } + ranges.map { $0.structure() }
    }
}
