import Foundation
import InjectPluginABI
import Testing

@testable import InjectHost

/// Each step kind is one type: the table finds it by its ABI value, it describes itself for
/// `--dry-run`, encodes its fields for the journal and compares itself.
@Suite struct StepKindTests {
    static func abiValue(_ type: any ABIStepKind.Type) -> UInt32 { type.abiKind }
    static func word(_ type: any ABIStepKind.Type) -> String { type.kind }

    @Test func theTableHasEveryABIKindOnce() {
        let values = StepKinds.all.map(Self.abiValue)
        #expect(Set(values).count == values.count, "one type per INJECT_STEP_* value")
        #expect(StepKinds.knownRange == 1...10)
        let device = StepKinds.table[INJECT_STEP_WRITE_DEVICE.rawValue].map { ObjectIdentifier($0) }
        #expect(device == ObjectIdentifier(WriteDeviceStep.self))
        #expect(Set(StepKinds.all.map(Self.word)).count == StepKinds.all.count, "one journal word per kind")
    }

    func journal(_ action: any StepAction) throws -> [String: Any] {
        let step = PlannedStep(action: action, backend: "b", note: "n", isTrigger: true)
        let data = try JSONEncoder().encode(step)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func eachKindEncodesItsFieldsUnderItsWord() throws {
        let write = try journal(WriteAttributeStep(path: try TargetPath("sys/x"), value: "1"))
        #expect(
            write["kind"] as? String == "write" && write["path"] as? String == "sys/x"
                && write["value"] as? String == "1")
        #expect(
            write["backend"] as? String == "b" && write["note"] as? String == "n" && write["trigger"] as? Bool == true)
        let memory = try journal(WriteMemoryStep(address: 0x1000, bytes: [0xde, 0xad]))
        #expect(
            memory["kind"] as? String == "memory" && memory["address"] as? String == "0x1000"
                && memory["bytes"] as? String == "dead")
        let storm = try journal(RepeatStep(count: 2, times: 9, intervalMicroseconds: 5))
        #expect(storm["kind"] as? String == "repeat" && storm["steps"] as? Int == 2 && storm["times"] as? Int == 9)
        let ipmi = try journal(IPMIStep(IPMIRequest(netFunction: 0, command: 2, data: [4])))
        #expect(ipmi["kind"] as? String == "ipmi" && ipmi["bytes"] as? String == "0x00 0x02 0x04")
        let notify = try journal(NotifyStep(backend: "nmi", assignments: [ParameterAssignment("via", "qemu")]))
        #expect(notify["command"] as? String == "nmi" && (notify["assignments"] as? [String]) == ["via=qemu"])
    }

    @Test func eachKindDescribesItselfAsADryRunShowsIt() throws {
        #expect(
            WriteAttributeStep(path: try TargetPath("sys/x"), value: "a\n").describe(root: "/r")
                == "write /r/sys/x = \"a\\n\"")
        #expect(ExecStep(argv: ["ipmitool", "raw", "a b"]).describe(root: "/") == "exec ipmitool raw 'a b'")
        #expect(SleepStep(microseconds: 7).describe(root: "/") == "sleep 7 us")
        #expect(
            WaitMemoryZeroStep(address: 0x10, microseconds: 5000).describe(root: "/").contains(
                "0x10 reads zero (at most 5 ms)"))
        #expect(
            QMPStep(command: "inject-nmi", arguments: nil).describe(root: "/") == "qmp {\"execute\":\"inject-nmi\"}")
        let bytes = [UInt8](repeating: 0xab, count: 20)
        #expect(
            WriteMemoryStep(address: 1, bytes: bytes).describe(root: "/").hasSuffix(
                "(" + String(repeating: "ab", count: 16) + "...)"))
        #expect(
            RepeatStep(count: 3, times: 4, intervalMicroseconds: 10).describe(at: 5)
                == "repeat steps 3-5 4 more time(s), 10 us before each")
        #expect(
            RepeatStep(count: 1, times: 4, intervalMicroseconds: 0).describe(at: 2) == "repeat step 2 4 more time(s)")
    }

    @Test func stepsAreTheSameOnlyWithTheSameKindAndFields() throws {
        let a = PlannedStep(action: SleepStep(microseconds: 1), backend: "b")
        #expect(a == PlannedStep(action: SleepStep(microseconds: 1), backend: "b"))
        #expect(a != PlannedStep(action: SleepStep(microseconds: 2), backend: "b"))
        #expect(a != PlannedStep(action: WaitMemoryZeroStep(address: 0, microseconds: 1), backend: "b"))
        #expect(a != PlannedStep(action: SleepStep(microseconds: 1), backend: "b", isTrigger: true))
    }

    @Test func aNotificationNeverRunsUnrouted() async throws {
        var performer = StepPerformer(
            target: InjectionTarget(root: "/nonexistent"), files: AttributeFiles(root: "/nonexistent"))
        do {
            _ = try await NotifyStep(backend: "nmi", assignments: []).perform(hint: nil, with: &performer)
            Issue.record("an unrouted notification ran")
        } catch {
            #expect(error.description.contains("not routed by the planner"))
        }
        do {
            _ = try await QMPStep(command: "inject-nmi", arguments: nil).perform(hint: nil, with: &performer)
            Issue.record("QMP without a monitor ran")
        } catch {
            #expect(error == .noQMP(command: "inject-nmi"))
        }
    }
}

