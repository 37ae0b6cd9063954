import FirmwareFormats
import Testing

@testable import InjectLab

/// The lab's firmware: the HEST it serves is the one the GHES backend parses back.
@Suite struct FirmwareLayoutTests {
    @Test func labHESTParsesBackToItsSources() throws {
        let layout = FirmwareLayout.lab
        let bytes = layout.hest.encoded()
        #expect(ACPITableHeader.isChecksumValid(bytes))
        #expect(bytes.count == 36 + 4 + 64 * layout.sources.count)
        let parsed = try HEST(parsing: bytes)
        #expect(parsed.sources == layout.hest.sources)
        #expect(parsed.header.length == UInt32(bytes.count) && parsed.header.oemTableID == "INJECTLB")
        #expect(try HEST(parsing: parsed.encoded()).sources == parsed.sources)
        for (source, entry) in zip(layout.sources, parsed.sources) {
            #expect(entry.type == 9 && entry.id == source.id)
            #expect(entry.generic?.errorStatusAddress.address == source.registerAddress)
            #expect(entry.generic?.notification.kind == source.notification)
            #expect(entry.generic?.errorStatusBlockLength == source.blockLength)
        }
        #expect(parsed.sources.map { $0.generic?.notification.kind } == [.polled, .nmi, .sci])
    }

    @Test func registersPointAtTheirBlocks() {
        for (source, contents) in zip(
            FirmwareLayout.lab.sources,
            stride(from: 0, to: 6, by: 2).map {
                FirmwareLayout.lab.initialContents(einjTypes: EINJRegisters.defaultTypes)[$0]
            })
        {
            var reader = ByteReader(contents.bytes)
            #expect(contents.address == source.registerAddress)
            #expect((try? reader.get("pointer", as: UInt64.self)) == source.blockAddress)
        }
        #expect(FirmwareLayout.lab.kernelArgument == "memmap=1M$0x10000000")
    }

    @Test func theEINJTableHasWhatTheKernelRequiresAndPointsIntoTheWindow() throws {
        let layout = FirmwareLayout.lab
        let table = try EINJ(parsing: layout.einj.table(offer: EINJRegisters.defaultTypes).encoded())
        for action: EINJ.Action in [
            .getTriggerErrorActionTable, .getErrorType, .executeOperation, .checkBusyStatus, .getCommandStatus,
            .setErrorTypeWithAddress,
        ] {
            #expect(!table.entries(for: action).isEmpty, "\(action) is required")
        }
        // Busy is set before the doorbell, in the order the kernel runs them.
        #expect(
            table.entries(for: .executeOperation).map(\.register.address) == [layout.einj.busy, layout.einj.command])
        for entry in table.entries {
            #expect(
                entry.register.space == 0 && (layout.base..<layout.base + layout.size).contains(entry.register.address))
        }
        #expect(
            layout.sources.allSatisfy { $0.blockAddress + UInt64($0.blockLength) <= layout.einj.base },
            "GHES blocks and EINJ registers do not overlap")
        #expect(layout.einj.trigger / 4096 != layout.einj.command / 4096, "the trigger has a page of its own (devmem)")
        let trigger = try EINJ.TriggerTable(parsing: layout.einj.triggerTableContents.encoded())
        #expect(trigger.entries.map(\.action) == [EINJ.Action.triggerError.rawValue])
        #expect(trigger.entries.first?.register.address == layout.einj.trigger)
        // The capabilities register offers the lab's types.
        let contents = layout.initialContents(einjTypes: 0x18)
        let registers = try #require(contents.first { $0.address == layout.einj.base }?.bytes)
        var reader = ByteReader(registers, offset: 0x18)
        #expect(try reader.get("capabilities", as: UInt64.self) == 0x18)
    }
}
