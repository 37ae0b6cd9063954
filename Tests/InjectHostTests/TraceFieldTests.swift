import Testing

@testable import InjectHost

/// The field values `--verify` looks for in a trace line: lowercased, hex without `0x`, and a
/// quoted value kept whole with its spaces (a DIMM label).
@Suite struct TraceFieldTests {
    @Test func plainQuotedAndStrayWords() {
        #expect(Verifier.fieldValues("bank=1 status=0x940000000000009F") == ["1", "940000000000009f"])
        #expect(
            Verifier.fieldValues("error_type=Corrected mc_index=0 label=\"P0_CH_A DIMM_A1\"") == [
                "corrected", "0", "p0_ch_a dimm_a1",
            ])
        #expect(Verifier.fieldValues("label=\"A B\" after=2") == ["a b", "2"])
        #expect(Verifier.fieldValues("a=1 stray b=x=y") == ["1", "x=y"])
        #expect(Verifier.fieldValues("label=\"unterminated value") == ["unterminated value"])
        #expect(Verifier.fieldValues("") == [] && Verifier.fieldValues("no fields here") == [])
    }

    @Test func anExpectationSaysWhatItWants() {
        #expect(
            ExpectedEvent(kind: .counter, source: "x/dimm0/dimm_ce_count", match: "exact", delta: 0, note: nil).summary
                == "x/dimm0/dimm_ce_count unchanged")
        #expect(
            ExpectedEvent(kind: .counter, source: "c", match: "exact", delta: 3, note: nil).summary == "c +3 exactly")
        #expect(ExpectedEvent(kind: .counter, source: "c", match: nil, delta: 3, note: nil).summary == "c +3")
        #expect(
            ExpectedEvent(kind: .traceEvent, source: "ras:mc_event", match: "mc_index=0", delta: 0, note: nil).summary
                == "ras:mc_event mc_index=0")
    }
}
