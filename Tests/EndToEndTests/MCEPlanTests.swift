import Foundation
import InjectTestSupport
import Testing

/// The mce backend's plans, through the real plugin and `inject run --dry-run --json`.
@Suite("mce plans")
struct MCEPlanTests {
    /// The plan's steps for `arguments`.
    func steps(_ arguments: [String]) throws -> [[String: Any]] {
        let result = try TestSupport.inject(
            ["run", "mce"] + arguments + ["--dry-run", "--json", "--root", "/nonexistent"])
        try #require(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require((json?["plan"] as? [String: Any])?["steps"] as? [[String: Any]])
    }

    /// The status value written for `arguments`.
    func status(_ arguments: [String]) throws -> String? {
        try steps(arguments).first { ($0["path"] as? String)?.hasSuffix("/status") == true }?["value"] as? String
    }

    @Test func errorClassesBuildTheArchitecturalCodes() throws {
        // memory controller, read, channel 3 (0000 0000 1001 0011), corrected: VAL EN.
        #expect(try status(["channel=3"]) == "0x9000000000000093")
        // cache, data-read of data at L1 (0000 0001 0011 0101), SRAO with ADDR: VAL UC EN ADDRV S.
        #expect(
            try status([
                "error_class=cache", "request=data-read", "cache_type=data", "level=l1", "severity=srao", "addr=0x1000",
            ])
                == "0xb500000000000135")
        // bus, source, read of I/O space at a generic level (0000 1000 0001 1011), fatal: VAL UC EN PCC.
        #expect(
            try status([
                "error_class=bus", "participation=source", "request=read", "space=io", "level=generic",
                "severity=fatal",
            ])
                == "0xb20000000000081b")
        // AMD deferred with MISC and overflow: VAL OVER EN MISCV DEFERRED(44), UC clear.
        #expect(
            try status(["severity=deferred", "misc=0x8c", "overflow=true", "mca_code=0x5"]) == "0xd800100000000005")
    }

    @Test func aStatusGivenByTheUserIsDecodedFieldByField() throws {
        let result = try TestSupport.inject([
            "run", "mce", "status=0xbe00000000800400", "--dry-run", "--root", "/nonexistent",
        ])
        #expect(result.status == 0)
        for line in [
            "61 UC    1", "57 PCC   1", "31:16 model-specific 0x80", "MCA code 0x400: internal timer",
            "severity: fatal (PCC)",
        ] {
            #expect(result.stdout.contains(line), "missing '\(line)'")
        }
        #expect(result.stdout.contains("needs --yes"))
    }

    @Test func aKernelLogLineIsReplayed() throws {
        let line =
            "mce: [Hardware Error]: CPU 2: Machine Check: 0 Bank 4: 9c00000000010135\nmce: [Hardware Error]: TSC 3c69e400d ADDR 1234000 MISC 8c SYND 4d IPID 1002e00000000"
        let values = Dictionary(
            uniqueKeysWithValues: try steps(["replay=\(line)"]).compactMap { step -> (String, String)? in
                guard let path = step["path"] as? String, let value = step["value"] as? String else { return nil }
                return (String(path.split(separator: "/").last!), value)
            })
        #expect(values["cpu"] == "2")
        #expect(values["bank"] == "4")
        #expect(values["status"] == "0x9c00000000010135")
        #expect(values["addr"] == "0x1234000")
        #expect(values["misc"] == "0x8c")
        #expect(values["synd"] == "0x4d")
        #expect(values["ipid"] == "0x1002e00000000")
        let bad = try TestSupport.inject(["run", "mce", "replay=CPU 0 fine", "--dry-run"])
        #expect(bad.status == 64, "a replay that does not parse is a bad parameter")
        #expect(bad.stderr.contains("Machine Check"))
    }

    @Test func aStormWritesEveryValueOnceThenOnlyWhatTheKernelClears() throws {
        let plan = try steps(["count=4", "interval=500", "addr=0x5000", "bank=2"])
        let kinds = plan.map {
            $0["path"].map { ($0 as! String).split(separator: "/").last.map(String.init)! } ?? $0["kind"] as! String
        }
        #expect(
            kinds == [
                "flags", "cpu", "status", "misc", "addr", "synd", "bank",
                "sleep", "status", "addr", "bank", "repeat",
            ])
        #expect(plan.last?["steps"] as? Int == 4)
        #expect(plan.last?["times"] as? Int == 2)

        // Executed into a tree: the files hold the last injection's values, and the run says so.
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let files = ["flags", "cpu", "status", "misc", "addr", "synd", "bank"].map {
            "sys/kernel/debug/mce-inject/\($0)"
        }
        try TestSupport.makeTree(root, files: files)
        let run = try TestSupport.inject(["run", "mce", "count=1000", "addr=0x5000", "bank=2", "--root", root.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.contains("repeat steps 8-10 998 more time(s)  ok") && run.stdout.contains("2994 step(s) run"))
        #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "2")

        // A missing file stops the storm at its first write, before any injection.
        try FileManager.default.removeItem(atPath: root.path + "/sys/kernel/debug/mce-inject/addr")
        let failed = try TestSupport.inject(["run", "mce", "count=3", "addr=0x5000", "--root", root.path])
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains("step 5 (write") && failed.stderr.contains("[4 earlier step(s) had run]"),
            "\(failed.stderr)")
    }

    @Test func hwpoisonWritesThePageAndNeedsYes() throws {
        let writes = try steps(["via=hwpoison", "addr=0x8000123"])
        #expect(writes.first?["path"] as? String == "sys/kernel/debug/hwpoison/corrupt-pfn")
        #expect(writes.first?["value"] as? String == "0x8000")
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/kernel/debug/hwpoison/corrupt-pfn"])
        let refused = try TestSupport.inject(["run", "mce", "via=hwpoison", "pfn=0x8000", "--root", root.path])
        #expect(refused.status == 4)
        #expect(TestSupport.read(root, "sys/kernel/debug/hwpoison/corrupt-pfn") == "")
        let done = try TestSupport.inject(["run", "mce", "via=hwpoison", "pfn=0x8000", "--root", root.path, "--yes"])
        #expect(done.status == 0, "\(done.stderr)")
        #expect(TestSupport.read(root, "sys/kernel/debug/hwpoison/corrupt-pfn") == "0x8000")
    }
}
