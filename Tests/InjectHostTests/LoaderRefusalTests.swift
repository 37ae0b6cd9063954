import Foundation
import InjectPluginABI
import InjectTestSupport
import Testing

@testable import InjectHost

/// Real broken shared objects, compiled during the test, against the real loader.
@Suite("Plugin loader refusals")
struct LoaderRefusalTests {
    /// Builds the fixture plugin with `defines` into `directory/name`.
    func build(_ directory: URL, _ name: String, _ defines: [String] = []) throws -> String {
        let output = directory.appendingPathComponent(name)
        try TestSupport.compileCPlugin("Tests/Fixtures/plugins/fixture.c", to: output, defines: defines)
        return output.path
    }

    func registry(_ paths: [String]) -> Registry {
        Registry(
            searchPath: PluginSearchPath(
                commandLine: paths, environment: nil, configured: [],
                executableDirectory: nil, elevated: false))
    }

    func reason(_ registry: Registry, _ path: String) -> PluginRefusal.Reason? {
        registry.refusals.first { $0.path == FileIO.realPath(path) }?.reason
    }

    @Test func anotherABIMajorIsRefusedNamingBothAndTheOthersStillLoad() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let wrong = try build(directory, "libwrong.so", ["FIXTURE_MAJOR=2", "FIXTURE_NAME=\"future\""])
        _ = try build(directory, "libgood.so")
        let registry = registry([directory.path])
        #expect(reason(registry, wrong) == .abiMismatch(plugin: "2.0", host: "\(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)"))
        #expect(reason(registry, wrong)?.description.contains("plugin ABI 2.0") == true)
        #expect(
            reason(registry, wrong)?.description.contains("host ABI \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)") == true)
        #expect(registry.backends.map(\.info.name) == ["fixture"])
    }

    @Test func aSharedObjectWithoutTheEntryIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let plugin = try build(directory, "libnoentry.so", ["FIXTURE_NO_ENTRY"])
        #expect(reason(registry([plugin]), plugin) == .missingEntry)
    }

    @Test func aFileThatIsNotELFIsRefusedBeforeDlopen() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let fake = directory.appendingPathComponent("libtext.so")
        try "#!/bin/sh\necho not a library\n".write(to: fake, atomically: true, encoding: .utf8)
        guard case .notSharedObject(let why)? = reason(registry([directory.path]), fake.path) else {
            Issue.record("not refused as non-ELF")
            return
        }
        #expect(why == "not an ELF file")
    }

    @Test func anExecutableELFIsNotASharedObject() throws {
        let registry = registry(["/bin/true"])
        guard case .notSharedObject(let why)? = registry.refusals.first?.reason else {
            Issue.record("/bin/true was not refused")
            return
        }
        // Debian builds PIE executables, which are ELF type 3 too; dlopen refuses those.
        #expect(!why.isEmpty)
        #expect(registry.backends.isEmpty)
    }

    /// A sticky directory (like /tmp) may be writable by all: nobody can replace an entry they do
    /// not own there. Without the sticky bit it is refused; so is any ancestor writable by others.
    @Test func stickyDirectoriesAreTrustedAndAncestorsAreChecked() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let sticky = directory.appendingPathComponent("sticky")
        try FileManager.default.createDirectory(at: sticky, withIntermediateDirectories: true)
        let inner = sticky.appendingPathComponent("inner")
        try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
        chmod(inner.path, 0o755)
        let plugin = try build(inner, "libgood.so")
        chmod(sticky.path, 0o1777)
        #expect(FileTrust.problem(path: plugin) == nil)
        chmod(sticky.path, 0o777)
        let why = FileTrust.problem(path: plugin) ?? ""
        #expect(why.contains("directory \(sticky.path) is writable by group and others (mode 777)"), "\(why)")
        #expect(
            reason(registry([inner.path]), plugin) != nil, "an ancestor writable by others makes the plugin untrusted")
    }

    @Test func aWorldWritableDirectoryIsUntrusted() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let plugin = try build(directory, "libgood.so")
        chmod(directory.path, 0o757)
        guard case .untrusted(let why)? = reason(registry([directory.path]), plugin) else {
            Issue.record("world-writable directory trusted")
            return
        }
        #expect(why.contains("writable by others"))
        #expect(why.contains("chmod o-w"))
        chmod(directory.path, 0o755)
        chmod(plugin, 0o666)
        guard case .untrusted? = reason(registry([directory.path]), plugin) else {
            Issue.record("world-writable file trusted")
            return
        }
    }

    @Test func aRefusingEntryShowsItsMessage() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let plugin = try build(directory, "librefuse.so", ["FIXTURE_REFUSE"])
        #expect(
            reason(registry([plugin]), plugin)
                == .entryRefused(code: -4, message: "fixture refuses: no license key found"))
    }

    @Test func invalidDescriptorsAreRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let short = try build(directory, "libshort.so", ["FIXTURE_SHORT_DESCRIPTOR"])
        let badDefault = try build(directory, "libdefault.so", ["FIXTURE_BAD_DEFAULT"])
        let badName = try build(directory, "libname.so", ["FIXTURE_NAME=\"Bad Name\""])
        let registry = registry([directory.path])
        for (path, needle) in [
            (short, "struct_size 16"), (badDefault, "default of level is invalid"), (badName, "'Bad Name'"),
        ] {
            guard case .invalidDescriptor(let why)? = reason(registry, path) else {
                Issue.record("\(path) not refused")
                continue
            }
            #expect(why.contains(needle), "\(why)")
        }
        #expect(registry.backends.isEmpty)
    }

    @Test func theFirstOfTwoSameNamedBackendsWins() throws {
        let first = try TestSupport.temporaryDirectory()
        let second = try TestSupport.temporaryDirectory()
        defer {
            TestSupport.remove(first)
            TestSupport.remove(second)
        }
        let winner = try build(first, "liba.so")
        let loser = try build(second, "libb.so")
        let registry = registry([first.path, second.path])
        #expect(registry.backends.map(\.info.path) == [FileIO.realPath(winner)])
        #expect(reason(registry, loser) == .duplicateName(name: "fixture", winner: FileIO.realPath(winner)!))
        #expect(reason(registry, loser)?.description.contains("earlier in the search path") == true)
    }

    @Test func pluginFailuresAndContractViolationsBecomeErrors() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let failing = try build(directory, "libfail.so", ["FIXTURE_PLAN_FAILS", "FIXTURE_NAME=\"failing\""])
        let escaping = try build(directory, "libescape.so", ["FIXTURE_BAD_PATH", "FIXTURE_NAME=\"escaping\""])
        let registry = registry([failing, escaping])
        let planner = Planner(
            registry: registry,
            sources: { assignments throws(ConfigurationError) in
                try ConfigurationSources(assignments: assignments, environment: [:], files: [])
            }, target: InjectionTarget(root: "/nonexistent"), files: AttributeFiles(root: "/nonexistent"))
        #expect(
            throws: InjectError.pluginFailed(
                backend: "failing", code: -4, message: "the fixture cannot do that: try level=1")
        ) {
            try planner.plan(InjectionRequest("failing"))
        }
        do {
            _ = try planner.plan(InjectionRequest("escaping"))
            Issue.record("a path with .. was accepted")
        } catch {
            #expect(error.description.contains("broke the plugin contract"))
            #expect(error.description.contains("sys/../../etc/passwd"))
        }
    }

    @Test func stepsOfABI1_0AreReadAndRepeatsAreChecked() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let old = try build(directory, "libold.so", ["FIXTURE_STEP_1_0", "FIXTURE_NAME=\"old\""])
        let storm = try build(directory, "libstorm.so", ["FIXTURE_REPEAT=1", "FIXTURE_NAME=\"storm\""])
        let greedy = try build(directory, "libgreedy.so", ["FIXTURE_REPEAT=2", "FIXTURE_NAME=\"greedy\""])
        let planner = Planner(
            registry: registry([old, storm, greedy]),
            sources: { assignments throws(ConfigurationError) in
                try ConfigurationSources(assignments: assignments, environment: [:], files: [])
            }, target: InjectionTarget(root: "/nonexistent"), files: AttributeFiles(root: "/nonexistent"))
        #expect(try planner.plan(InjectionRequest("old")).steps.count == 1)
        let repeated = try planner.plan(InjectionRequest("storm", ["level": 2]))
        #expect(
            repeated.steps.map { $0.action.describe(root: "/") } == [
                WriteAttributeStep(path: try TargetPath("sys/fixture/level"), value: "2").describe(root: "/"),
                RepeatStep(count: 1, times: 3, intervalMicroseconds: 0).describe(root: "/"),
            ])
        do {
            _ = try planner.plan(InjectionRequest("greedy"))
            Issue.record("a repeat of more steps than the plan holds was accepted")
        } catch {
            #expect(error.description.contains("a repeat step covers 1...1 earlier steps, not 2"), "\(error)")
        }
    }

    @Test func anInstalledExecutableDoesNotSearchItsBinDirectory() throws {
        let prefix = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(prefix) }
        let bin = prefix.appendingPathComponent("bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        func searched() -> [String] {
            PluginSearchPath(
                commandLine: [], environment: nil, configured: [], executableDirectory: bin, elevated: false
            ).entries.map(\.path)
        }
        #expect(searched().prefix(2) == [bin, prefix.path + "/lib/inject/plugins"], "a build tree: beside it")
        try FileManager.default.createDirectory(
            atPath: prefix.path + "/lib/inject/plugins", withIntermediateDirectories: true)
        #expect(searched().first == prefix.path + "/lib/inject/plugins", "installed: /usr/bin holds ld.so")
        #expect(!searched().contains(bin))
    }

    @Test func elevatedProcessesIgnoreUserPluginPaths() {
        let path = PluginSearchPath(
            commandLine: ["/tmp/x"], environment: "/tmp/y", configured: ["/etc/z"],
            executableDirectory: "/opt/bin", elevated: true)
        #expect(
            path.entries.map(\.path) == ["/etc/z", "/opt/bin", "/opt/lib/inject/plugins"]
                + PluginSearchPath.systemDirectories)
        #expect(path.warnings.count == 2)
        let normal = PluginSearchPath(
            commandLine: ["/a:/b"], environment: "/c", configured: ["/d"],
            executableDirectory: "/e", elevated: false)
        #expect(
            normal.entries.map(\.path) == ["/a", "/b", "/c", "/d", "/e", "/lib/inject/plugins"]
                + PluginSearchPath.systemDirectories)
        #expect(
            normal.entries.map(\.origin).prefix(5) == [
                Setting.pluginPath.description, Setting.pluginPath.description, "INJECT_PLUGIN_PATH", "config file",
                "beside executable",
            ])
    }
}
