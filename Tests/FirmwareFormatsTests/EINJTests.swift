import Testing

@testable import FirmwareFormats

/// EINJ tables and structures: built and parsed by one code, with the kernel's own checks.
@Suite struct EINJTests {
    @Test func aTableRoundTripsAndIsLaidOutAsTheKernelReadsIt() throws {
        let table = EINJ(entries: [
            .init(.executeOperation, .writeRegisterValue, .memory(0x100F_0000), value: 1),
            .init(.checkBusyStatus, .readRegisterValue, .memory(0x100F_0008), value: 1, mask: 1),
        ])
        let bytes = table.encoded()
        #expect(bytes.count == 48 + 2 * 32)
        #expect(ACPITableHeader.isChecksumValid(bytes))
        #expect(Array(bytes[36..<40]) == [48, 0, 0, 0] && Array(bytes[44..<48]) == [2, 0, 0, 0])
        #expect(bytes[48] == 5 && bytes[49] == 3)  // action, instruction
        #expect(Array(bytes[52..<56]) == [0, 64, 0, 4])  // SystemMemory, 64 bits, qword
        let parsed = try EINJ(parsing: bytes)
        #expect(parsed.entries == table.entries)
        // The entry count must match the length, as einj_check_table insists.
        var wrong = bytes
        wrong[44] = 3
        wrong[9] = ACPITableHeader.checksum(wrong)
        #expect(throws: FormatError.self) { try EINJ(parsing: wrong) }
    }

    @Test func triggerTablesAndParametersRoundTrip() throws {
        let trigger = EINJ.TriggerTable(entries: [
            .init(.triggerError, .writeRegisterValue, .memory(0x100F_2000), value: 1)
        ])
        let bytes = trigger.encoded()
        #expect(
            bytes.count == 16 + 32 && Array(bytes[0..<4]) == [16, 0, 0, 0] && Array(bytes[8..<12]) == [48, 0, 0, 0])
        #expect(try EINJ.TriggerTable(parsing: bytes) == trigger)
        var tooBig = bytes
        tooBig[9] = 0x20  // table_size 8240 > a page
        #expect(throws: FormatError.self) { try EINJ.TriggerTable(parsing: tooBig) }
        let parameters = EINJParameters(
            type: 0x8, flags: 0x2, memoryAddress: 0x3456000, memoryRange: 0xFFFF_FFFF_FFFF_F000)
        let encoded = parameters.encoded()
        #expect(encoded.count == EINJParameters.size)
        #expect(Array(encoded[16..<24]) == [0, 0x60, 0x45, 0x03, 0, 0, 0, 0])  // memory_address at 16
        #expect(try EINJParameters(parsing: encoded) == parameters)
    }

    /// EINJ's SBDF: the parts where ACPI puts them, read back, written as Linux names the device;
    /// parts that do not fit are refused instead of spilling into the next field.
    @Test func aPCIeSBDFIsLaidOutAsACPIDefinesIt() throws {
        let sbdf = try #require(PCIeSBDF(segment: 1, bus: 0x0d, device: 3, function: 1))
        #expect(sbdf.raw == 0x010d_1900)
        #expect(PCIeSBDF(raw: 0x010d_19ff) == sbdf, "bits 7:0 are not part of the address")
        #expect(sbdf.text == "0001:0d:03.1")
        #expect(PCIeSBDF(segment: 256, bus: 0, device: 0, function: 0) == nil)
        #expect(PCIeSBDF(segment: 0, bus: 0, device: 32, function: 0) == nil)
        #expect(PCIeSBDF(segment: 0, bus: 0, device: 0, function: 8) == nil)
        #expect(hexText(0x1a as UInt8, digits: 4) == "001a" && hexText(0x12345 as UInt64, digits: 4) == "12345")
    }

    /// The EINJv2 extension as Linux's einj reads it: length and revision set by the platform,
    /// `(length - 8) / 32` components of room, 128-bit values least significant byte first.
    @Test func theEINJv2ExtensionIsLaidOutAsLinuxReadsIt() throws {
        var block = EINJv2Extension(capacity: 4)
        #expect(block.length == 8 + 4 * 32 && block.revision == 1 && block.capacity == 4)
        block.components = [
            .init(id: [1], syndrome: [4]),
            .init(
                id: try #require(EINJv2Extension.Component.bytes(hex: "0x0102030405060708090a0b0c0d0e0f10")),
                syndrome: [0]),
        ]
        let bytes = block.encoded()
        #expect(bytes.count == 136)
        #expect(Array(bytes[0..<8]) == [136, 0, 0, 0, 1, 0, 2, 0], "length, revision, count")
        #expect(bytes[8] == 1 && bytes[24] == 4, "the first id, then its syndrome")
        #expect(bytes[40] == 0x10 && bytes[55] == 0x01, "least significant byte first")
        #expect(try EINJv2Extension(parsing: bytes) == block)
        #expect(EINJv2Extension.Component.hex([0x10, 0x0f] + [UInt8](repeating: 0, count: 14)) == "0xf10")
        #expect(EINJv2Extension.Component.hex([UInt8](repeating: 0, count: 16)) == "0x0")
        #expect(EINJv2Extension.Component.bytes(hex: "0x" + String(repeating: "f", count: 33)) == nil)
        #expect(EINJv2Extension.Component.bytes(hex: "12g") == nil && EINJv2Extension.Component.bytes(hex: "") == nil)
        // A count beyond the room, or another revision, is the platform's to refuse.
        var over = bytes
        over[6] = 5
        #expect(throws: FormatError.self) { try EINJv2Extension(parsing: over) }
        var revision = bytes
        revision[4] = 2
        #expect(throws: FormatError.self) { try EINJv2Extension(parsing: revision) }
    }
}
