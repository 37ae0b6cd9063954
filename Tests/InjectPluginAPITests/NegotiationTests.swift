import InjectPluginABI
import Testing

@testable import InjectPluginAPI

/// A backend that uses a 1.1 feature (a storm) and declares 1.2 and 1.5 knowledge.
private struct StormBackend: InjectBackend {
    static let descriptor = BackendDescriptor(
        name: "storm", version: "1.0.0", summary: "test", families: ["test"],
        parameters: [], kernelModules: ["storm_inject"], traceEvents: ["storm:event"],
        lossMarkers: [LossMarker(match: "*storm full*", reason: "the storm pool was full")],
        consumerTables: ["storm:event": "storm_event"], logMarkers: ["Storm"])
    func plan(_ request: PlanRequest) throws -> Plan {
        var plan = Plan()
        plan.write("sys/storm", "1")
        plan.repeatLast(1, times: 3)
        return plan
    }
}

/// A backend that expects a counter to move by an exact count (ABI 1.3).
private struct ExactBackend: InjectBackend {
    static let descriptor = BackendDescriptor(
        name: "exact", version: "1.0.0", summary: "test", families: ["test"],
        parameters: [Parameter("level", .u64(), help: "a number"), Parameter("file", .file, help: "records")])
    func plan(_ request: PlanRequest) throws -> Plan {
        var plan = Plan()
        plan.write("sys/exact", "1")
        plan.expect(.counterExact("sys/other/count", delta: 0))
        return plan
    }
}

/// What the host recorded through the services, for one test at a time.
private nonisolated(unsafe) var recorded: (steps: Int, error: String?) = (0, nil)
private nonisolated(unsafe) var recordedMatches: [String?] = []

/// A host table of the given version's size, with the services a plan needs.
private func hostTable(size: UInt32, minor: UInt16) -> UnsafeMutablePointer<inject_host_api> {
    let table = UnsafeMutablePointer<inject_host_api>.allocate(capacity: 1)
    table.initialize(to: inject_host_api())
    table.pointee.struct_size = size
    table.pointee.abi_major = UInt16(INJECT_ABI_MAJOR)
    table.pointee.abi_minor = minor
    table.pointee.set_error = { _, _, message in recorded.error = message.map { String(cString: $0) } }
    table.pointee.target_info = { _, _ in INJECT_OK.rawValue }
    table.pointee.add_step = { _, _ in
        recorded.steps += 1
        return INJECT_OK.rawValue
    }
    table.pointee.expect = { _, expectation in
        recordedMatches.append(expectation?.pointee.match.map { String(cString: $0) })
        return INJECT_OK.rawValue
    }
    table.pointee.require_confirmation = { _, _ in INJECT_OK.rawValue }
    table.pointee.monotonic_ns = { _ in 0 }
    table.pointee.realtime_ns = { _ in 0 }
    // Slots past `size` hold garbage an older host never wrote: the SDK must not read them.
    if size < INJECT_HOST_API_SIZE_1_2 {
        table.pointee.add_field = unsafeBitCast(
            Int(0xDEAD),
            to: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32).self)
    }
    return table
}

@Suite("ABI version negotiation", .serialized)
struct NegotiationTests {
    func entry<B: InjectBackend>(minor: UInt16, size: UInt32, _ backend: B.Type = StormBackend.self)
        -> inject_plugin_descriptor?
    {
        var entry = inject_entry()
        entry.struct_size = UInt32(MemoryLayout<inject_entry>.size)
        entry.host_abi_major = UInt16(INJECT_ABI_MAJOR)
        entry.host_abi_minor = minor
        entry.host = UnsafePointer(hostTable(size: size, minor: minor))
        guard export(backend, &entry) == INJECT_OK.rawValue, let descriptor = entry.descriptor else { return nil }
        return descriptor.pointee
    }

