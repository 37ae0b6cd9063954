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
