import InjectPluginAPI
import InjectPluginTesting
import InjectTestSupport
import Testing

@testable import MCEKit

/// The mce backend's knowledge on its own: the status builder, the decoder, its plans against a
/// target in memory, and the decoding of its trace event.
@Suite("MCE kit")
struct MCEKitTests {
    static let files = Dictionary(
        uniqueKeysWithValues: ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"]
            .map { ("sys/kernel/debug/mce-inject/\($0)", "") })

    func writes(_ plan: Plan) -> [(String, String)] {
        plan.steps.compactMap { step in
            if case .writeAttribute(let path, let value) = step.action {
                return (String(path.split(separator: "/").last!), value)
            }
            return nil
        }
    }

    @Test func theStatusBuilderSetsTheArchitecturalBits() {
        let corrected = StatusWord(
            severity: "corrected", mcaCode: 0x9f, hasAddress: true, hasMisc: false, overflow: false)
        #expect(corrected.hex == "0x940000000000009f")
        #expect(corrected.severityName == "corrected")
        let srar = StatusWord(severity: "srar", mcaCode: 0x134, hasAddress: true, hasMisc: true, overflow: false)
        #expect(srar.raw == 0xBD80_0000_0000_0134)
        #expect(srar.severityName.hasPrefix("SRAR"))
        #expect(StatusWord(raw: 0xBE00_0000_0080_0400).severityName.hasPrefix("fatal (PCC)"))
        #expect(StatusWord(raw: 0x1000).severityName.hasPrefix("not valid"))
    }

    @Test func theDecoderNamesEveryField() {
        let lines = StatusDecoder.lines(StatusWord(raw: 0xBE00_0000_0080_0400))
        for expected in [
            "61 UC    1", "57 PCC   1", "31:16 model-specific 0x80", "MCA code 0x400: internal timer",
            "severity: fatal (PCC)",
        ] {
            #expect(lines.contains { $0.contains(expected) }, "missing \(expected)")
        }
    }

    @Test func aCorrectedPlanWritesBankLastAndExpectsTheKernelsRecord() throws {
        let plan = try TestTarget(files: Self.files).plan(MCEBackend(), ["cpu": "1", "bank": "4", "addr": "0x1234000"])
        let written = writes(plan)
        #expect(
            written.map(\.0)
                == ["flags", "cpu", "status", "misc", "addr", "synd", "bank"].filter { name in
                    written.contains { $0.0 == name }
                })
        #expect(written.last?.0 == "bank" && written.last?.1 == "4")
        #expect(plan.steps.last?.isTrigger == true)
        #expect(written.first { $0.0 == "status" }?.1 == "0x940000000000009f")
        #expect(plan.expectations.contains(.traceEvent("mce:mce_record", fields: "bank=4 status=0x940000000000009f")))
        // The kernel prints the status without 0x: "Machine Check: 1 Bank 4: 940000000000009f".
        #expect(plan.expectations.contains(.kernelLog("Bank 4: 940000000000009f")), "\(plan.expectations)")
        #expect(plan.confirmationReasons.isEmpty)
    }

    @Test func uncorrectedSeveritiesNeedConfirmation() throws {
        let plan = try TestTarget(files: Self.files).plan(MCEBackend(), ["severity": "srao", "addr": "0x1000"])
        #expect(!plan.confirmationReasons.isEmpty)
    }

    @Test func aStormIsOneRepeatStepNotACopyPerInjection() throws {
        let plan = try TestTarget(files: Self.files).plan(MCEBackend(), ["count": "100000", "addr": "0x5000"])
        #expect(plan.steps.count < 20)
        guard case .repeatSteps(_, let times, _) = plan.steps.last?.action else {
            Issue.record("no repeat step: \(plan.steps.map(\.action))")
            return
        }
        #expect(times == 99_998)
    }

    @Test func itsTraceEventDecodesIntoBankAndSeverity() {
        let fields = ["CPU": "0", "MCGc/s": "0/0", "MC255": "9c0000000000009f", "IPID": "0000000000000000"]
        let decoded = MCEBackend().decode(event: "mce:mce_record", fields: fields)
        #expect(decoded == ["bank": "255", "status": "0x9c0000000000009f", "severity": "corrected"])
        #expect(MCEBackend().decode(event: "ras:mc_event", fields: fields).isEmpty)
        #expect(MCEBackend.descriptor.traceEvents.contains("mce:mce_record"))
        #expect(MCEBackend.descriptor.kernelModules == ["mce_inject", "hwpoison_inject"])
    }

    @Test func probeReportsWhatTheTargetLacks() throws {
        let found = try TestTarget().probe(MCEBackend())
        #expect(found.first { $0.name == "mce-inject" }?.isAvailable == false)
        #expect(found.first { $0.name == "mce-inject" }?.detail.contains("modprobe mce-inject") == true)
        let present = try TestTarget(files: Self.files).probe(MCEBackend())
        #expect(present.first { $0.name == "mce-inject" }?.isAvailable == true)
    }
}

/// Seeded fuzzing of the replay parser and the status decoder: no crash, and nothing outside the
/// parameters' ranges accepted.
@Suite struct MCEFuzzTests {
    @Test func replayNeverAcceptsAValueOutsideItsRange() {
        var generator = FuzzGenerator(seed: 42)
        let skeleton = [
            "CPU", "1:", "Machine", "Check:", "0", "Bank", "4:", "9c00000000000000", "ADDR", "1234000", "MISC", "8c",
        ]
        let words = [
            "99999", "18446744073709551616", "ffffffffffffffffff", "-1", "0x", "Bank", "CPU", "64", "63", "8191",
            "8192", ":", "7:", "ADDR",
        ]
        var accepted = 0
        for _ in 0..<5000 {
            var parts = skeleton
            for _ in 0..<Int(1 + generator.next() % 3) {
                parts[Int(generator.next() % UInt64(parts.count))] = words[Int(generator.next() % UInt64(words.count))]
            }
            let line = parts.joined(separator: " ")
            guard let replay = try? KernelLogReplay(line) else { continue }
            accepted += 1
            #expect(MCEParameters.cpus.contains(replay.cpu) && MCEParameters.banks.contains(replay.bank), "\(line)")
        }
        #expect(accepted > 0)
    }

    @Test func everyStatusWordDecodes() {
        var generator = FuzzGenerator(seed: 7)
        for _ in 0..<5000 {
            let lines = StatusDecoder.lines(StatusWord(raw: generator.next()))
            #expect(lines.count == 15 && lines.last?.hasPrefix("  severity: ") == true)
        }
    }
}
