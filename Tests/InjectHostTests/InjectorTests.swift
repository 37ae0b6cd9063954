import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// The one owner of an injection: confirmation, the declared outcome, the victim, the journal's
/// records, against a temporary `--root` tree with the shipped mce plugin.
@Suite("Injector")
struct InjectorTests {
    static let mceFiles = DryRunTranscriptTests.mceFiles

    /// The shipped plugins against `root`, as the dry-run transcripts set them up.
    func session(_ root: URL) throws -> InjectSession { try DryRunTranscriptTests().session(root: root) }

    /// A tree with mce-inject's files, a journal path beside it, and the session.
    func fixture() throws -> (root: URL, journal: Journal, session: InjectSession) {
        let root = try TestSupport.temporaryDirectory()
        try TestSupport.makeTree(root, files: Self.mceFiles)
        let journal = try Journal(path: root.appendingPathComponent("journal.jsonl").path)
        return (root, journal, try session(root))
    }

    @Test func anUnconfirmedRequestIsRefusedBeforeItsIntentIsWritten() async throws {
        let (root, journal, session) = try fixture()
        defer { TestSupport.remove(root) }
        let injector = Injector(session: session, journal: journal, confirmed: false)
        let prepared = try await injector.prepare(InjectionRequest("mce", words: ["severity=srar", "addr=0x1000"]))
        await #expect(
            throws: InjectError.confirmationRequired(backend: "mce", reasons: prepared.plan.confirmationReasons)
        ) {
            _ = try await injector.perform(prepared)
        }
        #expect(try Journal.read(journal.path).records.isEmpty, "nothing journaled")
        #expect(Self.mceFiles.allSatisfy { TestSupport.read(root, $0) == "" }, "nothing written")
    }

    @Test func anInjectionJournalsItsIntentThenItsTypedOutcome() async throws {
        let (root, journal, session) = try fixture()
        defer { TestSupport.remove(root) }
        let injector = Injector(session: session, journal: journal, confirmed: false)
        let outcome = try await injector.perform(
            injector.prepare(InjectionRequest("mce", words: ["bank=2", "expect=logged"])))
        #expect(outcome.results.count == 7 && outcome.findings == nil && outcome.panic == nil)
        let records = try Journal.read(journal.path).records
        #expect(records.map(\.kind) == [.intent, .outcome])
        #expect(records[0].id == records[1].id && records[0].steps?.count == 7 && records[1].steps == nil)
        #expect(records[1].outcome == .ok && records[0].expect == "logged")
        #expect(records[0].parameters.contains("bank=2"))
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "2")
    }

    @Test func aFailedStepIsJournaledAsFailedWithItsError() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Array(Self.mceFiles.prefix(3)))
        let journal = try Journal(path: root.appendingPathComponent("journal.jsonl").path)
        let injector = Injector(session: try session(root), journal: journal, confirmed: false)
        let prepared = try await injector.prepare(InjectionRequest("mce", words: []))
        await #expect(throws: InjectError.self) { _ = try await injector.perform(prepared) }
        let records = try Journal.read(journal.path).records
        #expect(records.map(\.kind) == [.intent, .outcome] && records[1].outcome == .failed)
        #expect(records[1].error?.contains("does not exist") == true, "\(records)")
    }

    @Test func aVictimNeedsAKernelATreeHasNone() async throws {
        let (root, _, session) = try fixture()
        defer { TestSupport.remove(root) }
        let injector = Injector(session: session, journal: nil, confirmed: true)
        let request = try InjectionRequest("mce", words: ["via=qemu", "severity=srao", "expect=sigbus"])
        do throws(InjectError) {
            _ = try await injector.prepare(request)
            Issue.record("a victim was started for a --root tree")
        } catch {
            guard case .invalidRequest(_, let message) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(message.contains("expect=sigbus starts a process where the kernel is"))
        }
    }

    @Test func theResultFollowsThePanicAndTheFindings() {
        let panic = GuestPanic(message: "Kernel panic - not syncing: x", noticedBy: "test", console: "")
        let seen = Verifier.Finding(kind: .trace, expected: "e", matched: true)
        let missed = Verifier.Finding(kind: .dmesg, expected: "l", matched: false)
        func outcome(_ findings: [Verifier.Finding]?, _ panic: GuestPanic?) -> Injector.Outcome {
            Injector.Outcome(results: [], findings: findings, panic: panic)
        }
        #expect(Injector.result(of: outcome(nil, nil), declared: nil) == .ok)
        #expect(Injector.result(of: outcome([seen], nil), declared: nil) == .ok)
        #expect(Injector.result(of: outcome([seen, missed], nil), declared: nil) == .unverified)
        #expect(Injector.result(of: outcome(nil, panic), declared: nil) == .panicked)
        #expect(Injector.result(of: outcome(nil, panic), declared: .panic(message: nil)) == .ok)
        #expect(Injector.result(of: outcome([missed], panic), declared: .panic(message: nil)) == .unverified)
    }
}

/// `expect=` is parsed once, where the request is made, into its typed outcome.
@Suite struct DeclaredOutcomeTests {
    @Test func wordsTakeExpectOutOfTheBackendsAssignments() throws {
        let request = try InjectionRequest("mce", words: ["bank=1", "expect=panic:machine check"])
        #expect(request.outcome == .panic(message: "machine check"))
        #expect(request.assignments.map(\.name) == ["bank"])
        #expect(request.words == ["bank=1", "expect=panic:machine check"])
        #expect(try request.separatingOutcome() == request, "separating again changes nothing")
    }

    @Test func assignmentsAreSeparatedOnceAndABadOutcomeNamesTheSpellings() throws {
        let given = InjectionRequest("mce", [ParameterAssignment("EXPECT", "offlined"), ParameterAssignment("cpu", 1)])
        #expect(given.outcome == nil)
        let separated = try given.separatingOutcome()
        #expect(separated.outcome == .offlined && separated.assignments.map(\.name) == ["cpu"])
        do {
            _ = try InjectionRequest("mce", words: ["expect=sometimes"]) as InjectionRequest
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(ExpectedOutcome.spellings))
        }
    }
}
