import Foundation
import InjectTestSupport
import Testing

/// Bad input as a careless user and an attacker would give it: each gets a one-line reason and
/// the documented exit code, and nothing is half-applied.
@Suite("hardening")
struct HardeningTests {
    static let mceFiles = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].map {
        "sys/kernel/debug/mce-inject/\($0)"
    }

    @Test func replayIsValidatedLikeTheParametersItSets() throws {
        func run(_ words: [String]) throws -> TestSupport.ProcessResult {
            try TestSupport.inject(["run", "mce"] + words + ["--dry-run", "--root", "/nonexistent"])
        }
        let cpu = try run(["replay=CPU 99999: Machine Check: 0 Bank 4: 9c00000000000000"])
        #expect(cpu.status == 64 && cpu.stderr.contains("CPU 99999 is outside 0...8191"), "\(cpu.stderr)")
        let bank = try run(["replay=CPU 1: Machine Check: 0 Bank 4555268897183594738: 9c00000000000000"])
        #expect(bank.status == 64 && bank.stderr.contains("outside 0...63"), "\(bank.stderr)")
        let both = try run(["cpu=5", "replay=CPU 1: Machine Check: 0 Bank 4: 9c00000000000000"])
        #expect(both.status == 64 && both.stderr.contains("give either replay or cpu"), "\(both.stderr)")
        let wide = try run(["replay=CPU 1: Machine Check: 0 Bank 4: 9c00000000000000 ADDR 12345678901234567890"])
        #expect(
            wide.status == 64
                && wide.stderr.contains("ADDR '12345678901234567890' is not a hex number of at most 64 bits"),
            "\(wide.stderr)")
        let garbage = try run(["replay=CPU 0 fine"])
        #expect(garbage.status == 64 && garbage.stderr.contains("Machine Check"))
        // What is written is what the replayed line says, and the listing says so.
        let good = try run(["replay=CPU 2: Machine Check: 0 Bank 4: 9c00000000010135 ADDR 1234000"])
        #expect(
            good.status == 0 && good.stdout.contains("replayed from the kernel log: CPU 2, bank 4, ADDR 0x1234000"),
            "\(good.stdout)")
    }

    @Test func anEmptyRootOrJournalIsRefusedBeforeAnything() throws {
        let root = try TestSupport.inject(["run", "nmi", "via=sysrq", "--root", ""])
        #expect(root.status == 64 && root.stderr.contains("--root is empty"), "\(root.stderr)")
        let journal = try TestSupport.inject(["run", "nmi", "--journal", "", "--dry-run"])
        #expect(journal.status == 64 && journal.stderr.contains("--journal is empty"), "\(journal.stderr)")
    }

    @Test func journalProblemsNameTheJournalAndTheWaysOut() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        for bad in ["/dev/full", root.path] {
            let result = try TestSupport.inject(["run", "mce", "--root", root.path, "--journal", bad])
            #expect(result.status == 6, "\(bad): \(result.status) \(result.stderr)")
            #expect(
                result.stderr.contains("journal \(bad)") && result.stderr.contains("--journal FILE")
                    && result.stderr.contains("--no-journal"))
            #expect(
                TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "",
                "nothing is injected without a journal")
        }
        // An explicit --journal wins over INJECT_JOURNAL=off.
        let file = root.appendingPathComponent("explicit.jsonl").path
        let explicit = try TestSupport.inject(
            ["run", "mce", "--root", root.path, "--journal", file], environment: ["INJECT_JOURNAL": "off"])
        #expect(explicit.status == 0, "\(explicit.stderr)")
        #expect(((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").count == 2)
    }

    /// A disk that fills between the intent and the outcome: the outcome is cut back off, the run
    /// says so with exit 6, and the next run's records stand on their own lines.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskNeverLeavesAPartialRecord() throws {
        let root = try TestSupport.temporaryDirectory()
        let mount = try TestSupport.temporaryDirectory("inject-full")
        defer {
            _ = try? TestSupport.run("/bin/umount", [mount.path])
            TestSupport.remove(mount)
            TestSupport.remove(root)
        }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        // Learn the sizes of an intent and an outcome for this request on an ordinary disk.
        let line = "mce: [Hardware Error]: CPU 1: Machine Check: 0 Bank 2: 9c00000000000000"
        func run(_ journal: String, padding: Int) throws -> TestSupport.ProcessResult {
            try TestSupport.inject([
                "run", "mce", "replay=\(line) " + String(repeating: "x", count: padding), "--root", root.path,
                "--journal", journal,
            ])
        }
        let probe = root.appendingPathComponent("probe.jsonl").path
        #expect(try run(probe, padding: 0).status == 0)
        let lines = try String(contentsOfFile: probe, encoding: .utf8).split(separator: "\n")
        let (intent, outcome) = (lines[0].utf8.count + 1, lines[1].utf8.count + 1)
        // One free page: the padded intent fits it, the outcome does not.
        let padding = 4096 - intent - outcome / 2
        #expect(try TestSupport.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", mount.path]).status == 0)
        try Data(count: 4096).write(to: mount.appendingPathComponent("filler"))
        let journal = mount.appendingPathComponent("journal.jsonl").path
        let full = try run(journal, padding: padding)
        #expect(full.status == 6, "\(full.status): \(full.stderr)")
        #expect(full.stderr.contains("the injection ran (ok) but its outcome could not be written"), "\(full.stderr)")
        let kept = try String(contentsOfFile: journal, encoding: .utf8)
        #expect(kept.hasSuffix("\n") && kept.split(separator: "\n").count == 1, "only the whole intent is left")
        let shown = try TestSupport.inject(["journal", "--journal", journal])
        #expect(
            shown.stdout.contains("unfinished") && !shown.stderr.contains("not journal records"),
            "\(shown.stdout)\(shown.stderr)")
        // Room again: the next run is journaled whole, on lines of its own.
        try FileManager.default.removeItem(at: mount.appendingPathComponent("filler"))
        #expect(try run(journal, padding: 0).status == 0)
        let after = try TestSupport.inject(["journal", "--journal", journal, "--json"])
        let runs = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]]
        #expect(runs?.count == 2 && runs?.last?["outcome"] != nil)
    }

    @Test func decodeShowsTheBytesAsGivenAndFlagsWhatIsInvalid() throws {
        let plan = try TestSupport.inject([
            "run", "ghes", "block_address=0x1000", "address=0x2000", "--dry-run", "--json", "--root", "/nonexistent",
        ])
        let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let steps = try #require((json?["plan"] as? [String: Any])?["steps"] as? [[String: Any]])
        var hex = try #require(steps.first { $0["kind"] as? String == "memory" }?["bytes"] as? String)
        // Block status 0x0000ffff, block severity 7, entry severity 7.
        hex =
            "ffff0000" + hex.dropFirst(8).prefix(24) + "07000000" + hex.dropFirst(40).prefix(32) + "07000000"
            + hex.dropFirst(80)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString).hex")
        defer { try? FileManager.default.removeItem(at: file) }
        try hex.write(to: file, atomically: true, encoding: .utf8)
        let decoded = try TestSupport.inject(["decode", "cper", file.path])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        for text in [
            "block status: 0xffff (1023 entries claimed", "severity: 7 (undefined)",
            "INVALID: block status claims 1023 entries, 1 present",
            "INVALID: block severity 7 is not defined", "INVALID: entry 0 severity 7 is not defined",
            "entry 0: platform memory error, severity 7 (undefined)",
        ] {
            #expect(decoded.stdout.contains(text), "missing '\(text)' in\n\(decoded.stdout)")
        }
    }

    @Test func configFilesAreReadStrictlyAndNamesIgnoreCase() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        func info(_ json: String) throws -> TestSupport.ProcessResult {
            let file = directory.appendingPathComponent("config-\(UUID().uuidString).json")
            try json.write(to: file, atomically: true, encoding: .utf8)
            return try TestSupport.inject(["info", "mce", "--config", file.path])
        }
        let misspelt = try info(#"{"require_pined": true}"#)
        #expect(
            misspelt.status == 64 && misspelt.stderr.contains("unknown key 'require_pined'")
                && misspelt.stderr.contains("require_pinned"), "\(misspelt.stderr)")
        let twice = try info(#"{"backends": {"mce": {"cpu": 1, "cpu": 2}}}"#)
        #expect(twice.status == 64 && twice.stderr.contains("'backends.mce.cpu' is given twice"), "\(twice.stderr)")
        let huge = try info(#"{"backends": {"mce": {"status": 18446744073709551616}}}"#)
        #expect(huge.status == 64 && huge.stderr.contains("beyond 64 bits"), "\(huge.stderr)")
        let upper = try info(#"{"backends": {"MCE": {"CPU": 3}}}"#)
        #expect(upper.status == 0 && upper.stdout.contains("config file"), "\(upper.stderr)")
        #expect(
            upper.stdout.split(separator: "\n").contains { $0.hasPrefix("cpu ") && $0.contains(" 3 ") },
            "\(upper.stdout)")
    }

    @Test func numbersBytesAndCPUListsHaveOneStrictSyntax() throws {
        for bad in ["1_000", "_1", "0x_1", "0x+1", "+1", "0x", ""] {
            let result = try TestSupport.inject(["run", "mce", "addr=\(bad)", "--dry-run", "--root", "/nonexistent"])
            #expect(
                result.status == 64 && result.stderr.contains("decimal digits (4096) or 0x and hex digits (0x1000)"),
                "'\(bad)': \(result.stderr)")
        }
        for bad in ["", ":", "0x", "0xg1"] {
            let result = try TestSupport.inject([
                "run", "ghes", "section=vendor", "data=\(bad)", "--dry-run", "--root", "/nonexistent",
            ])
            #expect(result.status == 64 && result.stderr.contains("at least one byte"), "'\(bad)': \(result.stderr)")
        }
    }

    @Test func aStormOfEDACRecordsIsOneRepeatStep() throws {
        let started = Date()
        let result = try TestSupport.inject([
            "run", "edac", "via=ghes", "count=65535", "block_address=0x1000", "--dry-run", "--root", "/nonexistent",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count < 60, "\(result.stdout.split(separator: "\n").count) lines")
        #expect(result.stdout.contains("65534 more time(s)"), "\(result.stdout)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func smallThingsANewUserMeets() throws {
        // `--lab NAME` works for `lab exec` as everywhere else.
        let exec = try TestSupport.inject(["lab", "exec", "--lab", "nosuchlab", "--", "true"])
        #expect(exec.status == 2 && exec.stderr.contains("no lab named 'nosuchlab'"), "\(exec.stderr)")
        // The environment variable `info` names is one that works.
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let plugin = directory.appendingPathComponent("libhtypes.so")
        try TestSupport.compileCPlugin(
            "Tests/Fixtures/plugins/fixture.c", to: plugin, defines: ["FIXTURE_NAME=\"h-types\""])
        let info = try TestSupport.inject(["info", "h-types", "--plugin-path", plugin.path])
        #expect(
            info.stdout.contains("INJECT_H_TYPES_<NAME>") && !info.stdout.contains("INJECT_H-TYPES"), "\(info.stdout)")
        let set = try TestSupport.inject(
            ["info", "h-types", "--plugin-path", plugin.path], environment: ["INJECT_H_TYPES_LEVEL": "4"])
        #expect(
            set.stdout.split(separator: "\n").contains { $0.hasPrefix("level") && $0.contains(" 4 ") }, "\(set.stdout)")
    }
}
