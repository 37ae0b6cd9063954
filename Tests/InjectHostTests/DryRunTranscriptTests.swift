import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// The shipped plugins, loaded from their own .so files, planning and executing against a
/// temporary `--root` tree.
@Suite("Dry-run transcripts and execution against a temporary root")
struct DryRunTranscriptTests {
    static let mceFiles = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"]
        .map { "sys/kernel/debug/mce-inject/\($0)" }

    func session(root: URL, qmp: String? = nil, environment: [String: String] = [:]) throws -> InjectSession {
        var options = InjectSession.Options(environment: environment)
        options.executableDirectory = TestSupport.productsDirectory.path
        options.target = InjectionTarget(root: .init(root.path), qmpSocket: qmp)
        return try InjectSession(options)
    }

    @Test func correctedMCEPlanWritesBankLastWithVALENADDRV() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        let session = try session(root: root)
        let plan = try session.plan(
            InjectionRequest("mce", words: ["severity=corrected", "cpu=0", "bank=1", "addr=0x1234000"]))
        let text = PlanRenderer.render(plan, root: .init(root.path))
        let base = root.path + "/sys/kernel/debug/mce-inject/"
        let expected = [
            "  1. write \(base)flags = \"sw\\n\"",
            "  2. write \(base)cpu = \"0\"",
            "  3. write \(base)status = \"0x940000000000009f\"",
            "  4. write \(base)misc = \"0x0\"",
            "  5. write \(base)addr = \"0x1234000\"",
            "  6. write \(base)synd = \"0x0\"",
            "  7. write \(base)bank = \"1\"  [trigger]",
        ]
        let stepLines = text.split(separator: "\n").map(String.init).filter {
            $0.hasPrefix("  ") && $0.contains(". write ")
        }
        #expect(stepLines == expected)
        #expect(text.contains("trace mce:mce_record bank=1 status=0x940000000000009f"))
        #expect(TestSupport.read(root, Self.mceFiles[2]) == "", "a dry run must not write")

        let results = try await Executor(target: session.options.target).execute(plan)
        #expect(results.count == 7)
        let written = try #require(TestSupport.read(root, "sys/kernel/debug/mce-inject/status"))
        let status = try #require(UInt64(written.dropFirst(2), radix: 16))
        #expect(status & (1 << 63) != 0 && status & (1 << 60) != 0 && status & (1 << 58) != 0, "VAL, EN and ADDRV set")
        #expect(status & (1 << 61) == 0, "UC clear")
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/flags") == "sw\n")
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "1")
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/ipid") == "", "ipid unset: not written")
    }

    @Test func uncorrectedRequestsNeedYesAndWriteNothingWithout() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        let session = try session(root: root)
        let plan = try session.plan(InjectionRequest("mce", words: ["severity=srar", "addr=0x1000"]))
        #expect(!plan.confirmationReasons.isEmpty)
        let injector = Injector(session: session, journal: nil, confirmed: false)
        await #expect(throws: InjectError.confirmationRequired(backend: "mce", reasons: plan.confirmationReasons)) {
            _ = try await injector.perform(plan)
        }
        #expect(Self.mceFiles.allSatisfy { TestSupport.read(root, $0) == "" })
    }

    @Test func aMissingModuleFailsWithTheHintAndKeepsTheTriggerUnwritten() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Array(Self.mceFiles.prefix(3)) + ["sys/kernel/debug/mce-inject/bank"])
        let session = try session(root: root)
        let plan = try session.plan(InjectionRequest("mce", words: []))
        do throws(InjectError) {
            _ = try await Executor(target: session.options.target).execute(plan)
            Issue.record("missing misc file not reported")
        } catch {
            #expect(error.description.contains("mce-inject/misc does not exist"))
            #expect(error.description.contains("modprobe mce-inject"))
        }
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "", "the trigger must not be written")
    }

    @Test func notificationsAreRoutedThroughTheHost() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let session = try session(root: root, qmp: "/nonexistent.sock")
        let plan = try session.plan(
            InjectionRequest("ghes", words: ["block_address=0x10000000", "address=0x2000", "notify=nmi"]))
        #expect(plan.steps.map(\.backend) == ["ghes", "ghes", "nmi"])
        #expect(
            plan.steps[0].action as? WaitMemoryZeroStep
                == WaitMemoryZeroStep(address: 0x1000_0000, microseconds: 5_000_000),
            "the previous record must be consumed first")
        guard let memory = plan.steps[1].action as? WriteMemoryStep, memory.address == 0x1000_0000 else {
            Issue.record("no memory step")
            return
        }
        #expect(memory.bytes.count == 20 + 72 + 80)
        #expect(plan.steps[2].action as? QMPStep == QMPStep(command: "inject-nmi", arguments: nil))
        // The environment configures the routed backend too.
        let viaSysrq = try self.session(root: root, environment: ["INJECT_NMI_VIA": "sysrq"])
            .plan(InjectionRequest("ghes", words: ["block_address=0x10000000", "notify=nmi"]))
        #expect(
            viaSysrq.steps[2].action as? WriteAttributeStep
                == WriteAttributeStep(path: try TargetPath("proc/sysrq-trigger"), value: "l"))
    }

    @Test func probeReadsTheTargetThroughHostServices() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(
            root,
            files: Self.mceFiles + [
                "sys/devices/system/machinecheck/machinecheck0/bank0",
                "sys/devices/system/machinecheck/machinecheck0/bank1",
                "sys/devices/system/cpu/online", "proc/cpuinfo",
            ])
        try "0-3\n".write(
            to: root.appendingPathComponent("sys/devices/system/cpu/online"), atomically: true, encoding: .utf8)
        try "processor\t: 0\nvendor_id\t: AuthenticAMD\n".write(
            to: root.appendingPathComponent("proc/cpuinfo"), atomically: true, encoding: .utf8)
        let found = Dictionary(
            uniqueKeysWithValues: try session(root: root).probe(backend: "mce").map { ($0.name, $0) })
        #expect(found["mce-inject"]?.available == true)
        #expect(found["cpus"]?.detail == "online 0-3")
        #expect(found["banks"]?.detail == "2 banks (0...1)")
        #expect(found["vendor"]?.detail.hasPrefix("AuthenticAMD") == true)
        #expect(found["hwpoison-inject"]?.available == false)
        #expect(found["hwpoison-inject"]?.detail.contains("modprobe hwpoison-inject") == true)
    }

    @Test func unsafePathsAreRefused() {
        #expect(throws: TargetError.unsafePath("/etc/passwd")) { try TargetPath("/etc/passwd") }
        #expect(throws: TargetError.unsafePath("a/../b")) { try TargetPath("a/../b") }
        #expect(throws: TargetError.unsafePath("a//b")) { try TargetPath("a//b") }
        #expect(throws: Never.self) { try TargetPath("sys/kernel/debug/mce-inject/bank") }
    }
}
