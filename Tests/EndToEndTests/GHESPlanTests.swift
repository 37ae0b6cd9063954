import Foundation
import InjectTestSupport
import Testing

/// The ghes backend's plans and the CPER decoder, through the real plugin and the command line.
@Suite("ghes plans")
struct GHESPlanTests {
    static let einj = "sys/kernel/debug/apei/einj"

    @Test func einjWritesTheTypeTheParametersAndThenTheTrigger() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let files = [
            "available_error_type", "error_type", "flags", "param1", "param2", "param3", "param4", "notrigger",
            "error_inject",
        ]
        try TestSupport.makeTree(root, files: files.map { "\(Self.einj)/\($0)" })
        let result = try TestSupport.inject([
            "run", "ghes", "via=einj", "address=0x12345000", "--root", root.path, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let steps = try #require((json?["plan"] as? [String: Any])?["steps"] as? [[String: Any]])
        let order = steps.compactMap { ($0["path"] as? String)?.split(separator: "/").last.map(String.init) }
        #expect(order == ["error_type", "flags", "param1", "param2", "notrigger", "error_inject"])
        for (file, value) in [
            ("error_type", "0x8"), ("flags", "0x2"), ("param1", "0x12345000"), ("param2", "0xfffffffffffff000"),
            ("notrigger", "0"), ("error_inject", "1"),
        ] {
            #expect(TestSupport.read(root, "\(Self.einj)/\(file)") == value, "\(file)")
        }

        // A platform that lists its types refuses the others before anything is written.
        try "0x00000002\tProcessor Uncorrectable non-fatal\n".write(
            toFile: root.path + "/\(Self.einj)/available_error_type", atomically: true, encoding: .utf8)
        try "".write(toFile: root.path + "/\(Self.einj)/error_inject", atomically: true, encoding: .utf8)
        let refused = try TestSupport.inject(["run", "ghes", "via=einj", "--root", root.path])
        #expect(refused.status == 3 && refused.stderr.contains("available_error_type lists 0x2"), "\(refused.stderr)")
        #expect(TestSupport.read(root, "\(Self.einj)/error_inject") == "")
        // An offered but uncorrectable type needs --yes.
        #expect(
            try TestSupport.inject([
                "run", "ghes", "via=einj", "section=processor", "severity=recoverable", "--root", root.path,
            ]).status == 4)
    }

    /// EINJv2: the components' files written (each value with the newline the kernel requires),
    /// the list ended in the next component_id, then the V2 type, the flags and the trigger; refused
    /// with the reason where the platform or the kernel has no EINJv2, or the list does not fit.
    @Test func einjV2WritesTheComponentsEndsTheListAndTriggers() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let components = (0..<4).flatMap { ["component_id\($0)", "component_syndrome\($0)"] }
        let files = ["available_error_type", "error_type", "flags", "param1", "param2", "notrigger", "error_inject"]
        try TestSupport.makeTree(root, files: (files + components).map { "\(Self.einj)/\($0)" })
        let listing = "0x00000008\tMemory Correctable\nV2_0x00000002\tEINJV2 Memory Error\n"
        try listing.write(toFile: root.path + "/\(Self.einj)/available_error_type", atomically: true, encoding: .utf8)
        let result = try TestSupport.inject([
            "run", "ghes", "via=einj", "address=0x12345000", "components=0x1:0x4,0x2:0xffffffffffffffffffff",
            "--root", root.path, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let steps = try #require((json?["plan"] as? [String: Any])?["steps"] as? [[String: Any]])
        let order = steps.compactMap { ($0["path"] as? String)?.split(separator: "/").last.map(String.init) }
        #expect(
            order == [
                "component_id0", "component_syndrome0", "component_id1", "component_syndrome1", "component_id2",
                "error_type", "flags", "param1", "param2", "notrigger", "error_inject",
            ], "\(order)")
        for (file, value) in [
            ("component_id0", "0x1\n"), ("component_syndrome0", "0x4\n"), ("component_id1", "0x2\n"),
            ("component_syndrome1", "0xffffffffffffffffffff\n"), ("component_id2", "\n"), ("error_type", "V2_0x2"),
            ("flags", "0xa"), ("param1", "0x12345000"), ("error_inject", "1"),
        ] {
            #expect(TestSupport.read(root, "\(Self.einj)/\(file)") == value, "\(file)")
        }
        func refused(_ words: [String]) throws -> (Int32, String) {
            let run = try TestSupport.inject(["run", "ghes"] + words + ["--root", root.path])
            return (run.status, run.stderr)
        }
        let five = try refused(["via=einj", "address=0x5000", "components=1:1,2:2,3:3,4:4,5:5"])
        #expect(five.0 == 64 && five.1.contains("5 given, this platform takes at most 4"), "\(five)")
        let processor = try refused(["via=einj", "section=processor", "components=0x1:0x1"])
        #expect(
            processor.0 == 3 && processor.1.contains("EINJv2 type 0x1 (EINJV2 Processor Error) is not offered"),
            "\(processor)")
        let malformed = try refused(["via=einj", "components=0x1"])
        #expect(malformed.0 == 64 && malformed.1.contains("'0x1' is not ID:SYNDROME"), "\(malformed)")
        let elsewhere = try refused(["via=ghes", "components=0x1:0x4"])
        #expect(elsewhere.0 == 64 && elsewhere.1.contains("only via=einj reaches"), "\(elsewhere)")
        // A kernel or platform without EINJv2 lists no V2_ type: refused before anything is written.
        try "0x00000008\tMemory Correctable\n".write(
            toFile: root.path + "/\(Self.einj)/available_error_type", atomically: true, encoding: .utf8)
        try "".write(toFile: root.path + "/\(Self.einj)/error_inject", atomically: true, encoding: .utf8)
        let old = try refused(["via=einj", "address=0x5000", "components=0x1:0x4"])
        #expect(old.0 == 3 && old.1.contains("EINJv2 is not offered here"), "\(old)")
        #expect(TestSupport.read(root, "\(Self.einj)/error_inject") == "")
    }

    @Test func aPlannedRecordDecodesBackToItsFields() throws {
        let plan = try TestSupport.inject([
            "run", "ghes", "block_address=0x1000", "address=0x2000", "node=1", "module=3", "rank=2",
            "fru_text=DIMM_A1", "--dry-run", "--json", "--root", "/nonexistent",
        ])
        #expect(plan.status == 0, "\(plan.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let steps = try #require((json?["plan"] as? [String: Any])?["steps"] as? [[String: Any]])
        let hex = try #require(steps.first { $0["kind"] as? String == "memory" }?["bytes"] as? String)
        let decoded = try TestSupport.inject(["decode", "cper", hex])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        for line in [
            "entry 0: platform memory error, severity corrected, revision 0x0300, FRU \"DIMM_A1\"",
            "physical_address: 0x0000000000002000", "node: 1", "module: 3", "rank: 2",
        ] {
            #expect(decoded.stdout.contains(line), "missing '\(line)' in\n\(decoded.stdout)")
        }
        let bad = try TestSupport.inject(["decode", "cper", String(hex.prefix(60))])
        #expect(bad.status == 64 && bad.stderr.contains("data length"), "\(bad.stderr)")
    }
}
