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
        for (source, contents) in zip(FirmwareLayout.lab.sources, stride(from: 0, to: 6, by: 2).map { FirmwareLayout.lab.initialContents[$0] }) {
            var reader = ByteReader(contents.bytes)
            #expect(contents.address == source.registerAddress)
            #expect((try? reader.get("pointer", as: UInt64.self)) == source.blockAddress)
        }
        #expect(FirmwareLayout.lab.kernelArgument == "memmap=1M$0x10000000")
    }
}
