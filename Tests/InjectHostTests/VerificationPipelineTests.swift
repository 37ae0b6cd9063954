import Testing

@testable import InjectHost

/// The pipeline orders the findings as the event travels and names the first stage that dropped it.
@Suite struct VerificationPipelineTests {
    typealias Finding = Verifier.Finding

    @Test func stagesFollowTheEventsWayWithTheSlowestLatencyOfEach() {
        let pipeline = VerificationPipeline([
            Finding(
                kind: .consumer, expected: "node_exporter total +1", matched: true, latencyMilliseconds: 600,
                consumer: "node_exporter"),
            Finding(kind: .counter, expected: "mc0/dimm0/dimm_ce_count +1", matched: true, latencyMilliseconds: 40),
            Finding(kind: .trace, expected: "ras:mc_event", matched: true, latencyMilliseconds: 10),
            Finding(
                kind: .counter, expected: "mc0/dimm1/dimm_ce_count unchanged", matched: true, latencyMilliseconds: 90),
            Finding(
                kind: .consumer, expected: "rasdaemon mc_event row", matched: true, latencyMilliseconds: 300,
                consumer: "rasdaemon"),
        ])
        #expect(pipeline.stages.map(\.name) == ["kernel trace", "counter", "rasdaemon", "node_exporter"])
        #expect(pipeline.stages.map(\.latencyMilliseconds) == [10, 90, 300, 600])
        #expect(pipeline.firstDrop == nil)
        #expect(
            pipeline.summary
                == "kernel trace 1/1 (10 ms) -> counter 2/2 (90 ms) -> rasdaemon 1/1 (300 ms) -> node_exporter 1/1 (600 ms)"
        )
    }

    @Test func theFirstStageThatDroppedTheEventIsNamedWithItsReason() {
        let pipeline = VerificationPipeline([
            Finding(kind: .trace, expected: "mce:mce_record", matched: true, latencyMilliseconds: 5),
            Finding(kind: .dmesg, expected: "Bank 1:", matched: false, note: "the collector took it"),
            Finding(
                kind: .consumer, expected: "rasdaemon mce_record row", matched: false,
                evidence: "buffer_percent 50", consumer: "rasdaemon"),
        ])
        #expect(pipeline.firstDrop?.name == "kernel log")
        #expect(pipeline.firstDrop?.missing == "Bank 1:" && pipeline.firstDrop?.reason == "the collector took it")
        #expect(pipeline.stages.last?.reason == "buffer_percent 50")
        #expect(pipeline.stages.last?.latencyMilliseconds == nil)
    }
}
