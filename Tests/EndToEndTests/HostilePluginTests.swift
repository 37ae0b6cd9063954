import Foundation
import InjectTestSupport
import Testing

/// Plugins written by an attacker or a careless vendor, built here as real shared objects: each
/// gets its one-line reason and exit status, the other backends keep working beside them, and
/// `--json` output stays JSON.
@Suite("hostile plugins")
struct HostilePluginTests {
    /// A private directory, its own registry cache, and a short time limit for hangs.
    struct Sandbox {
        let directory: URL
        let environment: [String: String]

        init() throws {
            directory = try TestSupport.temporaryDirectory("inject-hostile")
            environment = [
                "INJECT_REGISTRY": directory.appendingPathComponent("registry.json").path,
                "INJECT_PLUGIN_TIME_LIMIT": "2",
            ]
        }

        /// Builds the fixture plugin with `defines` as `name` in a subdirectory `folder`.
        @discardableResult
        func plugin(_ name: String, _ defines: [String], folder: String = "plugins") throws -> URL {
            let target = directory.appendingPathComponent(folder)
            try FileManager.default.createDirectory(
                at: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let file = target.appendingPathComponent("lib\(name).so")
            try TestSupport.compileCPlugin(
                "Tests/Fixtures/plugins/fixture.c", to: file, defines: defines + ["FIXTURE_NAME=\"\(name)\""])
            return file
        }

        func inject(_ arguments: [String], extra: [String: String] = [:]) throws -> TestSupport.ProcessResult {
            try TestSupport.inject(arguments, environment: environment.merging(extra) { $1 })
        }

        var plugins: String { directory.appendingPathComponent("plugins").path }

        /// Builds Tests/Fixtures/plugins/hostile_vendor.c as `vendor/libhostile_vendor.so` (a vendor
        /// library for manifests); the directory.
        func hostileVendor() throws -> URL {
            let vendor = directory.appendingPathComponent("vendor")
            try FileManager.default.createDirectory(
                at: vendor, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let build = try TestSupport.run(
                "/usr/bin/cc",
                [
                    "-shared", "-fPIC", "-Wall", "-Werror", "-o",
                    vendor.appendingPathComponent("libhostile_vendor.so").path,
                    TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/plugins/hostile_vendor.c").path,
                ])
            try #require(build.status == 0, "\(build.stderr)")
            return vendor
        }
    }

    @Test func pluginsThatCrashHangExitOrPrintWhileLoadingAreRefusedAndTheRestLoad() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        try box.plugin("crashctor", ["FIXTURE_IN_CONSTRUCTOR=1"])
        try box.plugin("crashentry", ["FIXTURE_IN_ENTRY=1"])
        try box.plugin("hangctor", ["FIXTURE_IN_CONSTRUCTOR=2"])
        try box.plugin("hangentry", ["FIXTURE_IN_ENTRY=2"])
        try box.plugin("exitctor", ["FIXTURE_IN_CONSTRUCTOR=3"])
        try box.plugin("exitentry", ["FIXTURE_IN_ENTRY=3"])
        try box.plugin("quitctor", ["FIXTURE_IN_CONSTRUCTOR=5"])
        try box.plugin("quitentry", ["FIXTURE_IN_ENTRY=5"])
        try box.plugin("noisy", ["FIXTURE_IN_CONSTRUCTOR=4"])
        try box.plugin("good", [])
        #expect(mkfifo(box.plugins + "/libfifo.so", 0o644) == 0)

        let listed = try box.inject(["list", "--json", "--plugin-path", box.plugins])
        #expect(listed.status == 0, "\(listed.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any], "\(listed.stdout)")
        let names = Set(((report["backends"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["good", "mce", "ghes", "edac", "nmi"]), "\(names)")
        let refused = ((report["refused"] as? [[String: Any]]) ?? []).reduce(into: [String: String]()) {
            $0[URL(fileURLWithPath: $1["path"] as? String ?? "").lastPathComponent] = $1["reason"] as? String
        }
        let expected: [String: [String]] = [
            "libcrashctor.so": ["crashed (SIGSEGV", "constructor"],
            "libcrashentry.so": ["crashed (SIGSEGV", "entry function"],
            "libhangctor.so": ["hung while being scanned", "within 2 s"],
            "libhangentry.so": ["hung while being scanned"],
            "libexitctor.so": ["called exit(0)", "constructor"],
            "libexitentry.so": ["called exit(0)", "entry function"],
            "libquitctor.so": ["ended the scanner with exit status 0", "without describing itself"],
            "libquitentry.so": ["ended the scanner with exit status 0", "without describing itself"],
            "libnoisy.so": ["wrote 20 byte(s) to standard output while being scanned", "hello from a plugin"],
            "libfifo.so": ["is a FIFO, not a regular file"],
        ]
        for (file, words) in expected {
            let reason = refused[file] ?? "not refused"
            #expect(words.allSatisfy { reason.contains($0) }, "\(file): \(reason)")
        }
        // The refusals are remembered: the next command neither rescans nor waits for the hang.
        let started = Date()
        let dry = try box.inject([
            "run", "mce", "cpu=0", "bank=1", "--dry-run", "--root", "/nonexistent", "--plugin-path", box.plugins,
        ])
        #expect(dry.status == 0 && dry.stdout.contains("plan for mce"), "\(dry.stderr)")
        #expect(Date().timeIntervalSince(started) < 2, "a cached hang must not be waited for again")
    }

    @Test func crashesHangsExitsAndNoiseInsidePlanOrProbeEndWithExitThreeAndOneLine() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let cases: [(name: String, defines: [String], command: String, cause: String)] = [
            ("plancrash", ["FIXTURE_IN_PLAN=1"], "run", "plan: crashed (SIGSEGV, invalid memory access)"),
            ("planhang", ["FIXTURE_IN_PLAN=2"], "run", "plan: did not return within 2 s"),
            ("planexit", ["FIXTURE_IN_PLAN=3"], "run", "plan: called exit(0)"),
            ("probecrash", ["FIXTURE_IN_PROBE=1"], "probe", "probe: crashed (SIGSEGV"),
            ("probehang", ["FIXTURE_IN_PROBE=2"], "probe", "probe: did not return within 2 s"),
            ("probeexit", ["FIXTURE_IN_PROBE=3"], "probe", "probe: called exit(0)"),
            // Endings no handler inside the process sees: the witness process reports them.
            ("planquit", ["FIXTURE_IN_PLAN=5"], "run", "plan: ended the process (exit status 0) instead of returning"),
            ("plangroup", ["FIXTURE_IN_PLAN=6"], "run", "plan: ended the process (exit status 0)"),
            ("plandefault", ["FIXTURE_IN_PLAN=7"], "run", "plan: crashed (SIGSEGV"),
            ("planignore", ["FIXTURE_IN_PLAN=8"], "run", "plan: crashed (SIGSEGV"),
            ("planhandler", ["FIXTURE_IN_PLAN=9"], "run", "plan: ended the process (exit status 0)"),
            ("plankill", ["FIXTURE_IN_PLAN=10"], "run", "plan: was killed (SIGKILL)"),
            ("probequit", ["FIXTURE_IN_PROBE=5"], "probe", "probe: ended the process (exit status 0)"),
        ]
        for entry in cases { try box.plugin(entry.name, entry.defines) }
        try box.plugin("plannoise", ["FIXTURE_IN_PLAN=4"])
        for entry in cases {
            let arguments =
                entry.command == "run"
                ? ["run", entry.name, "--dry-run"] : ["probe", entry.name, "--root", box.directory.path]
            let result = try box.inject(arguments + ["--plugin-path", box.plugins])
            #expect(result.status == 3, "\(entry.name): status \(result.status) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(entry.name): one line, not \(lines.count): \(result.stderr)")
            #expect(
                result.stderr.hasPrefix("inject: plugin \(entry.name) \(entry.cause)")
                    && result.stderr.contains("the plugin is at fault"),
                "\(entry.name): \(result.stderr)")
            #expect(
                !result.stderr.contains("Backtrace") && !result.stderr.contains("Fatal error"),
                "\(entry.name): \(result.stderr)")
        }
        // What a plugin prints goes to standard error; the host's JSON stays JSON.
        let noisy = try box.inject(["run", "plannoise", "--dry-run", "--json", "--plugin-path", box.plugins])
        #expect(noisy.status == 0, "\(noisy.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(noisy.stdout.utf8))) != nil, "\(noisy.stdout)")
        #expect(noisy.stderr.contains("hello from a plugin"))
        // Beside all of them, other backends still plan.
        let mce = try box.inject([
            "run", "mce", "cpu=0", "bank=1", "--dry-run", "--root", "/nonexistent", "--plugin-path", box.plugins,
        ])
        #expect(mce.status == 0, "\(mce.stderr)")
    }

