import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

@Suite("Configuration precedence and validation")
struct ConfigurationPrecedenceTests {
    let schema = [
        ParameterSpec(name: "cpu", type: .cpu, help: "cpu", defaultValue: "0"),
        ParameterSpec(name: "bank", type: .u64, help: "bank", defaultValue: "1", bounds: .init(min: 0, max: 63)),
        ParameterSpec(name: "status", type: .u64, help: "raw status"),
        ParameterSpec(name: "pfn", type: .u64, help: "page", isRequired: true),
    ]

    func configFile(_ json: String) throws -> (ConfigurationFile, URL) {
        let directory = try TestSupport.temporaryDirectory()
        let url = directory.appendingPathComponent("config.json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return (try #require(try ConfigurationFile.load(url.path)), directory)
    }

    func resolve(
        _ arguments: [String], env: [String: String] = [:], files: [ConfigurationFile] = [],
        requireAll: Bool = false
    ) throws -> [String: ResolvedParameter] {
        let sources = try ConfigurationSources(arguments: arguments, environment: env, files: files)
        let resolved = try ParameterResolver(backend: "mce", schema: schema).resolve(sources, requireAll: requireAll)
        return Dictionary(uniqueKeysWithValues: resolved.map { ($0.spec.name, $0) })
    }

    @Test func commandLineBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let (file, directory) = try configFile(
            #"{"backends": {"mce": {"cpu": 3, "bank": 4, "status": "0x9c00000000000000"}}}"#)
        defer { TestSupport.remove(directory) }
        let env = ["INJECT_MCE_CPU": "2", "INJECT_MCE_BANK": "5"]
        let all = try resolve(["cpu=1"], env: env, files: [file])
        #expect(all["cpu"]?.value?.number == 1)
        #expect(all["cpu"]?.source == .commandLine)
        #expect(all["bank"]?.value?.number == 5)
        #expect(all["bank"]?.source == .environment("INJECT_MCE_BANK"))
        #expect(all["status"]?.value?.number == 0x9C00_0000_0000_0000)
        #expect(all["status"]?.source == .configFile(file.path))
        let defaults = try resolve([])
        #expect(defaults["bank"]?.value?.number == 1)
        #expect(defaults["bank"]?.source == .schemaDefault)
        #expect(defaults["status"]?.value == nil)
        #expect(defaults["status"]?.source == .unset)
    }

    @Test func anEarlierFileBeatsALaterOne() throws {
        let (user, d1) = try configFile(#"{"backends": {"mce": {"bank": 7}}}"#)
        let (system, d2) = try configFile(#"{"backends": {"mce": {"bank": 9, "cpu": 4}}}"#)
        defer {
            TestSupport.remove(d1)
            TestSupport.remove(d2)
        }
        let all = try resolve([], files: [user, system])
        #expect(all["bank"]?.value?.number == 7)
        #expect(all["cpu"]?.value?.number == 4)
        #expect(all["cpu"]?.source == .configFile(system.path))
    }

    @Test func unknownNamesAreRefusedWithTheValidOnes() throws {
        do {
            _ = try resolve(["bogus=1"])
            Issue.record("bogus accepted")
        } catch let error as ConfigurationError {
            guard case .unknownParameter(_, "bogus", .commandLine, let valid) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(valid == ["cpu", "bank", "status", "pfn"])
            #expect(error.description.contains("valid names: cpu, bank, status, pfn"))
        }
        #expect(throws: ConfigurationError.self) { try resolve([], env: ["INJECT_MCE_BNAK": "1"]) }
        #expect(throws: Never.self) { try resolve([], env: ["INJECT_NMI_VIA": "qemu", "INJECT_PLUGIN_PATH": "/x"]) }
    }

    @Test func invalidValuesNameTheirSource() throws {
        do {
            _ = try resolve([], env: ["INJECT_MCE_BANK": "64"])
            Issue.record("bank=64 accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("bank=64"))
            #expect(error.description.contains("environment INJECT_MCE_BANK"))
            #expect(error.description.contains("0...63"))
        }
    }

    @Test func requiredParametersAndMalformedArguments() throws {
        #expect(throws: ConfigurationError.missingRequired(backend: "mce", parameter: "pfn", help: "page")) {
            try resolve([], requireAll: true)
        }
        #expect(throws: ConfigurationError.malformedAssignment("cpu")) { try resolve(["cpu"]) }
        #expect(throws: ConfigurationError.malformedAssignment("=3")) { try resolve(["=3"]) }
        #expect(throws: ConfigurationError.repeatedParameter("cpu")) { try resolve(["cpu=1", "cpu=2"]) }
    }

    @Test func aBrokenConfigFileNamesItself() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let url = directory.appendingPathComponent("config.json")
        try "{ not json".write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigurationFile.load(url.path)
            Issue.record("broken file accepted")
        } catch {
            #expect(error.description.contains(url.path))
        }
        #expect(try ConfigurationFile.load(directory.appendingPathComponent("absent.json").path) == nil)
    }

    @Test func misspeltKeysInAFileAreRefusedNamingTheFile() throws {
        let (file, directory) = try configFile(#"{"backends": {"mce": {"bnak": 2}, "nmi": {"via": "sysrq"}}}"#)
        defer { TestSupport.remove(directory) }
        do {
            _ = try resolve([], files: [file])
            Issue.record("bnak accepted")
        } catch let error as ConfigurationError {
            guard case .unknownParameter("mce", "bnak", .configFile(file.path), _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func integersKeepAll64BitsAndWrongShapesAreRefused() throws {
        let (file, directory) = try configFile(#"{"backends": {"mce": {"status": 18446744073709551615, "cpu": true}}}"#)
        defer { TestSupport.remove(directory) }
        #expect(file.text(["backends", "mce", "status"]) == "18446744073709551615")
        #expect(file.text(["backends", "mce", "cpu"]) == "true")
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFile.parse(Array(#"{"backends": {"mce": 3}}"#.utf8), path: "x.json")
        }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFile.parse(Array(#"{"plugin_path": "/opt"}"#.utf8), path: "x.json")
        }
    }

    @Test func pluginPathListsComeFromTheFile() throws {
        let (file, directory) = try configFile(#"{"plugin_path": ["/opt/a", "/opt/b"]}"#)
        defer { TestSupport.remove(directory) }
        #expect(file.list(["plugin_path"]) == ["/opt/a", "/opt/b"])
    }
}
