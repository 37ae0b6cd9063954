import InjectTestSupport
import Testing

@testable import FirmwareFormats

/// Seeded, bounded fuzzing of the decoders: nothing crashes, and nothing outside the formats'
/// ranges is accepted silently.
@Suite struct FuzzTests {
    static let valid: [UInt8] = {
        var section = FixedSection(SectionLayouts.platformMemory)
        section["physical_address"] = 0x2000
        section["node"] = 1
        return GenericErrorStatusBlock(entries: [
            GenericErrorDataEntry(severity: .corrected, fruText: "DIMM_A1", section: .fixed(section))
        ]).bytes
    }()

    @Test func theCPERDecoderSurvivesMutationsAndFlagsWhatIsInvalid() {
        var generator = FuzzGenerator(seed: 0x1234)
        var decoded = 0
        var refused = 0
        for round in 0..<4000 {
            var bytes = Self.valid
            if round % 4 == 0 {
                bytes = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                for _ in 0..<(1 + Int(generator.next() % 6)) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
                if generator.next() % 5 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            }
            guard let block = try? GenericErrorStatusBlock(decoding: bytes) else {
                refused += 1
                continue
            }
            decoded += 1
            _ = block.fieldLines
            // What the bytes claim is shown; a claim the entries contradict is flagged.
            if let given = block.given, Int(given.blockStatus >> 4 & 0x3FF) != block.entries.count {
                #expect(block.problems.contains { $0.contains("claims") }, "round \(round)")
            }
            if let given = block.given, given.severity > 3 {
                #expect(
                    block.fieldLines.contains { $0.contains("INVALID: block severity \(given.severity)") },
                    "round \(round)")
            }
        }
        #expect(decoded > 100 && refused > 100, "decoded \(decoded), refused \(refused): the fuzzer explores both")
    }

    @Test func theHESTParserSurvivesMutations() {
        var generator = FuzzGenerator(seed: 0x5678)
        let valid = HEST(sources: [
            .ghes(id: 0, .init(register: 0x1000, blockLength: 0x1000, notification: .init(.polled))),
            .ghes(id: 1, .init(register: 0x1008, blockLength: 0x1000, notification: .init(.nmi))),
        ]).encoded()
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            guard let table = try? HEST(parsing: bytes) else { continue }
            #expect(Int(table.header.length) <= bytes.count)
            _ = table.lines
        }
    }
}
