import Foundation
import InjectPluginABI
import InjectTestSupport
import Testing

/// The `inject` executable as users run it, with the shipped plugins beside it.
@Suite("inject command line")
struct CLITests {
    @Test func listJSONShowsTheFourBackendsEachFromItsOwnObject() throws {
        let result = try TestSupport.inject(["list", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let backends = try #require(json?["backends"] as? [[String: Any]])
        var paths: [String: String] = [:]
        for backend in backends { paths[backend["name"] as! String] = backend["path"] as? String }
        for (name, library) in [
            ("mce", "libInjectMCE.so"), ("ghes", "libInjectGHES.so"), ("edac", "libInjectEDAC.so"),
            ("nmi", "libInjectNMI.so"),
        ] {
            #expect(paths[name]?.hasSuffix("/" + library) == true, "\(name): \(paths[name] ?? "missing")")
        }
        #expect(Set(paths.values).count == paths.count)
    }

    @Test func anUnknownParameterIsNamedWithTheValidOnesAndNothingIsWritten() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let files = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].map {
            "sys/kernel/debug/mce-inject/\($0)"
        }
        try TestSupport.makeTree(root, files: files)
        let result = try TestSupport.inject(["run", "mce", "bogus=1", "--root", root.path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown parameter 'bogus'"))
        #expect(result.stderr.contains("valid names: via, cpu, bank, severity"))
        #expect(files.allSatisfy { TestSupport.read(root, $0) == "" })
    }

    @Test func theCExamplePluginLoadsFromPluginPathAndRunsDry() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let plugin = directory.appendingPathComponent("libexample_hwpoison.so")
        try TestSupport.compileCPlugin("Examples/CPlugin/example_hwpoison.c", to: plugin)
        let result = try TestSupport.inject([
            "run", "example-hwpoison", "pfn=0x1234", "--plugin-path", plugin.path, "--dry-run",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1. write /sys/kernel/debug/hwpoison/corrupt-pfn = \"0x1234\"  [trigger]"))
        #expect(result.stdout.contains("trace ras:memory_failure_event pfn=0x1234"))
        #expect(result.stdout.contains("needs --yes"))
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/kernel/debug/hwpoison/corrupt-pfn"])
        let refused = try TestSupport.inject([
            "run", "example-hwpoison", "pfn=0x1234", "--plugin-path", plugin.path, "--root", root.path,
        ])
        #expect(refused.status == 4)
        #expect(TestSupport.read(root, "sys/kernel/debug/hwpoison/corrupt-pfn") == "")
        let confirmed = try TestSupport.inject([
            "run", "example-hwpoison", "pfn=0x1234", "--yes", "--plugin-path", plugin.path, "--root", root.path,
        ])
        #expect(confirmed.status == 0, "\(confirmed.stderr)")
        #expect(TestSupport.read(root, "sys/kernel/debug/hwpoison/corrupt-pfn") == "0x1234")
    }

    @Test func anotherMajorIsRefusedInListAndTheOthersStillLoad() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        try TestSupport.compileCPlugin(
            "Tests/Fixtures/plugins/fixture.c", to: directory.appendingPathComponent("libfuture.so"),
            defines: ["FIXTURE_MAJOR=2"])
        let result = try TestSupport.inject(["list", "--plugin-path", directory.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("refused:"))
        #expect(
            result.stdout.contains(
                "plugin ABI 2.0 is incompatible with host ABI \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)"))
        for name in ["mce", "ghes", "edac", "nmi"] {
            #expect(result.stdout.contains("\n\(name) ") || result.stdout.hasPrefix("\(name) "), "\(name) missing")
        }
    }

    @Test func infoShowsEffectiveValuesAndTheirSources() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let config = directory.appendingPathComponent("config.json")
        try #"{"backends": {"mce": {"bank": 4, "cpu": 9}}}"#.write(to: config, atomically: true, encoding: .utf8)
        let result = try TestSupport.inject(
            ["info", "mce", "cpu=2", "--config", config.path, "--json"],
            environment: ["INJECT_MCE_SEVERITY": "ucna"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let parameters = try #require(json?["parameters"] as? [[String: Any]])
        func entry(_ name: String) -> (String?, String?) {
            let item = parameters.first { ($0["spec"] as? [String: Any])?["name"] as? String == name }
            return ((item?["value"] as? [String: Any])?["text"] as? String, item?["source"] as? String)
        }
        #expect(entry("cpu") == ("2", "command line"))
        #expect(entry("severity") == ("ucna", "environment INJECT_MCE_SEVERITY"))
        #expect(entry("bank") == ("4", "config \(config.path)"))
        #expect(entry("flags") == ("sw", "default"))
    }

    @Test func errorsAreJSONToo() throws {
        let result = try TestSupport.inject(["run", "nosuch", "--json"])
        #expect(result.status == 64)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((json?["error"] as? String)?.contains("no backend named 'nosuch'") == true)
        #expect(json?["exitCode"] as? Int == 64)
    }

    @Test func aMissingConfigFileGivenExplicitlyIsAnError() throws {
        let result = try TestSupport.inject(["list", "--config", "/nonexistent/inject.json"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("/nonexistent/inject.json: does not exist"))
    }
}
