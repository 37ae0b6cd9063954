import Foundation
import InjectTestSupport
import Testing

/// `expect=` on requests and campaign steps: what each outcome adds to a plan, and what is refused
/// before anything runs.
@Suite("expected outcomes")
struct ExpectedOutcomeTests {
    /// The dry-run JSON plan for `inject run mce ARGUMENTS`.
    func plan(_ arguments: [String]) throws -> [String: Any] {
        let result = try TestSupport.inject(
            ["run", "mce"] + arguments + ["--dry-run", "--json", "--root", "/nonexistent"])
        try #require(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require(json?["plan"] as? [String: Any])
    }

    func expectations(_ plan: [String: Any]) -> [String] {
        ((plan["expectations"] as? [[String: Any]]) ?? []).map {
            "\($0["kind"] ?? "") \($0["source"] ?? "") \($0["match"] ?? "")"
        }
    }

    @Test func offlinedAddsThePoisonFlagAndTheCountOfThePage() throws {
        let plan = try plan(["via=hwpoison", "addr=0x7100000", "expect=offlined"])
        #expect(plan["outcome"] as? String == "offlined")
        let events = expectations(plan)
        // hwpoison's path is memory_failure(): the backend expects its event, once.
        #expect(events.filter { $0.contains("ras:memory_failure_event") }.count == 1, "\(events)")
        #expect(events.contains("page /proc/kpageflags 0x7100"), "\(events)")
        #expect(events.contains("counter proc/meminfo#HardwareCorrupted "), "\(events)")
        // A corrected error reaches the page only through a policy's soft offline (the kernel's
        // collector): no memory_failure() is asked for, the page's flag and count are.
        let corrected = expectations(
            try self.plan(["severity=corrected", "addr=0x2345000", "misc=0x8c", "expect=offlined"]))
        #expect(!corrected.contains { $0.contains("memory_failure") }, "\(corrected)")
        #expect(corrected.contains("page /proc/kpageflags 0x2345"), "\(corrected)")
    }

    @Test func recoveredAsksForTheKernelsRecoveryOfTheRequestsPage() throws {
        let events = expectations(try plan(["severity=corrected", "addr=0x2345000", "expect=recovered"]))
        #expect(events.contains("trace ras:memory_failure_event pfn=0x2345 result=Recovered"), "\(events)")
        // Without an address there is no page to ask about: the backend's events only.
        let plain = expectations(try plan(["severity=corrected", "expect=recovered"]))
        #expect(!plain.contains { $0.contains("memory_failure") }, "\(plain)")
    }

