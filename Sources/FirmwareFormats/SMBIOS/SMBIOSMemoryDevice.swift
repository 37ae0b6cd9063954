/// A Memory Device (SMBIOS type 17): one DIMM socket, its size and its labels. The kernel's
/// ghes_edac makes one EDAC DIMM per type-17 structure, in table order, labelled
/// "BANK_LOCATOR DEVICE_LOCATOR", and counts a CPER memory error on the DIMM whose handle equals
/// the record's module handle.
public struct SMBIOSMemoryDevice: Sendable, Equatable {
    public static let type: UInt8 = 17
    /// The structure's handle (what a CPER memory section's module handle names).
    public var handle: UInt16
    /// The Physical Memory Array (type 16) it belongs to.
    public var arrayHandle: UInt16
    /// Size in MiB (0: no device installed).
    public var sizeMiB: UInt32
    /// The socket's label on the board, such as `DIMM_A1`.
    public var deviceLocator: String
    /// The bank, such as `P0_CH_A`.
    public var bankLocator: String
    /// Total and data width in bits (72/64: ECC).
    public var totalWidth: UInt16 = 72
    public var dataWidth: UInt16 = 64
    /// Memory type (0x1A: DDR4) and type detail (bit 13 registered, bit 7 synchronous).
    public var memoryType: UInt8 = 0x1A
    public var typeDetail: UInt16 = 0x2080
    /// Speed in MT/s.
    public var speed: UInt16 = 3200
    public var manufacturer = ""
    public var serialNumber = ""
    public var partNumber = ""

    public init(handle: UInt16, arrayHandle: UInt16, sizeMiB: UInt32, deviceLocator: String, bankLocator: String) {
        self.handle = handle
        self.arrayHandle = arrayHandle
        self.sizeMiB = sizeMiB
        self.deviceLocator = deviceLocator
        self.bankLocator = bankLocator
    }

    /// The label ghes_edac gives the DIMM: both locators with a space between, or whichever is set.
    public var edacLabel: String {
        [bankLocator, deviceLocator].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Reads a type-17 structure, or `nil` for another type.
    public init?(_ structure: SMBIOSStructure) {
        guard structure.type == Self.type else { return nil }
        handle = structure.handle
        arrayHandle = structure.value(4, as: UInt16.self)
        totalWidth = structure.value(8, as: UInt16.self)
        dataWidth = structure.value(10, as: UInt16.self)
        let size = structure.value(12, as: UInt16.self)
        switch size {
        case 0xFFFF: sizeMiB = 0
        case 0x7FFF: sizeMiB = structure.value(28, as: UInt32.self) & 0x7FFF_FFFF
        default: sizeMiB = size & 0x8000 != 0 ? UInt32(size & 0x7FFF) >> 10 : UInt32(size)
        }
        deviceLocator = structure.string(at: 16)
        bankLocator = structure.string(at: 17)
        memoryType = structure.byte(18)
        typeDetail = structure.value(19, as: UInt16.self)
        speed = structure.value(21, as: UInt16.self)
        manufacturer = structure.string(at: 23)
        serialNumber = structure.string(at: 24)
        partNumber = structure.string(at: 26)
    }

    /// The SMBIOS 2.8 structure (40 bytes and the strings).
    public func structure() -> SMBIOSStructure {
        var strings: [String] = []
        func number(_ text: String) -> UInt8 {
            guard !text.isEmpty else { return 0 }
            strings.append(text)
            return UInt8(strings.count)
        }
        var writer = ByteWriter()
        writer.put(arrayHandle)
        writer.put(UInt16(0xFFFE))  // no error information structure
        writer.put(totalWidth)
        writer.put(dataWidth)
        writer.put(sizeMiB < 0x7FFF ? UInt16(sizeMiB) : UInt16(0x7FFF))
        writer.put(UInt8(0x09))  // form factor: DIMM
        writer.put(UInt8(0))  // device set: none
        writer.put(number(deviceLocator))
        writer.put(number(bankLocator))
        writer.put(memoryType)
        writer.put(typeDetail)
        writer.put(speed)
        writer.put(number(manufacturer))
        writer.put(number(serialNumber))
        writer.put(UInt8(0))  // asset tag
        writer.put(number(partNumber))
        writer.put(UInt8(1))  // attributes: rank 1
        writer.put(sizeMiB < 0x7FFF ? UInt32(0) : sizeMiB)
        writer.put(speed)  // configured speed
        writer.put(UInt16(1200))  // minimum, maximum, configured voltage (mV)
        writer.put(UInt16(1200))
        writer.put(UInt16(1200))
        return SMBIOSStructure(type: Self.type, handle: handle, formatted: writer.bytes, strings: strings)
    }
}

/// A Memory Device Mapped Address (SMBIOS type 20): the physical address range a memory device
/// (type 17) answers for.
public struct SMBIOSMemoryDeviceMappedAddress: Sendable, Equatable {
    public static let type: UInt8 = 20
    public var handle: UInt16
    /// The memory device (type 17) and the array mapped address (type 19) it belongs to.
    public var deviceHandle: UInt16
    public var arrayMappedAddressHandle: UInt16
    /// The range, in bytes: `start..<end`.
    public var start: UInt64
    public var end: UInt64

    public init(handle: UInt16, deviceHandle: UInt16, arrayMappedAddressHandle: UInt16, start: UInt64, end: UInt64) {
        self.handle = handle
        self.deviceHandle = deviceHandle
        self.arrayMappedAddressHandle = arrayMappedAddressHandle
        self.start = start
        self.end = end
    }

    /// Reads a type-20 structure, or `nil` for another type.
    public init?(_ structure: SMBIOSStructure) {
        guard structure.type == Self.type else { return nil }
        handle = structure.handle
        let startKiB = structure.value(4, as: UInt32.self)
        let endKiB = structure.value(8, as: UInt32.self)
        deviceHandle = structure.value(12, as: UInt16.self)
        arrayMappedAddressHandle = structure.value(14, as: UInt16.self)
        if startKiB == 0xFFFF_FFFF {
            start = structure.value(19, as: UInt64.self)
            end = structure.value(27, as: UInt64.self) + 1
        } else {
            start = UInt64(startKiB) << 10
            end = (UInt64(endKiB) + 1) << 10
        }
    }

    /// Whether `address` is in the range.
    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// The SMBIOS 2.7 structure (35 bytes, no strings).
    public func structure() -> SMBIOSStructure {
        var writer = ByteWriter()
        let kibibytes = start >> 10 < 0xFFFF_FFFF && (end >> 10) <= 0xFFFF_FFFF
        writer.put(kibibytes ? UInt32(start >> 10) : UInt32.max)
        writer.put(kibibytes ? UInt32((end >> 10) - 1) : UInt32.max)
        writer.put(deviceHandle)
        writer.put(arrayMappedAddressHandle)
        writer.put(UInt8(1))  // partition row position
        writer.put(UInt8(0))  // interleave position: not interleaved
        writer.put(UInt8(0))  // interleaved data depth
        writer.put(kibibytes ? UInt64(0) : start)
        writer.put(kibibytes ? UInt64(0) : end - 1)
        return SMBIOSStructure(type: Self.type, handle: handle, formatted: writer.bytes)
    }
}
