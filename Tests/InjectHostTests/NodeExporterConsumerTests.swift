import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// node_exporter's metrics are read as Prometheus's text format says, and what its per-csrow
/// metric did is told from the kernel's own files.
@Suite struct NodeExporterConsumerTests {
    @Test func samplesAreReadWithTheirLabelsAndCommentsAreSkipped() {
        let text = PrometheusText(
            """
            # HELP node_edac_correctable_errors_total Total correctable memory errors.
            # TYPE node_edac_correctable_errors_total counter
            node_edac_correctable_errors_total{controller="0"} 4
            node_edac_csrow_correctable_errors_total{controller="0",csrow="unknown"} 0
            node_load1 0.25 1700000000000
            escaped{path="a\\"b,c=d"} 1e3
            broken{controller="0" 5
            """)
        #expect(text.value("node_edac_correctable_errors_total", ["controller": "0"]) == 4)
        #expect(text.value("node_edac_csrow_correctable_errors_total", ["controller": "0", "csrow": "unknown"]) == 0)
        #expect(text.value("node_load1", [:]) == 0.25)
        #expect(text.value("escaped", ["path": "a\"b,c=d"]) == 1000)
        #expect(text.samples.count == 4, "\(text.samples)")
        #expect(text.value("node_edac_correctable_errors_total", ["controller": "1"]) == nil)
    }

    @Test func aCounterPathNamesItsController() {
        #expect(NodeExporterConsumer.controller(of: "sys/devices/system/edac/mc/mc0/dimm2/dimm_ce_count") == "0")
        #expect(NodeExporterConsumer.controller(of: "sys/devices/system/edac/mc/mc12/ce_count") == "12")
        #expect(NodeExporterConsumer.controller(of: "sys/bus/pci/devices/0000:01:00.0/aer_dev_correctable") == nil)
        #expect(NodeExporterConsumer.controller(of: "sys/devices/system/edac/mc/mcX/ce_count") == nil)
    }

    /// The per-csrow metric's fate: no csrow files at all; csrows that stayed at zero while the
    /// DIMM counted (the driver named from `mc_name`); a csrow that moved.
    @Test func theCsrowMetricsFateIsToldFromTheKernelsFiles() throws {
        let root = try TestSupport.temporaryDirectory("exporter")
        defer { TestSupport.remove(root) }
        let mc = root.appendingPathComponent("sys/devices/system/edac/mc/mc0")
        try FileManager.default.createDirectory(
            at: mc.appendingPathComponent("dimm0"), withIntermediateDirectories: true)
        try Data("ghes_edac\n".utf8).write(to: mc.appendingPathComponent("mc_name"))
        let files = AttributeFiles(root: FilePath(root.path))
        let before = PrometheusText("node_edac_correctable_errors_total{controller=\"0\"} 0")
        let armed = NodeExporterConsumer.Armed(controllers: ["0"], metrics: before, kernel: [:])
        let none = NodeExporterConsumer.csrowFate("0", "ce_count", armed: armed, latest: before, files: files)
        #expect(none.contains("no csrow files") && none.contains("EDAC_LEGACY_SYSFS"), "\(none)")

        try FileManager.default.createDirectory(
            at: mc.appendingPathComponent("csrow0"), withIntermediateDirectories: true)
        let csrowBefore = PrometheusText(
            "node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"0\"} 0")
        let unmoved = NodeExporterConsumer.csrowFate(
            "0", "ce_count", armed: NodeExporterConsumer.Armed(controllers: ["0"], metrics: csrowBefore, kernel: [:]),
            latest: csrowBefore, files: files)
        #expect(unmoved.contains("did not move on any csrow") && unmoved.contains("mc0 is ghes_edac"), "\(unmoved)")
        #expect(unmoved.contains("edac_raw_mc_handle_error"), "\(unmoved)")

        let after = PrometheusText("node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"0\"} 2")
        let moved = NodeExporterConsumer.csrowFate(
            "0", "ce_count", armed: NodeExporterConsumer.Armed(controllers: ["0"], metrics: csrowBefore, kernel: [:]),
            latest: after, files: files)
        #expect(moved.contains("moved too") && moved.contains("csrow=0 +2"), "\(moved)")
    }
}