    @Test func aVendorFunctionThatCrashesLeavesAFailedOutcomeInTheJournal() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let vendor = try box.hostileVendor()
        let manifest = """
            {"inject_manifest": 1, "name": "hostile", "version": "1.0", "summary": "misbehaves on request", "library": "libhostile_vendor.so",
             "parameters": [{"name": "act", "type": "u64", "min": 0, "max": 9, "default": "0", "help": "what to do"},
                            {"name": "note", "type": "string", "help": "journaled, not passed"}],
             "call": {"function": "int hostile_inject(uint32_t act)", "arguments": {"act": "act"}}}
            """
        try manifest.write(to: vendor.appendingPathComponent("hostile.inject.json"), atomically: true, encoding: .utf8)
        for (act, cause) in [
            (1, "crashed (SIGSEGV"), (2, "did not return within 2 s"), (3, "called exit(0)"),
            (5, "ended the process (exit status 0)"),
        ] {
            let journal = box.directory.appendingPathComponent("journal-\(act).jsonl").path
            // A long parameter makes the intent (and so the prepared outcome) several KB long.
            let note = String(repeating: "n", count: 6000)
            let result = try box.inject([
                "run", "hostile", "act=\(act)", "note=\(note)", "--journal", journal, "--plugin-path", vendor.path,
            ])
            #expect(result.status == 3, "act \(act): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("vendor function hostile_inject: \(cause)"), "act \(act): \(result.stderr)")
            let lines = ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").split(separator: "\n")
            #expect(lines.count == 2, "act \(act): \(lines)")
            let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(records.count == 2, "every line is a whole JSON record: \(lines)")
            if records.count == 2 {
                #expect(records[0]["kind"] as? String == "intent" && records[1]["kind"] as? String == "outcome")
                #expect(records[0]["id"] as? String == records[1]["id"] as? String)
                #expect(records[1]["outcome"] as? String == "failed")
                #expect((records[1]["error"] as? String)?.contains(cause) == true, "\(records[1])")
            }
        }
        let fine = try box.inject(["run", "hostile", "act=0", "--plugin-path", vendor.path])
        #expect(fine.status == 0, "\(fine.stderr)")
    }

    @Test func untrustedFilesDirectoriesLinksAndOwnersAreRefusedNamingThePathAndRule() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let manager = FileManager.default
        // A group-writable file.
        let groupFile = try box.plugin("gw", [], folder: "groupfile")
        try manager.setAttributes([.posixPermissions: 0o775], ofItemAtPath: groupFile.path)
        // A plugin in a group-writable directory.
        let groupDirectory = try box.plugin("gwdir", [], folder: "groupdir").deletingLastPathComponent()
        try manager.setAttributes([.posixPermissions: 0o775], ofItemAtPath: groupDirectory.path)
        // A link passed directly, sitting in a world-writable directory.
        let real = try box.plugin("linked", [], folder: "safe")
        let open = box.directory.appendingPathComponent("open")
        try manager.createDirectory(at: open, withIntermediateDirectories: true)
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open.path)
        try manager.createSymbolicLink(atPath: open.path + "/libsym.so", withDestinationPath: real.path)
        // A link in a safe place pointing into a world-writable directory.
        let exposed = try box.plugin("exposed", [], folder: "open")
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open.path)
        let safeLinks = box.directory.appendingPathComponent("links")
        try manager.createDirectory(
            at: safeLinks, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try manager.createSymbolicLink(atPath: safeLinks.path + "/libexposed.so", withDestinationPath: exposed.path)

        let checks: [(path: String, reason: String)] = [
            (groupFile.path, "file \(groupFile.path) is writable by group (mode 775); run chmod g-w \(groupFile.path)"),
            (groupDirectory.path, "directory \(groupDirectory.path) is writable by group (mode 775); run chmod g-w"),
            (
                open.path + "/libsym.so",
                "directory \(open.path) is writable by group and others (mode 777); run chmod go-w \(open.path) (it holds the link"
            ),
            (safeLinks.path + "/libexposed.so", "directory \(open.path) is writable by group and others (mode 777)"),
        ]
        for check in checks {
            let result = try box.inject(["list", "--json", "--plugin-path", check.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.stdout.contains(check.reason)
                    || result.stdout.replacingOccurrences(of: "\\/", with: "/").contains(check.reason),
                "\(check.path): \(result.stdout)")
            #expect(!result.stdout.contains("\"loader test fixture\""), "\(check.path) must not load: \(result.stdout)")
        }
        // A file owned by someone else.
        if getuid() == 0 {
            let foreign = try box.plugin("foreign", [], folder: "foreign")
            #expect(chown(foreign.path, 1234, 1234) == 0)
            let result = try box.inject(["list", "--plugin-path", foreign.path])
            #expect(
                result.stdout.contains("file \(foreign.path) is owned by uid 1234, neither root nor you"),
                "\(result.stdout)")
        }
    }

    @Test func whatAPluginStartsWhileBeingScannedEndsWithTheScan() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let plugin = try box.plugin("forkctor", ["FIXTURE_IN_CONSTRUCTOR=11"])
        let listed = try box.inject(["list", "--plugin-path", box.plugins])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("forkctor"), "the plugin itself loads: \(listed.stdout)")
        // The forked child runs the scanner's command line; none may be left.
        usleep(200_000)
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard Int(entry) != nil,
                let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))
            else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(plugin.path)
        }
        for pid in left { kill(pid_t(pid)!, SIGKILL) }
        #expect(left.isEmpty, "processes left by the scan: \(left)")
    }

    @Test func aManifestThatGetsABufferLengthWrongCannotCorruptTheHeap() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let vendor = try box.hostileVendor()
        func manifest(_ name: String, _ argument: String) throws {
            let text = """
                {"inject_manifest": 1, "name": "\(name)", "version": "1.0", "summary": "fills", "library": "libhostile_vendor.so",
                 "call": {"function": "int hostile_fill(char *why, uint32_t \(argument))",
                          "arguments": {"why": "buffer 8", "\(argument)": "const 4096"}, "message": "why"}}
                """
            try text.write(to: vendor.appendingPathComponent("\(name).inject.json"), atomically: true, encoding: .utf8)
        }
        // Names that say "length" are refused when the manifest is read.
        for (name, argument) in [("fillsz", "bufsz"), ("filllimit", "limit")] {
            try manifest(name, argument)
            let result = try box.inject(["run", name, "--yes", "--plugin-path", vendor.path])
            #expect(
                result.status != 0 && result.stderr.contains("looks like the length of buffer 'why'"),
                "\(result.stderr)")
            #expect(!result.stderr.contains("malloc"), "\(result.stderr)")
        }
        // A name no check can read as a length: the write past the buffer hits a guard page.
        try manifest("fillk", "k")
        let result = try box.inject(["run", "fillk", "--yes", "--plugin-path", vendor.path])
        #expect(result.status == 3, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("vendor function hostile_fill: crashed (SIGSEGV"), "\(result.stderr)")
        #expect(!result.stderr.contains("malloc"), "\(result.stderr)")
    }

    @Test func withoutACacheAHangingPluginDoesNotHoldUpACommandForAnotherBackend() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        try box.plugin("hangctor", ["FIXTURE_IN_CONSTRUCTOR=2"])
        let dry = [
            "run", "mce", "cpu=0", "bank=1", "--dry-run", "--root", "/nonexistent", "--plugin-path", box.plugins,
        ]
        // No cache, or one that cannot be written: each command scans anew. The scan limit is
        // 10 s here; the command must not wait for it.
        for registry in ["off", "/proc/inject-no-such-dir/registry"] {
            let environment = ["INJECT_REGISTRY": registry, "INJECT_PLUGIN_TIME_LIMIT": "30"]
            let started = Date()
            let result = try box.inject(dry, extra: environment)
            let seconds = Date().timeIntervalSince(started)
            #expect(result.status == 0 && result.stdout.contains("plan for mce"), "\(registry): \(result.stderr)")
            #expect(seconds < 5, "\(registry): \(seconds) s")
        }
        // `list` still waits for it and says it hung.
        let listed = try box.inject(
            ["list", "--plugin-path", box.plugins], extra: ["INJECT_REGISTRY": "off", "INJECT_PLUGIN_TIME_LIMIT": "2"])
        #expect(listed.stdout.contains("hung while being scanned"), "\(listed.stdout)")
    }

    @Test func aProbeThatFloodsIsCutToItsLimits() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        try box.plugin("flood", ["FIXTURE_PROBE_FLOOD=200000"])
        let result = try box.inject(["probe", "flood", "--root", box.directory.path, "--plugin-path", box.plugins])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        // A detail of 10 MB prints at most the documented 1,024 characters (escaped plugin text
        // may grow, never past a few KB), and 200,001 capabilities print 4,096 and one more line.
        #expect(lines.allSatisfy { $0.utf8.count < 4096 }, "longest line \(lines.map(\.utf8.count).max() ?? 0)")
        #expect(result.stdout.utf8.count < 1 << 20, "\(result.stdout.utf8.count) bytes printed")
        #expect(
            result.stdout.contains("the plugin reported 195905 more; 4096 are shown"), "\(result.stdout.suffix(300))")
    }

    @Test func oversizedAndLyingManifestsAndPlansAreBounded() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let vendor = box.directory.appendingPathComponent("vendor")
        try FileManager.default.createDirectory(
            at: vendor, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let build = try TestSupport.run(
            "/usr/bin/cc",
            [
                "-shared", "-fPIC", "-o", vendor.appendingPathComponent("libacme_ras.so").path,
                TestSupport.packageRoot.appendingPathComponent("Examples/VendorACME/acme_ras.c").path,
            ])
        try #require(build.status == 0, "\(build.stderr)")
        let acme = try String(
            contentsOf: TestSupport.packageRoot.appendingPathComponent("Examples/VendorACME/acme.inject.json"),
            encoding: .utf8)
        let longName = String(repeating: "a", count: 100_000)
        let manyParameters = (0...10_000).map { "{\"name\": \"p\($0)\", \"type\": \"u64\", \"help\": \"x\"}" }.joined(
            separator: ",")
        let cases: [(file: String, text: String, expected: String)] = [
            (
                "long", acme.replacingOccurrences(of: "\"name\": \"acme\"", with: "\"name\": \"\(longName)\""),
                "must be 1...32 lowercase letters"
            ),
            (
                "many", acme.replacingOccurrences(of: "\"parameters\": [", with: "\"parameters\": [\(manyParameters),"),
                "10004 parameters; at most 256"
            ),
            (
                "lying",
                acme.replacingOccurrences(of: "\"why_len\": \"size of why\"", with: "\"why_len\": \"const 4096\"")
                    .replacingOccurrences(of: "\"why\": \"buffer 128\"", with: "\"why\": \"buffer 8\""),
                "'const 4096' looks like the length of buffer 'why' (8 bytes); bind it with 'size of why'"
            ),
        ]
        for entry in cases {
            let file = vendor.appendingPathComponent("\(entry.file).inject.json")
            try entry.text.write(to: file, atomically: true, encoding: .utf8)
            let result = try box.inject(["list", "--plugin-path", file.path])
            #expect(result.status == 0, "\(entry.file): \(result.stderr)")
            #expect(result.stdout.contains(entry.expected), "\(entry.file): \(result.stdout.prefix(2000))")
            #expect(
                result.stdout.utf8.count < 20_000,
                "\(entry.file): the refusal is not echoed whole (\(result.stdout.utf8.count) bytes)")
        }
        // A plan of 20 million steps is cut off at the bound, without exhausting memory.
        try box.plugin("huge", ["FIXTURE_STEPS=20000000"])
        let huge = try box.inject(
            ["run", "huge", "--dry-run", "--plugin-path", box.plugins], extra: ["INJECT_PLUGIN_TIME_LIMIT": "120"])
        #expect(
            huge.status == 3 && huge.stderr.contains("more than 1000000 steps in one plan"),
            "\(huge.status) \(huge.stderr)")
        // A 100 KB message full of terminal escapes is escaped and cut.
        try box.plugin("evil", ["FIXTURE_EVIL_MESSAGE"])
        let evil = try box.inject(["run", "evil", "--dry-run", "--plugin-path", box.plugins])
        #expect(evil.status == 3, "\(evil.stderr.prefix(300))")
        #expect(
            !evil.stderr.contains("\u{1b}") && evil.stderr.contains("\\u{1b}[31m")
                && evil.stderr.contains("more characters)"), "\(evil.stderr.prefix(300))")
        #expect(evil.stderr.utf8.count < 2_000, "\(evil.stderr.utf8.count) bytes")
    }

    @Test func descriptorsAreCachedAndCodeLoadsOnlyWhenUsed() throws {
        let box = try Sandbox()
        defer { TestSupport.remove(box.directory) }
        let counter = box.directory.appendingPathComponent("loads").path
        let plugin = try box.plugin("counted", ["FIXTURE_COUNT_FILE=\"\(counter)\""])
        func loads() -> Int { ((try? Data(contentsOf: URL(fileURLWithPath: counter))) ?? Data()).count }
        let arguments = ["--plugin-path", box.plugins]

        #expect(try box.inject(["list"] + arguments).stdout.contains("counted"))
        #expect(loads() == 1, "the first list scans it once")
        _ = try box.inject(["list"] + arguments)
        _ = try box.inject(["info", "counted"] + arguments)
        #expect(loads() == 1, "list and info come from the cache")
        _ = try box.inject(["run", "mce", "cpu=0", "bank=1", "--dry-run", "--root", "/nonexistent"] + arguments)
        #expect(loads() == 1, "running another backend does not load it")
        let planned = try box.inject(["run", "counted", "--dry-run"] + arguments)
        #expect(planned.status == 0, "\(planned.stderr)")
        #expect(loads() == 2, "running it loads it")
        // A changed file is rescanned by itself; `plugins rescan` rescans everything.
        try TestSupport.compileCPlugin(
            "Tests/Fixtures/plugins/fixture.c", to: plugin,
            defines: ["FIXTURE_NAME=\"counted\"", "FIXTURE_COUNT_FILE=\"\(counter)\""])
        _ = try box.inject(["list"] + arguments)
        #expect(loads() == 3, "a changed file is rescanned")
        let rescan = try box.inject(["plugins", "rescan"] + arguments)
        #expect(rescan.status == 0 && rescan.stdout.contains("scanned:"), "\(rescan.stderr)")
        #expect(loads() == 4)
    }
}
