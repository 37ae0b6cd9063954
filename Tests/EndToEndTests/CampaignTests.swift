import Foundation
import InjectTestSupport
import Testing

/// Campaigns against a `--root` tree: seeded values, stop conditions, refusal before anything runs,
/// and Ctrl-C leaving the journal consistent.
@Suite("campaigns")
struct CampaignTests {
    func tree() throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        try TestSupport.makeTree(
            root,
            files: ["flags", "cpu", "status", "misc", "addr", "synd", "bank"].map {
                "sys/kernel/debug/mce-inject/\($0)"
            })
        return root
    }

    func scenario(_ root: URL, _ text: String) throws -> String {
        let path = root.appendingPathComponent("scenario.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func seededValuesRepeatAndBadScenariosAreRefusedBeforeAnyInjection() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let file = try scenario(
            root,
            """
            { "seed": 3, "steps": [ { "name": "banks", "backend": "mce", "count": 5, "verify": "none",
              "parameters": { "bank": "choice 1|2|3", "addr": "random 0x1000..0x100000 align 0x1000" } } ] }
            """)
        let journal = root.appendingPathComponent("journal.jsonl").path
        let first = try TestSupport.inject(
            ["campaign", file, "--root", root.path], environment: ["INJECT_JOURNAL": journal])
        #expect(first.status == 0, "\(first.stderr)")
        let runs = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").filter {
            $0.contains("\"kind\":\"intent\"")
        }
        #expect(runs.count == 5)
        let addresses = runs.compactMap { $0.split(separator: "\"").first { $0.hasPrefix("addr=") } }
        #expect(addresses.count == 5 && Set(addresses).count > 1, "random addresses: \(addresses)")
        for address in addresses {
            let value = UInt64(address.dropFirst("addr=0x".count), radix: 16) ?? 0
            #expect(value % 0x1000 == 0 && (0x1000...0x100000).contains(value), "\(address)")
        }
        // The same seed gives the same values.
        try FileManager.default.removeItem(atPath: journal)
        _ = try TestSupport.inject(["campaign", file, "--root", root.path], environment: ["INJECT_JOURNAL": journal])
        let again = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").filter {
            $0.contains("\"kind\":\"intent\"")
        }
        .compactMap { $0.split(separator: "\"").first { $0.hasPrefix("addr=") } }
        #expect(again == addresses)

        // A bad parameter anywhere stops the campaign before the first injection.
        let bad = try scenario(
            root,
            """
            { "steps": [ { "backend": "mce", "count": 2, "parameters": { "bank": "1" } },
                         { "backend": "mce", "count": 2, "parameters": { "bank": "choice 1|2|999" } } ] }
            """)
        try "".write(toFile: root.path + "/sys/kernel/debug/mce-inject/bank", atomically: true, encoding: .utf8)
        let refused = try TestSupport.inject(["campaign", bad, "--root", root.path])
        #expect(refused.status == 64 && refused.stderr.contains("999"), "\(refused.stderr)")
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "")
        let malformed = try scenario(root, "{ \"steps\": [ { \"backend\": \"mce\", \"count\": 0 } ] }")
        let zero = try TestSupport.inject(["campaign", malformed, "--root", root.path])
        #expect(
            zero.status == 64 && zero.stderr.contains("steps[0].count: 0 is outside 1...10000000"), "\(zero.stderr)")
    }

    @Test func ctrlCStopsAfterTheCurrentInjectionAndLeavesTheJournalConsistent() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let file = try scenario(
            root,
            """
            { "steps": [ { "name": "long", "backend": "mce", "count": 1000000, "rate": 2000, "verify": "none", "parameters": { "bank": "2" } } ] }
            """)
        let journal = root.appendingPathComponent("journal.jsonl").path
        let process = Process()
        process.executableURL = TestSupport.injectExecutable
        process.arguments = ["campaign", file, "--root", root.path, "--json"]
        var environment = ProcessInfo.processInfo.environment
        environment["INJECT_JOURNAL"] = journal
        environment["HOME"] = "/nonexistent"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        usleep(800_000)
        process.interrupt()
        // Never hang the suite: a campaign that ignores Ctrl-C is killed after 10 s (and fails below).
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { if process.isRunning { kill(pid, SIGKILL) } }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let step = (report?["steps"] as? [[String: Any]])?.first
        #expect(step?["stopped"] as? String == "interrupted")
        let injected = try #require(step?["injected"] as? Int)
        #expect(injected > 0 && injected < 1_000_000)
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"kind\":\"intent\"") }.count == injected)
        #expect(lines.filter { $0.contains("\"kind\":\"outcome\"") }.count == injected, "every intent has its outcome")
    }

    /// A step of attribute writes runs in batches where the kernel is: the same files as single
    /// injections leave, every intent and outcome journaled; "rate": "max" is accepted, any other
    /// word is refused naming the key.
    @Test func attributeWriteStepsRunInBatchesAndJournalEveryInjection() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let file = try scenario(
            root,
            """
            { "steps": [ { "name": "batched", "backend": "mce", "count": 2500, "rate": "max", "verify": "none",
              "parameters": { "bank": "3", "addr": "0x7000" } } ] }
            """)
        let journal = root.appendingPathComponent("journal.jsonl").path
        let run = try TestSupport.inject(
            ["campaign", file, "--root", root.path, "--json"], environment: ["INJECT_JOURNAL": journal])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let step = try #require((report?["steps"] as? [[String: Any]])?.first)
        #expect(step["injected"] as? Int == 2500 && (step["batches"] as? Int ?? 0) >= 3, "\(step)")
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"kind\":\"intent\"") }.count == 2500)
        #expect(lines.filter { $0.contains("\"kind\":\"outcome\"") && $0.contains("\"outcome\":\"ok\"") }.count == 2500)
        let batched = ["bank", "addr", "status"].map { TestSupport.read(root, "sys/kernel/debug/mce-inject/\($0)") }
        _ = try TestSupport.inject(
            ["run", "mce", "bank=3", "addr=0x7000", "--root", root.path], environment: ["INJECT_JOURNAL": "off"])
        #expect(
            ["bank", "addr", "status"].map { TestSupport.read(root, "sys/kernel/debug/mce-inject/\($0)") } == batched)

        // Every injection of a batch is confirmed, not only the first: a step that can draw an
        // uncorrected severity does not inject it without --yes, and its batch does not run.
        for name in ["flags", "cpu", "status", "misc", "addr", "synd", "bank"] {
            try "".write(
                toFile: root.appendingPathComponent("sys/kernel/debug/mce-inject/\(name)").path, atomically: false,
                encoding: .utf8)
        }
        let mixed = try scenario(
            root,
            """
            { "seed": 1, "steps": [ { "backend": "mce", "count": 40, "verify": "none",
              "parameters": { "severity": "choice corrected|corrected|corrected|srar", "addr": "0x7000" } } ] }
            """)
        let mixedJournal = root.appendingPathComponent("mixed.jsonl").path
        let unconfirmed = try TestSupport.inject(
            ["campaign", mixed, "--root", root.path, "--json"], environment: ["INJECT_JOURNAL": mixedJournal])
        #expect(unconfirmed.status != 0, "\(unconfirmed.stdout)")
        let intents =
            (try? String(contentsOfFile: mixedJournal, encoding: .utf8))?.split(separator: "\n")
            .filter { $0.contains("\"kind\":\"intent\"") } ?? []
        #expect(!intents.contains { $0.contains("severity=srar") }, "an uncorrected injection ran without --yes")
        let unconfirmedStep = (try JSONSerialization.jsonObject(with: Data(unconfirmed.stdout.utf8)) as? [String: Any])
            .flatMap { ($0["steps"] as? [[String: Any]])?.first }
        #expect((unconfirmedStep?["firstError"] as? String)?.contains("needs") == true, "\(unconfirmed.stdout)")

        let fast = try scenario(root, "{ \"steps\": [ { \"backend\": \"mce\", \"rate\": \"fast\" } ] }")
        let refused = try TestSupport.inject(["campaign", fast, "--root", root.path])
        #expect(refused.status == 64 && refused.stderr.contains("steps[0].rate: 'fast'"), "\(refused.stderr)")
    }

    /// A GHES record the OS never consumed is the kernel's loss, said with its reason, not a failed
    /// injection: nothing is written over it.
    @Test func aRecordTheOSDidNotConsumeIsReportedAsTheKernels() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let memory = root.appendingPathComponent("guest.ram").path
        var bytes = [UInt8](repeating: 0, count: 0x4000)
        bytes[0x1000] = 1  // the block's status: the previous record is still there
        try Data(bytes).write(to: URL(fileURLWithPath: memory))
        let file = try scenario(
            root,
            """
            { "steps": [ { "name": "stuck", "backend": "ghes", "count": 1, "verify": "none",
              "parameters": { "block_address": "0x1000", "address": "0x2000", "notify": "poll" } } ] }
            """)
        let run = try TestSupport.inject(
            ["campaign", file, "--root", root.path, "--guest-memory", memory, "--json"],
            environment: ["INJECT_JOURNAL": "off"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let step = try #require(
            ((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["steps"]
                as? [[String: Any]])?.first)
        #expect(step["injected"] as? Int == 0 && step["failed"] as? Int == 0, "\(step)")
        #expect(
            (step["dropReason"] as? String)?.contains("had not consumed the previous record at 0x1000 within 5000 ms")
                == true, "\(step)")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: memory))[0x1000 + 4] == 0,
            "nothing was written over the unconsumed record")
    }
}
