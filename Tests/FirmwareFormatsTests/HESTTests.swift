import Testing

@testable import FirmwareFormats

/// The HEST: one code builds and parses it, and what the parser cannot size is said, not guessed.
@Suite struct HESTTests {
    @Test func everyKindOfSourceRoundTrips() throws {
        var v2 = HEST.GenericSource(register: 0x2000, blockLength: 0x400, notification: .init(.sci))
        v2.readAck = (.memory(0x2100), 0xFFFF_0000, 0x1)
        // An IA-32 NMI source (type 2): 20 bytes, kept raw.
        let nmi = HEST.Source(type: 2, id: 7, generic: nil, raw: [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x40, 0, 0, 0])
        let table = HEST(sources: [
            .ghes(
                id: 0,
                .init(register: 0x1000, blockLength: 0x1000, notification: .init(.polled, pollIntervalMilliseconds: 50))
            ),
            HEST.Source(type: 10, id: 1, generic: v2), nmi,
        ])
        let bytes = table.encoded()
        #expect(ACPITableHeader.isChecksumValid(bytes))
        #expect(bytes.count == 36 + 4 + 64 + 92 + 20)
        let parsed = try HEST(parsing: bytes)
        #expect(parsed.sources == table.sources)
        #expect(parsed.stoppedAtUnknownType == nil)
        #expect(
            parsed.lines == [
                "source 0: GHES, notified by polled every 50 ms, status address register 0x1000",
                "source 1: GHESv2, notified by SCI, status address register 0x2000",
                "source 7: IA-32 NMI",
            ])
    }

    @Test func anUnknownSourceTypeEndsTheListAndIsReported() throws {
        var bytes = HEST(sources: [
            .ghes(id: 0, .init(register: 0x1000, blockLength: 0x1000, notification: .init(.nmi)))
        ]).encoded()
        bytes[36] = 2  // claim two sources
        bytes += [0x63, 0, 9, 0, 0, 0, 0, 0]  // a type 99 source nobody can size
        bytes[4] = UInt8(bytes.count)  // the header's length
        let parsed = try HEST(parsing: bytes)
        #expect(parsed.sources.map(\.type) == [9, 99])
        #expect(parsed.stoppedAtUnknownType == 99)
    }

    @Test func badTablesAreRefusedNamingTheField() {
        #expect(throws: FormatError.invalid(field: "signature", reason: "'EINJ' is not HEST")) {
            try HEST(parsing: ACPITableHeader(signature: "EINJ", revision: 1).table(body: [0, 0, 0, 0]))
        }
        #expect(throws: FormatError.self) { try HEST(parsing: Array("HEST".utf8) + [200, 0, 0, 0]) }
        var short = HEST(sources: [.ghes(id: 0, .init(register: 0, blockLength: 0, notification: .init(.polled)))])
            .encoded()
        short.removeLast(10)
        #expect(throws: FormatError.self) { try HEST(parsing: short) }
    }
}
