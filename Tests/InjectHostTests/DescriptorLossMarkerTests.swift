import Foundation
import InjectPluginABI
import InjectTestSupport
import Testing

@testable import InjectHost

/// ABI 1.5: backends declare what the kernel prints when it drops their records and where the
/// consumer records their events; the host reads them only from descriptors that have them.
@Suite struct DescriptorLossMarkerTests {
    /// A descriptor with `markers` and `tables`, of `size` and minor `minor`, handed to `body`.
    func withDescriptor<T>(
        size: UInt32, minor: UInt16, markers: [(String, String)], tables: [(String, String)],
        _ body: (UnsafeRawPointer) throws -> T
    ) rethrows -> T {
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        func c(_ text: String) -> UnsafePointer<CChar> {
            let copy = strdup(text)!
            strings.append(copy)
            return UnsafePointer(copy)
        }
        var matches: [UnsafePointer<CChar>?] = markers.map { c($0.0) }
        var reasons: [UnsafePointer<CChar>?] = markers.map { c($0.1) }
        var events: [UnsafePointer<CChar>?] = tables.map { c($0.0) }
        var names: [UnsafePointer<CChar>?] = tables.map { c($0.1) }
        var d = inject_plugin_descriptor()
        d.struct_size = size
        d.abi_major = UInt16(INJECT_ABI_MAJOR)
        d.abi_minor = minor
        d.name = c("lossy")
        d.version = c("1.5")
        d.summary = c("a backend whose records the kernel may drop")
        d.plan = { _, _, _, _ in 0 }
        return try matches.withUnsafeMutableBufferPointer { matches in
            try reasons.withUnsafeMutableBufferPointer { reasons in
                try events.withUnsafeMutableBufferPointer { events in
                    try names.withUnsafeMutableBufferPointer { names in
                        d.loss_markers = UnsafePointer(matches.baseAddress)
                        d.loss_reasons = UnsafePointer(reasons.baseAddress)
                        d.loss_marker_count = UInt32(markers.count)
                        d.consumer_events = UnsafePointer(events.baseAddress)
                        d.consumer_tables = UnsafePointer(names.baseAddress)
                        d.consumer_table_count = UInt32(tables.count)
                        return try withUnsafeBytes(of: &d) { try body($0.baseAddress!) }
                    }
                }
            }
        }
    }

    @Test func a1_5DescriptorDeclaresItsLossesAndTables() throws {
        let info = try withDescriptor(
            size: INJECT_DESCRIPTOR_SIZE_1_5, minor: 5, markers: [("*pool full*", "the pool was full")],
            tables: [("ras:mc_event", "mc_event")]
        ) { try DescriptorReader.read($0, path: "/test/lossy.so") }
        #expect(info.lossMarkers == [KernelLossMarker(match: "*pool full*", reason: "the pool was full")])
        #expect(info.consumerTables == ["ras:mc_event": "mc_event"])
    }

    @Test func anOlderDescriptorIsReadOnlyUpToItsSizeOrMinor() throws {
        for (size, minor) in [(INJECT_DESCRIPTOR_SIZE_1_2, UInt16(4)), (INJECT_DESCRIPTOR_SIZE_1_5, UInt16(4))] {
            let info = try withDescriptor(size: size, minor: minor, markers: [("x", "y")], tables: [("a:b", "c")]) {
                try DescriptorReader.read($0, path: "/test/lossy.so")
            }
            #expect(info.lossMarkers.isEmpty && info.consumerTables.isEmpty, "size \(size), minor \(minor)")
        }
    }

    @Test func malformedDeclarationsRefuseThePluginNamingTheField() {
        let cases: [([(String, String)], [(String, String)], String)] = [
            (Array(repeating: ("*full*", "full"), count: 9), [], "loss_markers must be 0...8"),
            ([("say \"hi\"", "quoted")], [], "holds a quote"),
            ([("line\nbreak", "newline")], [], "control character"),
            ([], [("no-colon", "mc_event")], "must be [a-z][a-z0-9_]* for a system:event"),
            ([], [("ras:mc_event", "Bad Table")], "must be [a-z][a-z0-9_]* for a system:event"),
            ([], [("ras:mc_event", "mc_event"), ("ras:mc_event", "other")], "names ras:mc_event twice"),
        ]
        for (markers, tables, expected) in cases {
            do {
                _ = try withDescriptor(size: INJECT_DESCRIPTOR_SIZE_1_5, minor: 5, markers: markers, tables: tables) {
                    try DescriptorReader.read($0, path: "/test/lossy.so")
                }
                Issue.record("accepted: \(markers) \(tables)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// The shipped mce backend declares the kernel's pool-full message; its cache entry keeps it.
    @Test func theShippedBackendsDeclareTheirsAndTheCacheKeepsThem() throws {
        let plugin = TestSupport.productsDirectory.appendingPathComponent("libInjectMCE.so").path
        let registry = Registry(
            searchPath: PluginSearchPath(
                commandLine: [plugin], environment: nil, configured: [], executableDirectory: nil),
            pins: PluginPins(digests: [:], requirePinned: false), scanning: .inProcess)
        let info = try registry.registered(named: "mce").info
        #expect(info.lossMarkers.map(\.match) == ["*pool full*"])
        #expect(info.consumerTables["mce:mce_record"] == "mce_record")
        let entry = RegistryCache.Entry(
            path: plugin, key: PluginFileKey(device: 1, inode: 2, size: 3, modified: 4, changed: 5), info: info)
        let decoded = RegistryCacheFormat.decode(
            RegistryCacheFormat.encode([RegistryCache.Section(host: "h", entries: [entry])]))
        #expect(decoded?.first?.entries.first?.info == info)
    }
}
