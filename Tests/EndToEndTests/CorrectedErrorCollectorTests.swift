import Foundation
import InjectTestSupport
import Testing

/// The kernel's correctable-error collector (CEC) on a tree laid out as its debugfs files are:
/// `probe` and `doctor` name it, and the mce backend expects what such a kernel does with a
/// corrected memory error that has a usable address (the trace event, no console record).
@Suite("correctable-error collector")
struct CorrectedErrorCollectorTests {
    /// A target tree with mce-inject, a CPU of `vendor`, and the collector when `threshold` is set.
    func tree(threshold: Int?, vendor: String = "GenuineIntel", commandLine: String = "") throws -> URL {
        let root = try TestSupport.temporaryDirectory("inject-cec")
        try TestSupport.makeTree(root, files: HardeningTests.mceFiles + ["sys/kernel/debug/ras/daemon_active"])
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: root.appendingPathComponent(path))
        }
        try write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: \(vendor)\n")
        try write("proc/cmdline", commandLine + "\n")
        if let threshold {
            try write("sys/kernel/debug/ras/cec/action_threshold", "\(threshold)\n")
            try write("sys/kernel/debug/ras/cec/decay_interval", "86400\n")
        }
        return root
    }

    /// The plan's expectations for a corrected machine check with `arguments`, as (kind, match, note).
    func expectations(_ root: URL, _ arguments: [String]) throws -> [(kind: String, match: String, note: String)] {
        let run = try TestSupport.inject(
            ["run", "mce", "severity=corrected", "cpu=0", "bank=1"] + arguments + [
                "--dry-run", "--json", "--root", root.path,
            ])
        try #require(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let expected = try #require((json?["plan"] as? [String: Any])?["expectations"] as? [[String: Any]])
        return expected.map {
            ($0["kind"] as? String ?? "", $0["match"] as? String ?? "", $0["note"] as? String ?? "")
        }
    }

    @Test func aCollectedErrorIsExpectedInTheTraceAloneWithTheReason() throws {
        let root = try tree(threshold: 2)
        defer { TestSupport.remove(root) }
        let expected = try expectations(root, ["addr=0x2345000", "misc=0x8c"])
        #expect(expected.map(\.kind) == ["trace"], "no console record is expected: \(expected)")
        #expect(expected.first?.note.contains("correctable-error collector (CEC)") == true, "\(expected)")
        #expect(expected.first?.note.contains("'Soft-offlining pfn: 0x2345'") == true, "\(expected)")
        #expect(expected.first?.note.contains("at 2 error(s) on one page") == true, "\(expected)")
    }

    @Test(arguments: [
        ["addr=0x2345000"],  // no MISC: the address is not usable
        ["addr=0x2345000", "misc=0x4c"],  // MISC's address mode is not physical (1, segment offset)
        ["addr=0x2345000", "misc=0x8d"],  // least significant bit 13: coarser than a page
        ["addr=0x2345000", "misc=0x8c", "error_class=bus"],  // not a memory error
    ])
    func anErrorTheCollectorLeavesAloneIsExpectedInTheLog(arguments: [String]) throws {
        let root = try tree(threshold: 2)
        defer { TestSupport.remove(root) }
        let expected = try expectations(root, arguments)
        #expect(expected.map(\.kind) == ["trace", "dmesg"], "\(arguments): \(expected)")
        #expect(expected.allSatisfy { $0.note.isEmpty }, "\(expected)")
    }

    @Test func withoutTheCollectorOrOnAnotherVendorTheRecordIsExpectedInTheLog() throws {
        for root in [try tree(threshold: nil), try tree(threshold: 2, vendor: "AuthenticAMD")] {
            defer { TestSupport.remove(root) }
            #expect(try expectations(root, ["addr=0x2345000", "misc=0x8c"]).map(\.kind) == ["trace", "dmesg"])
        }
    }

    @Test func doctorAndProbeNameTheCollectorItsSettingsAndHowToTurnItOff() throws {
        func collector(_ root: URL) throws -> String {
            let doctor = try TestSupport.inject(["doctor", "--root", root.path])
            let line = doctor.stdout.split(separator: "\n").first { $0.contains("correctable-error collector") }
            return line.map(String.init) ?? "(no line in: \(doctor.stdout))"
        }
        let present = try tree(threshold: 3)
        let absent = try tree(threshold: nil)
        let off = try tree(threshold: nil, commandLine: "root=/dev/vda ras=cec_disable quiet")
        defer { [present, absent, off].forEach(TestSupport.remove) }
        let shown = try collector(present)
        #expect(shown.contains("present (CEC): action_threshold 3, decay_interval 86400 s"), "\(shown)")
        #expect(shown.contains("ras=cec_disable"), "\(shown)")
        #expect(try collector(absent).contains("not in this kernel (CONFIG_RAS_CEC unset)"))
        #expect(try collector(off).contains("turned off (ras=cec_disable)"))
        let probe = try TestSupport.inject(["probe", "--root", present.path])
        #expect(
            probe.stdout.contains("kernel:\n  yes  correctable-error collector  present (CEC): action_threshold 3"),
            "\(probe.stdout.suffix(600))")
    }
}
