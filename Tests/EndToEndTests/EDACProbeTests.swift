import FirmwareFormats
import Foundation
import InjectTestSupport
import Testing

/// `inject probe edac` and a DIMM-targeted dry run against a `--root` tree shaped like a ghes_edac
/// machine: controllers, DIMM labels and counts come from the tree; the handle from its SMBIOS table.
@Suite struct EDACProbeTests {
    func makeTree() throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        let mc = "sys/devices/system/edac/mc/mc0"
        var files = [
            "\(mc)/mc_name": "ghes_edac", "\(mc)/ce_count": "7", "\(mc)/ue_count": "0", "\(mc)/ce_noinfo_count": "0",
            "\(mc)/size_mb": "1024",
        ]
        for (index, (label, count)) in [("CPU0 DIMM_A1", 3), ("CPU0 DIMM_B1", 4)].enumerated() {
            files["\(mc)/dimm\(index)/dimm_label"] = label
            files["\(mc)/dimm\(index)/dimm_location"] = "memory \(index) "
            files["\(mc)/dimm\(index)/size"] = "512"
            files["\(mc)/dimm\(index)/dimm_ce_count"] = String(count)
            files["\(mc)/dimm\(index)/dimm_ue_count"] = "0"
        }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((text + "\n").utf8).write(to: url)
        }
        let table =
            [
                SMBIOSMemoryDevice(
                    handle: 0x2000, arrayHandle: 0x1000, sizeMiB: 512, deviceLocator: "DIMM_A1", bankLocator: "CPU0"),
                SMBIOSMemoryDevice(
                    handle: 0x2001, arrayHandle: 0x1000, sizeMiB: 512, deviceLocator: "DIMM_B1", bankLocator: "CPU0"),
            ]
            .flatMap { $0.structure().encoded() } + SMBIOSStructure(type: 127, handle: 0xFEFF, formatted: []).encoded()
        let dmi = root.appendingPathComponent("sys/firmware/dmi/tables/DMI")
        try FileManager.default.createDirectory(at: dmi.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(table).write(to: dmi)
        return root
    }

    @Test func probePrintsBothDIMMsWithTheirCounts() throws {
        let root = try makeTree()
        defer { TestSupport.remove(root) }
        let probe = try TestSupport.inject(["probe", "edac", "--root", root.path])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(
            probe.stdout.contains("mc0/dimm0    'CPU0 DIMM_A1' at memory 0, 512 MiB, ce 3 ue 0, SMBIOS handle 0x2000"),
            "\(probe.stdout)")
        #expect(
            probe.stdout.contains("mc0/dimm1    'CPU0 DIMM_B1' at memory 1, 512 MiB, ce 4 ue 0, SMBIOS handle 0x2001"),
            "\(probe.stdout)")
        // info --explain shows the same enumeration beside the parameters.
        let info = try TestSupport.inject(["info", "edac", "--explain", "--root", root.path])
        #expect(
            info.stdout.contains("on this target (`inject probe edac`):")
                && info.stdout.contains("'CPU0 DIMM_B1' at memory 1, 512 MiB, ce 4 ue 0"), "\(info.stdout)")
        let plan = try TestSupport.inject([
            "run", "edac", "dimm=DIMM_B1", "count=2", "block_address=0x10001000", "--dry-run", "--root", root.path,
        ])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("module_handle: 8193"), "\(plan.stdout)")
        #expect(
            plan.stdout.contains("dimm1/dimm_ce_count +2 exactly")
                && plan.stdout.contains("dimm0/dimm_ce_count unchanged"), "\(plan.stdout)")
    }
}
