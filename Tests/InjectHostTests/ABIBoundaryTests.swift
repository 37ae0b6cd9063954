import Foundation
import InjectPluginABI
import InjectTestSupport
import Testing

@testable import InjectHost

/// The ABI's forward-compatibility rules, against real plugins and real memory protection.
@Suite("ABI boundary")
struct ABIBoundaryTests {
    func registry(_ paths: [String]) -> Registry {
        Registry(
            searchPath: PluginSearchPath(
                commandLine: paths, environment: nil, configured: [],
                executableDirectory: nil, elevated: false))
    }

    func build(_ directory: URL, _ name: String, _ defines: [String]) throws -> String {
        let output = directory.appendingPathComponent(name)
        try TestSupport.compileCPlugin("Tests/Fixtures/plugins/fixture.c", to: output, defines: defines)
        return output.path
    }

    func planner(_ registry: Registry) -> Planner {
        Planner(
            registry: registry,
            sources: { assignments throws(ConfigurationError) in
                try ConfigurationSources(assignments: assignments, environment: [:], files: [])
            }, target: InjectionTarget(root: "/nonexistent"), files: AttributeFiles(root: "/nonexistent"))
    }

    @Test func aPluginBuiltAgainstANewerHeaderLoadsAtTheHostsMinorAndItsLargerStructsAreRead() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let future = try build(directory, "libfuture.so", ["FIXTURE_FUTURE", "FIXTURE_NAME=\"future\""])
        let registry = registry([future])
        #expect(registry.refusals.isEmpty, "\(registry.refusals)")
        let backend = try #require(registry.backends.first)
        #expect(backend.info.abi == "\(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)")
        let plan = try planner(registry).plan(InjectionRequest("future", ["level": 2]))
        #expect(
            plan.steps.map { $0.action as? WriteAttributeStep } == [
                WriteAttributeStep(path: try TargetPath("sys/fixture/level"), value: "2")
            ])
    }

    /// A struct of `size` bytes placed so that its last byte is the last readable one: reading
    /// one byte more faults.
    func atTheEndOfAPage<T>(_ value: T, size: Int, _ body: (UnsafeRawPointer) throws -> Void) rethrows {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        defer { munmap(base, 2 * page) }
        mprotect(base + page, page, PROT_NONE)
        let start = base + page - size
        withUnsafeBytes(of: value) { start.copyMemory(from: $0.baseAddress!, byteCount: size) }
        try body(UnsafeRawPointer(start))
    }

    @Test func a1_0StepAtTheEndOfAGuardPageIsReadOnlyUpToItsSize() throws {
        var step = inject_step()
        step.struct_size = INJECT_STEP_SIZE_1_0
        step.kind = INJECT_STEP_SLEEP.rawValue
        step.microseconds = 5
        let context = CallContext(
            mode: .plan, backend: "old", target: InjectionTarget(root: "/nonexistent"),
            files: AttributeFiles(root: "/nonexistent"))
        atTheEndOfAPage(step, size: Int(INJECT_STEP_SIZE_1_0)) { pointer in
            #expect(StepReader.add(pointer, to: context) == INJECT_OK.rawValue)
        }
        #expect(context.violation == nil)
        #expect(context.steps.map { $0.action as? SleepStep } == [SleepStep(microseconds: 5)])
    }

    @Test func a1_0DescriptorAtTheEndOfAGuardPageIsReadOnlyUpToItsSize() throws {
        let name = strdup("guarded")!
        let version = strdup("1.0")!
        let summary = strdup("old plugin")!
        defer {
            free(name)
            free(version)
            free(summary)
        }
        var d = inject_plugin_descriptor()
        d.struct_size = INJECT_DESCRIPTOR_SIZE_1_0
        d.abi_major = UInt16(INJECT_ABI_MAJOR)
        d.name = UnsafePointer(name)
        d.version = UnsafePointer(version)
        d.summary = UnsafePointer(summary)
        d.plan = { _, _, _, _ in 0 }
        try atTheEndOfAPage(d, size: Int(INJECT_DESCRIPTOR_SIZE_1_0)) { pointer in
            let info = try DescriptorReader.read(pointer, path: "/test/guarded.so")
            #expect(info.name == "guarded" && info.abi == "1.0")
            #expect(info.kernelModules.isEmpty && !info.decodesEvents)
        }
    }

    @Test func aStaleCallHandleIsRefusedWithAMessageNeverFollowed() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let stale = try build(directory, "libstale.so", ["FIXTURE_STALE_HANDLE", "FIXTURE_NAME=\"stale\""])
        let registry = registry([stale])
        let backend = try registry.backend(named: "stale")
        _ = try backend.probe(InjectionTarget(root: "/nonexistent"), files: AttributeFiles(root: "/nonexistent"))
        do {
            _ = try planner(registry).plan(InjectionRequest("stale"))
            Issue.record("a plan through a stale handle was accepted")
        } catch {
            #expect(
                error.description.contains("stale inject_call handle (from an earlier stale probe call"), "\(error)")
        }
    }

    @Test func notifyArgumentsOfABI1_2CarryAnyText() throws {
        let names = [strdup("label"), strdup("level")]
        let values = [strdup("two words"), strdup("3")]
        defer { (names + values).forEach { free($0) } }
        let namePointers = names.map { UnsafePointer<CChar>?(UnsafePointer($0!)) }
        let valuePointers = values.map { UnsafePointer<CChar>?(UnsafePointer($0!)) }
        let context = CallContext(
            mode: .plan, backend: "caller", target: InjectionTarget(root: "/nonexistent"),
            files: AttributeFiles(root: "/nonexistent"))
        let backend = strdup("fixture")!
        defer { free(backend) }
        namePointers.withUnsafeBufferPointer { n in
            valuePointers.withUnsafeBufferPointer { v in
                var step = inject_step()
                step.struct_size = INJECT_STEP_SIZE_1_2
                step.kind = INJECT_STEP_NOTIFY.rawValue
                step.backend = UnsafePointer(backend)
                step.argument_names = n.baseAddress
                step.argument_values = v.baseAddress
                step.argument_count = 2
                _ = withUnsafePointer(to: &step) { StepReader.add(UnsafeRawPointer($0), to: context) }
            }
        }
        #expect(context.violation == nil)
        #expect(
            context.steps.map { $0.action as? NotifyStep } == [
                NotifyStep(
                    backend: "fixture",
                    assignments: [ParameterAssignment("label", "two words"), ParameterAssignment("level", "3")])
            ])
    }
}
