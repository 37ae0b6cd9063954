import Foundation
import InjectTestSupport
import Testing

/// `doctor`'s view of rasdaemon's trace instance on a tree laid out as tracefs is.
@Suite("rasdaemon in doctor")
struct RasdaemonDoctorTests {
    /// An instance that records `enabled`, has `disabled` switched off, and lacks every other event.
    func tree(enabled: [String], disabled: [String]) throws -> URL {
        let root = try TestSupport.temporaryDirectory("inject-rasdaemon-doctor")
        let instance = root.appendingPathComponent("sys/kernel/tracing/instances/rasdaemon")
        for (events, value) in [(enabled, "1"), (disabled, "0")] {
            for event in events {
                let directory = instance.appendingPathComponent(
                    "events/" + event.replacingOccurrences(of: ":", with: "/"))
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data((value + "\n").utf8).write(to: directory.appendingPathComponent("enable"))
            }
        }
        try Data("0\n".utf8).write(to: instance.appendingPathComponent("buffer_percent"))
        return root
    }

    func eventsLine(_ root: URL) throws -> String {
        let doctor = try TestSupport.inject(["doctor", "--root", root.path])
        let line = doctor.stdout.split(separator: "\n").first { $0.contains("rasdaemon events") }
        return line.map(String.init) ?? "(no line in: \(doctor.stdout))"
    }

    @Test func anEventTheKernelLacksIsNotCalledUnrecorded() throws {
        let root = try tree(enabled: ["mce:mce_record", "ras:memory_failure_event"], disabled: [])
        defer { TestSupport.remove(root) }
        let line = try eventsLine(root)
        #expect(line.contains("records mce:mce_record, ras:memory_failure_event"), "\(line)")
        #expect(!line.contains("does not record") && !line.contains("cxl"), "\(line)")
    }

    @Test func anEventTheKernelHasAndRasdaemonLeavesOffIsNamed() throws {
        let root = try tree(enabled: ["mce:mce_record"], disabled: ["ras:memory_failure_event"])
        defer { TestSupport.remove(root) }
        let line = try eventsLine(root)
        #expect(line.contains("does not record ras:memory_failure_event (records mce:mce_record)"), "\(line)")
    }
}
