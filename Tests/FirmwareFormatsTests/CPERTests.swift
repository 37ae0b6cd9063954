import Testing

@testable import FirmwareFormats

/// The CPER encoder against the UEFI specification's layouts (appendix N) and the ACPI Generic
/// Error Status Block, and decode(encode(x)) == x for every section type.
@Suite("CPER records")
struct CPERTests {
    func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
        (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(bytes[offset + $1]) << (8 * $1) }
    }

    func memorySection() -> FixedSection {
        var memory = FixedSection(SectionLayouts.platformMemory)
        memory["physical_address"] = 0x1234_5000
        memory["node"] = 1
        memory["card"] = 2
        memory["module"] = 3
        memory["bank"] = 4
        memory["row"] = 0x1ABC
        memory["column"] = 0x3F
        memory["rank"] = 5
        memory["error_type"] = 2
        return memory
    }

    @Test func aPlatformMemoryRecordIsLaidOutAsTheSpecificationSays() {
        let block = GenericErrorStatusBlock(entries: [
            GenericErrorDataEntry(severity: .corrected, section: .fixed(memorySection()))
        ])
        let bytes = block.bytes
        // Generic Error Status Block: status, raw data offset and length, data length, severity.
        #expect(le(bytes, 0, UInt32.self) == 0b10 | 1 << 4, "correctable valid, one entry")
        #expect(le(bytes, 4, UInt32.self) == 0 && le(bytes, 8, UInt32.self) == 0)
        #expect(le(bytes, 12, UInt32.self) == 72 + 80, "data length: one 0x0300 entry header and an 80-byte section")
        #expect(le(bytes, 16, UInt32.self) == 2)
        // Generic Error Data Entry, revision 0x0300.
        let entry = 20
        #expect(
            Array(bytes[entry..<entry + 16]) == [
                0x14, 0x11, 0xBC, 0xA5, 0x64, 0x6F, 0xDE, 0x4E,
                0xB8, 0x63, 0x3E, 0x83, 0xED, 0x7C, 0x83, 0xB1,
            ], "section type A5BC1114-...")
        #expect(le(bytes, entry + 16, UInt32.self) == 2, "severity: corrected")
        #expect(le(bytes, entry + 20, UInt16.self) == 0x0300)
        #expect(bytes[entry + 22] == 0 && bytes[entry + 23] == 0, "no FRU id, text or timestamp; no flags")
        #expect(le(bytes, entry + 24, UInt32.self) == 80, "error data length")
        // Platform memory error section (N.2.5).
        let section = entry + 72
        let validation = le(bytes, section, UInt64.self)
        // Address, node, card, module, bank, row, column, type, rank.
        let expectedBits: [UInt64] = [1, 3, 4, 5, 6, 8, 9, 14, 15]
        #expect(validation == expectedBits.reduce(0) { $0 | 1 << $1 })
        #expect(le(bytes, section + 16, UInt64.self) == 0x1234_5000, "physical address at 16")
        #expect(le(bytes, section + 32, UInt16.self) == 1, "node at 32")
        #expect(le(bytes, section + 34, UInt16.self) == 2, "card at 34")
        #expect(le(bytes, section + 36, UInt16.self) == 3, "module at 36")
        #expect(le(bytes, section + 38, UInt16.self) == 4, "bank at 38")
        #expect(le(bytes, section + 42, UInt16.self) == 0x1ABC, "row at 42")
        #expect(le(bytes, section + 44, UInt16.self) == 0x3F, "column at 44")
        #expect(bytes[section + 72] == 2, "memory error type at 72")
        #expect(le(bytes, section + 74, UInt16.self) == 5, "rank at 74")
        #expect(bytes.count == 20 + 72 + 80)
    }

    @Test func everySectionTypeDecodesToWhatWasEncoded() throws {
        var processor = FixedSection(SectionLayouts.processorGeneric)
        processor["processor_type"] = 0
        processor["isa"] = 1
        processor["error_type"] = 1
        processor["level"] = 2
        processor["target_address"] = 0xdead_0000
        processor["instruction_ip"] = 0xffff_ffff_8100_0000
        processor.setBytes("brand_string", Array("Inject Virtual CPU".utf8))
        var pcie = FixedSection(SectionLayouts.pcie)
        pcie["port_type"] = 4
        pcie["segment"] = 0
        pcie["bus"] = 3
        pcie["device"] = 0x1f
        pcie["function"] = 7
        pcie["vendor_id"] = 0x8086
        pcie["command"] = 0x0406
        pcie.setBytes("aer_info", [1, 2, 3])
        let arm = ARMProcessorError(
            mpidr: 0x8000_0001, midr: 0x410f_d0c0,
            errors: [
                .init(type: 0, flags: 1, errorInformation: 0x1234, physicalFaultAddress: 0x8000_0000),
                .init(type: 2, virtualFaultAddress: 0xffff_0000),
            ])
        let vendor = ErrorSection.raw(
            type: GUID("12345678-9ABC-DEF0-1122-334455667788")!, bytes: [0xde, 0xad, 0xbe, 0xef, 0x01])
        let sections: [ErrorSection] = [.fixed(memorySection()), .fixed(processor), .fixed(pcie), .arm(arm), vendor]
        for section in sections {
            for revision: UInt16 in [0x0300, 0x0201] {
                let block = GenericErrorStatusBlock(entries: [
                    GenericErrorDataEntry(
                        revision: revision, severity: .recoverable, flags: 1,
                        fruID: GUID("A5BC1114-6F64-4EDE-B863-3E83ED7C83B1"), fruText: "DIMM_A1",
                        timestamp: 0x2026_1125, section: section)
                ])
                let decoded = try GenericErrorStatusBlock(decoding: block.bytes + [0, 0, 0])
                #expect(decoded == block, "\(section.name), revision \(revision)")
            }
        }
        let two = GenericErrorStatusBlock(
            entries: sections.map { GenericErrorDataEntry(severity: .corrected, section: $0) })
        #expect(try GenericErrorStatusBlock(decoding: two.bytes) == two)
        #expect(two.blockStatus == 0b1010 | 5 << 4, "correctable and multiple correctable, five entries")
    }

    @Test func badRecordsAreRefusedNamingTheField() throws {
        let bytes = GenericErrorStatusBlock(entries: [
            GenericErrorDataEntry(severity: .fatal, section: .fixed(memorySection()))
        ]).bytes
        #expect(
            throws: FormatError.badLength(
                field: "data length", value: 152, reason: "only 100 byte(s) follow the header")
        ) {
            try GenericErrorStatusBlock(decoding: Array(bytes.prefix(120)))
        }
        var wrongRevision = bytes
        wrongRevision[20 + 20] = 0x99
        #expect(throws: FormatError.unknownRevision(0x0399)) { try GenericErrorStatusBlock(decoding: wrongRevision) }
        #expect(throws: FormatError.self) { try GenericErrorStatusBlock.bytes(fromHex: "12 3") }
        #expect(try GenericErrorStatusBlock.bytes(fromHex: "0x02:00 00 00") == [2, 0, 0, 0])
    }

    @Test func timestampsAreBCDAsTheKernelPrintsThem() {
        // 2026-11-25 10:55:42 UTC = 1795604142 s.
        let stamp = CPERTimestamp.encode(secondsSince1970: 1_795_604_142)
        #expect(stamp == 0x2026_1125_0110_5542)
        #expect(CPERTimestamp.text(stamp) == "2026-11-25 10:55:42")
        #expect(CPERTimestamp.text(CPERTimestamp.encode(secondsSince1970: 951_782_400)) == "2000-02-29 00:00:00")
    }

    @Test func guidsPrintAndParseInTheirMixedEndianForm() throws {
        let guid = try #require(GUID("e19e3d16-bc11-11e4-9caa-c2051d5d46b0"))
        #expect(
            guid.bytes == [
                0x16, 0x3d, 0x9e, 0xe1, 0x11, 0xbc, 0xe4, 0x11, 0x9c, 0xaa, 0xc2, 0x05, 0x1d, 0x5d, 0x46, 0xb0,
            ])
        #expect(guid.description == "e19e3d16-bc11-11e4-9caa-c2051d5d46b0")
        #expect(GUID("not-a-guid") == nil)
    }
}