    @Test func anActionOptionalRecordThroughQEMUExpectsItsPageTakenInsteadOfALogLine() throws {
        let events = expectations(
            try plan([
                "via=qemu", "severity=srao", "mca_code=0xc0", "misc=0x8c", "addr=0x7000000", "--qmp",
                "/nonexistent.sock",
            ]))
        #expect(events.contains("trace ras:memory_failure_event pfn=0x7000"), "\(events)")
        #expect(
            !events.contains { $0.hasPrefix("dmesg") }, "an action-optional error is handled, not printed: \(events)")
        // MISC without a physical address mode leaves the address unusable: printed, no page taken.
        let unusable = expectations(
            try plan([
                "via=qemu", "severity=srao", "mca_code=0xc0", "misc=0x0c", "addr=0x7000000", "--qmp",
                "/nonexistent.sock",
            ]))
        #expect(
            !unusable.contains { $0.contains("memory_failure") } && unusable.contains { $0.hasPrefix("dmesg") },
            "\(unusable)")
    }

    @Test func panicNeedsYesAndIsShownInTheDryRun() throws {
        let text = try TestSupport.inject([
            "run", "mce", "via=qemu", "severity=corrected", "expect=panic:Fatal machine check", "--qmp",
            "/nonexistent.sock", "--dry-run",
        ])
        #expect(
            text.stdout.contains(
                "expected outcome: panic:Fatal machine check (kernel panic with 'Fatal machine check')"),
            "\(text.stdout)")
        #expect(text.stdout.contains("needs --yes: expect=panic:Fatal machine check"), "\(text.stdout)")
        let refused = try TestSupport.inject([
            "run", "mce", "severity=corrected", "expect=panic", "--root", "/nonexistent",
        ])
        #expect(refused.status == 4 && refused.stderr.contains("expect=panic"), "\(refused.stderr)")
    }

    @Test func badOutcomesAreRefusedNamingTheSpellings() throws {
        for bad in ["expect=sometimes", "expect=", "expect=panic:"] {
            let result = try TestSupport.inject(["run", "mce", bad, "--dry-run", "--root", "/nonexistent"])
            #expect(result.status == 64, "\(bad)")
            #expect(
                result.stderr.contains("logged, recovered, offlined, sigbus, panic, panic:TEXT")
                    && result.stderr.contains("policy:kernel or policy:rasdaemon"),
                "\(bad): \(result.stderr)")
        }
        let noPage = try TestSupport.inject(["run", "mce", "expect=offlined", "--dry-run", "--root", "/nonexistent"])
        #expect(noPage.status == 64 && noPage.stderr.contains("expect=offlined needs the page"), "\(noPage.stderr)")
        let noPolicyPage = try TestSupport.inject(
            ["run", "mce", "expect=policy:kernel", "--dry-run", "--root", "/nonexistent"])
        #expect(
            noPolicyPage.status == 64 && noPolicyPage.stderr.contains("expect=policy:kernel needs the page"),
            "\(noPolicyPage.stderr)")
        // `inject info` takes the whole request, expect= included.
        #expect(try TestSupport.inject(["info", "mce", "expect=panic"]).status == 0)
    }

    @Test func caseFilesBecomeOneStepEachWithTheirDeclaredOutcome() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let root = directory.appendingPathComponent("soft-inj")
        for (name, text) in [
            ("a/data/corrected", "CPU 0 BANK 1\nSTATUS CORRECTED\n"),
            (
                "b/data/srao",
                "# expect: offlined\nCPU 0 BANK 2\nSTATUS UNCORRECTED SRAO 0xc0\nADDR 0x7100000\nMISC 0x8c\n"
            ),
            ("b/data/.hidden", "not a case"), ("c/cases.sh", "#!/bin/sh\n"),
        ] {
            let file = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
        let scenario = directory.appendingPathComponent("campaign.json")
        try Data(
            #"{"name": "cases", "steps": [{"backend": "mce", "cases": "soft-inj/*/data", "expect": "logged", "parameters": {"via": "qemu"}}]}"#
                .utf8
        ).write(to: scenario)
        let qemu = ["--qmp", "/nonexistent.sock", "--root", "/nonexistent"]
        let result = try TestSupport.inject(["campaign", scenario.path, "--dry-run", "--json"] + qemu)
        try #require(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]], "\(json)")
        #expect(
            steps.map { $0["name"] as? String } == ["soft-inj/a/data/corrected", "soft-inj/b/data/srao"], "\(steps)")
        #expect(
            steps.map { $0["expect"] as? String } == ["logged", "offlined"], "the file's own comment wins: \(steps)")

        // A symbolic link among the cases is refused, naming it.
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("a/data/link").path, withDestinationPath: "/etc/passwd")
        let linked = try TestSupport.inject(["campaign", scenario.path, "--dry-run"] + qemu)
        #expect(linked.status == 64 && linked.stderr.contains("a/data/link is a symbolic link"), "\(linked.stderr)")
        try FileManager.default.removeItem(atPath: root.appendingPathComponent("a/data/link").path)
        // Through the debugfs injector the kernel takes no page: offlined cannot be checked, and is refused.
        try Data(#"{"steps": [{"backend": "mce", "cases": "soft-inj/b/data"}]}"#.utf8).write(to: scenario)
        let debugfs = try TestSupport.inject(["campaign", scenario.path, "--dry-run", "--root", "/nonexistent"])
        #expect(debugfs.status == 64 && debugfs.stderr.contains("expect=offlined needs the page"), "\(debugfs.stderr)")
        try Data(
            #"{"name": "cases", "steps": [{"backend": "mce", "cases": "soft-inj/*/data", "parameters": {"via": "qemu"}}]}"#
                .utf8
        ).write(to: scenario)
        // A bad outcome in a case file is named with its line.
        try Data("CPU 0\n# expect: maybe\n".utf8).write(to: root.appendingPathComponent("a/data/corrected"))
        let bad = try TestSupport.inject(["campaign", scenario.path, "--dry-run"] + qemu)
        #expect(bad.status == 64 && bad.stderr.contains("a/data/corrected:2: 'maybe' is not logged"), "\(bad.stderr)")
        // A case that declares a panic cannot be counted.
        try Data("# expect: panic\nCPU 0\nSTATUS FATAL\n".utf8).write(
            to: root.appendingPathComponent("a/data/corrected"))
        try Data(
            #"{"steps": [{"backend": "mce", "cases": "soft-inj/a/data", "verify": "count", "parameters": {"via": "qemu"}}]}"#
                .utf8
        ).write(to: scenario)
        let counted = try TestSupport.inject(["campaign", scenario.path, "--dry-run"] + qemu)
        #expect(
            counted.status == 64
                && counted.stderr.contains("a/data/corrected expects panic, which is verified each time"),
            "\(counted.stderr)")
        // A pattern that matches nothing says so.
        try Data(#"{"steps": [{"backend": "mce", "cases": "nothing/*"}]}"#.utf8).write(to: scenario)
        let none = try TestSupport.inject(["campaign", scenario.path, "--dry-run", "--root", "/nonexistent"])
        #expect(none.status == 64 && none.stderr.contains("'nothing/*' matches no file"), "\(none.stderr)")
    }

    @Test func sigbusTakesTheAddressFromItsVictim() throws {
        // The dry run says where the address will come from, and starts nothing.
        let dry = try TestSupport.inject([
            "run", "mce", "via=hwpoison", "pfn=0x1", "expect=sigbus", "--dry-run", "--root", "/nonexistent",
        ])
        #expect(
            dry.status == 0 && dry.stdout.contains("a victim process started in the target first holds a page"),
            "\(dry.stdout)\(dry.stderr)")
        // An address given by the user would not be the victim's page.
        let given = try TestSupport.inject([
            "run", "mce", "via=hwpoison", "addr=0x5000", "expect=sigbus", "--yes", "--root", "/nonexistent",
        ])
        #expect(
            given.status == 64
                && given.stderr.contains("expect=sigbus gives addr= the victim's page: leave addr unset"),
            "\(given.stderr)")
        // A file tree has no kernel to run a victim in.
        let tree = try TestSupport.inject([
            "run", "mce", "via=hwpoison", "expect=sigbus", "--yes", "--root", "/nonexistent",
        ])
        #expect(tree.status == 64 && tree.stderr.contains("a --root tree has none"), "\(tree.stderr)")
    }

    @Test func aStepThatExpectsAPanicIsNotCounted() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let scenario = directory.appendingPathComponent("campaign.json")
        try Data(#"{"steps": [{"backend": "mce", "expect": "panic", "verify": "count"}]}"#.utf8).write(to: scenario)
        let result = try TestSupport.inject(["campaign", scenario.path, "--dry-run", "--root", "/nonexistent"])
        #expect(result.status == 64 && result.stderr.contains("verified each time"), "\(result.stderr)")
    }
}
