import FirmwareFormats
import Testing

/// SMBIOS memory devices and their mapped ranges: what the lab builds is what a backend reads back.
@Suite struct SMBIOSTests {
    static let devices = [
        SMBIOSMemoryDevice(
            handle: 0x1100, arrayHandle: 0x1000, sizeMiB: 128, deviceLocator: "DIMM_A1", bankLocator: "P0_CH_A"),
        SMBIOSMemoryDevice(
            handle: 0x1101, arrayHandle: 0x1000, sizeMiB: 65536, deviceLocator: "DIMM_A2", bankLocator: ""),
    ]
    static let ranges = [
        SMBIOSMemoryDeviceMappedAddress(
            handle: 0x1400, deviceHandle: 0x1100, arrayMappedAddressHandle: 0x1300, start: 0, end: 128 << 20),
        // Beyond 4 TiB the KiB fields overflow and the extended 64-bit ones carry the range.
        SMBIOSMemoryDeviceMappedAddress(
            handle: 0x1401, deviceHandle: 0x1101, arrayMappedAddressHandle: 0x1300, start: 5 << 40,
            end: (5 << 40) + (64 << 30)),
    ]

    static func table(_ structures: [SMBIOSStructure]) -> [UInt8] {
        structures.flatMap { $0.encoded() } + SMBIOSStructure(type: 127, handle: 0xFEFF, formatted: []).encoded()
    }

    @Test func memoryDevicesAndRangesRoundTrip() throws {
        let bytes = Self.table(Self.devices.map { $0.structure() } + Self.ranges.map { $0.structure() })
        let parsed = try SMBIOSStructure.parseTable(bytes)
        #expect(parsed.map(\.type) == [17, 17, 20, 20, 127])
        #expect(parsed.compactMap(SMBIOSMemoryDevice.init) == Self.devices)
        #expect(parsed.compactMap(SMBIOSMemoryDeviceMappedAddress.init) == Self.ranges)
        #expect(
            Self.devices.map(\.edacLabel) == ["P0_CH_A DIMM_A1", "DIMM_A2"],
            "ghes_edac's label: both locators, or the one that is set")
        #expect(parsed[0].encoded().count == 40 + "DIMM_A1".count + 1 + "P0_CH_A".count + 1 + 1)
        #expect(parsed[2].encoded().count == 35 + 2, "no strings: two NULs")
        #expect(Self.ranges[0].contains((128 << 20) - 1) && !Self.ranges[0].contains(128 << 20))
    }

    @Test func aStructureRunningPastTheBytesIsRefused() {
        let bytes = Self.devices[0].structure().encoded()
        #expect(throws: FormatError.self) { try SMBIOSStructure.parseTable(Array(bytes.dropLast(3))) }
        var short = bytes
        short[1] = 2  // a length below the header
        #expect(throws: FormatError.self) { try SMBIOSStructure.parseTable(short) }
    }

    @Test func aStringNumberPastTheSetReadsEmpty() throws {
        var structure = Self.devices[0].structure()
        structure.formatted[17 - 4] = 9  // bank locator: string 9 of 2
        let parsed = try #require(try SMBIOSStructure.parseTable(structure.encoded()).first)
        let device = try #require(SMBIOSMemoryDevice(parsed))
        #expect(device.bankLocator == "" && device.deviceLocator == "DIMM_A1")
    }
}