/// The journal's records: typed kinds and results on the wire as before, an outcome tied to its intent.
@Suite struct JournalRecordTests {
    @Test func anOutcomeKeepsItsIntentsIdAndDropsTheSteps() throws {
        let plan = InjectionPlan(
            backend: "mce", parameters: [], steps: [PlannedStep(action: SleepStep(microseconds: 1), backend: "mce")],
            expectations: [], confirmationReasons: [], outcome: .logged)
        let intent = JournalRecord.intent(of: plan, on: InjectionTarget(root: "/t"))
        #expect(
            intent.kind == .intent && intent.steps == ["sleep 1 us"] && intent.expect == "logged"
                && intent.target == "root /t")
        let outcome = intent.outcome(.failed, error: "boom")
        #expect(outcome.id == intent.id && outcome.kind == .outcome && outcome.steps == nil)
        #expect(outcome.outcome == .failed && outcome.error == "boom")
        let line = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        #expect(line.contains("\"kind\":\"outcome\"") && line.contains("\"outcome\":\"failed\""))
        #expect(try JSONDecoder().decode(JournalRecord.self, from: Data(line.utf8)) == outcome)
    }

    @Test func anUnknownResultIsNotARecord() {
        let line =
            #"{"kind":"outcome","id":"1","time":"t","user":"u","target":"t","backend":"b","parameters":[],"outcome":"maybe"}"#
        #expect((try? JSONDecoder().decode(JournalRecord.self, from: Data(line.utf8))) == nil)
    }
}

/// The coverage matrix, apart from any target.
@Suite struct CoverageMatrixTests {
    typealias Row = CoverageMatrix.Row

    @Test func countsAndFailureFollowTheRows() {
        let matrix = CoverageMatrix(rows: [
            Row(backend: "a", path: "x", state: .ready, reason: ""),
            Row(backend: "a", path: "default injection", state: .pass, reason: ""),
            Row(backend: "b", path: "y", state: .notAvailable, reason: "no"),
        ])
        #expect(matrix.counts == "1 PASS, 0 FAIL, 1 READY, 1 N/A")
        #expect(!matrix.failed)
        #expect(CoverageMatrix(rows: [Row(backend: "a", path: "x", state: .fail, reason: "")]).failed)
    }

    @Test func kernelsSideBySideKeepEveryRowAndTheFirstReasonWorthReading() {
        let old = CoverageMatrix(rows: [Row(backend: "edac", path: "mc0", state: .notAvailable, reason: "no ghes_edac")]
        )
        let new = CoverageMatrix(rows: [
            Row(backend: "edac", path: "mc0", state: .ready, reason: "ghes_edac"),
            Row(backend: "cxl", path: "qemu", state: .ready, reason: "QMP"),
        ])
        let rows = CoverageMatrix.sideBySide([old, new])
        #expect(rows.map(\.path) == ["mc0", "qemu"])
        #expect(rows[0].states == [.notAvailable, .ready] && rows[0].reason == "no ghes_edac")
        #expect(rows[1].states == [nil, .ready] && rows[1].reason == "QMP")
    }
}
