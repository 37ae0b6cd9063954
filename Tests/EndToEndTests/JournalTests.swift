import Foundation
import InjectTestSupport
import Testing

/// The journal: an intent on disk before the trigger, then the outcome; read back and filtered.
@Suite("journal")
struct JournalTests {
    @Test func recordsAreShownWithTheirControlCharactersEscaped() throws {
        let parent = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(parent) }
        // A target root whose name holds a terminal escape sequence (it reaches the journal as is).
        let root = parent.appendingPathComponent("t\u{1b}[2Jx")
        try TestSupport.makeTree(
            root,
            files: ["flags", "cpu", "status", "misc", "addr", "synd", "bank"].map {
                "sys/kernel/debug/mce-inject/\($0)"
            })
        let journal = parent.appendingPathComponent("journal.jsonl").path
        let run = try TestSupport.inject(
            ["run", "mce", "bank=3", "--root", root.path], environment: ["INJECT_JOURNAL": journal])
        #expect(run.status == 0, "\(run.stderr)")
        let shown = try TestSupport.inject(["journal", "--journal", journal])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(!shown.stdout.utf8.contains(0x1B), "an escape byte reached the terminal: \(shown.stdout)")
        #expect(shown.stdout.contains("\\u{1b}[2Jx"), "\(shown.stdout)")
    }

    @Test func intentsAndOutcomesAreJournaledAndFiltered() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let files = ["flags", "cpu", "status", "misc", "addr", "synd", "bank"].map {
            "sys/kernel/debug/mce-inject/\($0)"
        }
        try TestSupport.makeTree(root, files: files)
        let journal = root.appendingPathComponent("state/journal.jsonl").path
        let environment = ["INJECT_JOURNAL": journal]
        let common = ["--root", root.path]

        #expect(try TestSupport.inject(["run", "mce", "bank=3"] + common, environment: environment).status == 0)
        #expect(
            try TestSupport.inject(["run", "mce", "bank=3", "--dry-run"] + common, environment: environment).status == 0
        )
        #expect(
            try TestSupport.inject(["run", "mce", "severity=fatal"] + common, environment: environment).status == 4)
        try FileManager.default.removeItem(atPath: root.path + "/sys/kernel/debug/mce-inject/bank")
        #expect(try TestSupport.inject(["run", "mce", "bank=5"] + common, environment: environment).status == 1)

        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(
            lines.count == 4,
            "two runs, each an intent and an outcome; dry runs and refusals are not journaled:\n\(lines.joined(separator: "\n"))"
        )
        #expect(lines.first?.contains("\"kind\":\"intent\"") == true && lines.first?.contains("bank=3") == true)
        #expect(lines.first?.contains("mce-inject/bank = \\\"3\\\"") == true, "the intent holds the steps")

        let failed = try TestSupport.inject(["journal", "--outcome", "failed", "--json"], environment: environment)
        #expect(failed.status == 0, "\(failed.stderr)")
        let runs = try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]]
        #expect(runs?.count == 1)
        let outcome = runs?.first?["outcome"] as? [String: Any]
        #expect((outcome?["error"] as? String)?.contains("does not exist") == true)
        #expect(((runs?.first?["intent"] as? [String: Any])?["parameters"] as? [String])?.contains("bank=5") == true)

        let table = try TestSupport.inject(["journal", "--backend", "mce", "--last", "1"], environment: environment)
        #expect(table.stdout.contains("1 run(s)") && table.stdout.contains("failed"), "\(table.stdout)")
        #expect(try TestSupport.inject(["journal", "--outcome", "maybe"], environment: environment).status == 64)
    }
}
