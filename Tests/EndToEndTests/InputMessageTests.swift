import Foundation
import InjectTestSupport
import Testing

/// Scenario keys are checked like configuration keys, and messages name what is really wrong
/// (issue 39, items 15 and 22).
@Suite("input messages")
struct InputMessageTests {
    func tree() throws -> URL {
        let root = try TestSupport.temporaryDirectory("inject-messages")
        try TestSupport.makeTree(
            root,
            files: ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].map {
                "sys/kernel/debug/mce-inject/\($0)"
            })
        return root
    }

    @Test func unknownAndRepeatedScenarioKeysAreRefusedBeforeAnyInjection() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let cases: [(text: String, words: [String])] = [
            (
                #"{"steps": [{"backend": "mce", "cuont": 5000, "rtae": 10}]}"#,
                ["unknown key 'cuont' in steps[]", "count"]
            ),
            (#"{"steps": [{"backend": "mce", "count": 2, "count": 5000}]}"#, ["key 'steps.count' is given twice"]),
            (#"{"stpes": [], "steps": [{"backend": "mce"}]}"#, ["unknown key 'stpes'", "name, seed, steps, stop"]),
            (#"{"steps": [{"backend": "mce"}], "stop": {"on_falure": true}}"#, ["unknown key 'on_falure' in stop"]),
            (#"{"steps": [{"backend": "mce", "count": 1.5}]}"#, ["steps[0].count: 1.5 is not a whole number"]),
        ]
        for (index, entry) in cases.enumerated() {
            let file = root.appendingPathComponent("scenario-\(index).json")
            try Data(entry.text.utf8).write(to: file)
            let result = try TestSupport.inject(["campaign", file.path, "--root", root.path])
            #expect(result.status == 64, "\(entry.text): \(result.status) \(result.stderr)")
            #expect(entry.words.allSatisfy { result.stderr.contains($0) }, "\(entry.text): \(result.stderr)")
            #expect(!result.stderr.contains("not valid JSON"), "\(result.stderr)")
            #expect(TestSupport.read(root, "sys/kernel/debug/mce-inject/bank") == "", "nothing injected")
        }
    }

    @Test func configurationAndEnvironmentMessagesNameTheRealProblem() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"backends": {"mce": {"cpu": "a"#.utf8 + [0xFF] + #""}}}"#.utf8).write(to: config)
        let text = try TestSupport.inject(["run", "mce", "--dry-run", "--config", config.path, "--root", root.path])
        #expect(text.status == 64, "\(text.stderr)")
        #expect(text.stderr.contains("backends.mce.cpu: a string that is not valid UTF-8"), "\(text.stderr)")
        #expect(!text.stderr.contains("beyond 64 bits"), "\(text.stderr)")

        let limit = try TestSupport.inject(
            ["run", "mce", "--dry-run", "--root", root.path], environment: ["INJECT_PLUGIN_TIME_LIMIT": "0"])
        #expect(limit.status == 64, "\(limit.stderr)")
        #expect(
            limit.stderr.contains("INJECT_PLUGIN_TIME_LIMIT='0'") && limit.stderr.contains("0.1...3600"),
            "\(limit.stderr)")
        #expect(!limit.stderr.contains("config file"), "\(limit.stderr)")
    }
}