    @Test func theSDKAnswersTheLowerMinorAndDescribesOnlyWhatThatVersionHas() throws {
        let old = try #require(entry(minor: 0, size: INJECT_HOST_API_SIZE_1_0))
        #expect(old.abi_minor == 0)
        #expect(old.struct_size == INJECT_DESCRIPTOR_SIZE_1_0)
        let current = try #require(entry(minor: UInt16(INJECT_ABI_MINOR), size: INJECT_HOST_API_SIZE_1_2))
        #expect(current.abi_minor == UInt16(INJECT_ABI_MINOR))
        #expect(current.struct_size == INJECT_DESCRIPTOR_SIZE_1_5)
        #expect(current.kernel_module_count == 1 && String(cString: current.kernel_modules![0]!) == "storm_inject")
        #expect(current.trace_event_count == 1 && current.decode != nil)
        #expect(
            current.loss_marker_count == 1 && String(cString: current.loss_reasons![0]!) == "the storm pool was full")
        #expect(current.consumer_table_count == 1 && String(cString: current.consumer_tables![0]!) == "storm_event")
        // A 1.4 host gets the 1.2 descriptor, which it knows, without the 1.5 declarations.
        let older = try #require(entry(minor: 4, size: INJECT_HOST_API_SIZE_1_4))
        #expect(
            older.struct_size == INJECT_DESCRIPTOR_SIZE_1_2 && older.loss_marker_count == 0
                && older.consumer_table_count == 0)
        // A newer host (1.9) gets this SDK's own minor.
        #expect(try #require(entry(minor: 9, size: INJECT_HOST_API_SIZE_1_2)).abi_minor == UInt16(INJECT_ABI_MINOR))
    }

    @Test func stepsAnOlderHostDoesNotKnowAreRefusedWithTheReason() throws {
        recorded = (0, nil)
        let old = try #require(entry(minor: 0, size: INJECT_HOST_API_SIZE_1_0))
        let rc = old.plan(old.state, nil, nil, 0)
        #expect(rc == INJECT_E_UNSUPPORTED.rawValue)
        #expect(recorded.error?.contains("needs a host of ABI 1.1 or later (repeat steps)") == true)
        #expect(recorded.steps == 0, "nothing is half-submitted")
        recorded = (0, nil)
        let current = try #require(entry(minor: 1, size: INJECT_HOST_API_SIZE_1_1))
        #expect(current.plan(current.state, nil, nil, 0) == INJECT_OK.rawValue)
        #expect(recorded.steps == 2)
    }

    @Test func anExactCounterIsRefusedByA12HostAndSentAsExactToA13One() throws {
        recorded = (0, nil)
        recordedMatches = []
        let old = try #require(entry(minor: 2, size: INJECT_HOST_API_SIZE_1_2, ExactBackend.self))
        #expect(old.plan(old.state, nil, nil, 0) == INJECT_E_UNSUPPORTED.rawValue)
        #expect(
            recorded.error?.contains(
                "sys/other/count to move by an exact count, which a host of ABI 1.2 cannot check (1.3 can)") == true)
        #expect(recorded.steps == 0 && recordedMatches.isEmpty, "nothing is half-submitted")
        let current = try #require(entry(minor: 3, size: INJECT_HOST_API_SIZE_1_2, ExactBackend.self))
        #expect(current.plan(current.state, nil, nil, 0) == INJECT_OK.rawValue)
        #expect(recordedMatches == [INJECT_EXPECT_MATCH_EXACT])
    }

    @Test func aFileParameterIsDescribedOnlyToA13Host() throws {
        let old = try #require(entry(minor: 2, size: INJECT_HOST_API_SIZE_1_2, ExactBackend.self))
        #expect(
            old.param_count == 1 && String(cString: old.params![0].name) == "level",
            "a 1.2 host would refuse a type it does not know")
        let current = try #require(entry(minor: 3, size: INJECT_HOST_API_SIZE_1_2, ExactBackend.self))
        #expect(current.param_count == 2 && current.params![1].type == INJECT_PARAM_FILE.rawValue)
    }

    @Test func theHostTableIsReadOnlyUpToItsSize() {
        let table = hostTable(size: INJECT_HOST_API_SIZE_1_1, minor: 1)
        let copy = HostTable.copy(table)
        #expect(copy.pointee.add_field == nil, "a 1.1 host's table has no add_field slot")
        #expect(copy.pointee.add_step != nil)
    }
}
