import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectHost

/// The host's PCI targeting, keyed counters, device-node writes and HMP failures (ABI 1.4).
@Suite("PCI targeting and device writes")
struct PCITargetingTests {
    @Test func addressesAreNormalizedAndBadOnesRefused() {
        #expect(PCIDeviceResolver.normalizedAddress("01:00.0") == "0000:01:00.0")
        #expect(PCIDeviceResolver.normalizedAddress("1:1F.7") == "0000:01:1f.7")
        #expect(PCIDeviceResolver.normalizedAddress("0001:02:03.1") == "0001:02:03.1")
        for bad in ["01:20.0", "01:00.8", "100:00.0", "ep0", "01:00", "", "0:0:0:0.0"] {
            #expect(PCIDeviceResolver.normalizedAddress(bad) == nil, "\(bad)")
        }
    }

    /// QEMU's query-pci: devices behind bridges are found, with the bus numbers the guest gave.
    @Test func qemuIdsComeFromQueryPCIBridgesFollowed() throws {
        let answer = try JSONValue.parse(
            """
            [{"bus": 0, "devices": [
              {"bus": 0, "slot": 4, "function": 0, "qdev_id": "rp0", "pci_bridge": {"bus": {"number": 1}, "devices": [
                {"bus": 1, "slot": 0, "function": 0, "qdev_id": "ep0"}]}},
              {"bus": 0, "slot": 31, "function": 3, "qdev_id": ""}]}]
            """)
        let found = PCIDeviceResolver.devices(in: answer)
        #expect(found.map(\.address) == ["0000:00:04.0", "0000:01:00.0"] && found.map(\.id) == ["rp0", "ep0"])
    }

    @Test func devicesAreFoundOnTheTargetOrNamedWhenMissing() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/bus/pci/devices/0000:01:00.0/vendor"])
        let resolver = PCIDeviceResolver(files: AttributeFiles(root: FilePath(root.path)), qmpSocket: nil)
        #expect(try resolver.resolve("01:00.0") == .init(address: "0000:01:00.0", qemuID: nil, isPresent: true))
        #expect(throws: PCIDeviceResolver.Failure.self) { try resolver.resolve("02:00.0") }
        do {
            _ = try resolver.resolve("ep0")
            Issue.record("a QEMU id without a monitor")
        } catch {
            #expect(error.description.contains("need a QEMU monitor"))
        }
    }

    @Test func keyedCountersReadTheirLine() {
        let text = "RxErr 2\nBadTLP 0\nTOTAL_ERR_COR 3\n"
        #expect(
            Verifier.counterValue(text, key: "TOTAL_ERR_COR") == 3 && Verifier.counterValue(text, key: "RxErr") == 2)
        #expect(Verifier.counterValue(text, key: "Missing") == nil && Verifier.counterValue("7\n", key: nil) == 7)
        #expect(Verifier.counterSource("sys/x/aer_dev_correctable#RxErr") == ("sys/x/aer_dev_correctable", "RxErr"))
    }

    /// A device write goes only to a character device: a regular file is refused untouched, and a
    /// FIFO (which would block an ordinary open) is refused at once.
    @Test func deviceWritesOnlyWriteDevices() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["dev/aer_inject"])
        #expect(mkfifo(root.path + "/dev/fifo", 0o600) == 0)
        let files = AttributeFiles(root: FilePath(root.path))
        #expect(throws: TargetError.notADevice(path: root.path + "/dev/aer_inject")) {
            try files.writeDevice([1, 2, 3], to: TargetPath("dev/aer_inject"), hint: nil)
        }
        // A FIFO without a reader fails its non-blocking open (ENXIO) instead of waiting forever.
        #expect(throws: TargetError.self) { try files.writeDevice([1, 2, 3], to: TargetPath("dev/fifo"), hint: nil) }
        #expect(TestSupport.read(root, "dev/aer_inject") == "")
        // /dev/null is a character device: the record is written.
        try AttributeFiles().writeDevice([1, 2, 3], to: TargetPath("dev/null"), hint: nil)
    }

    @Test func hmpFailuresAreFailures() {
        #expect(QMPClient.isHMPFailure("failed to inject error: Invalid argument\r\n"))
        #expect(QMPClient.isHMPFailure("Error: device not found"))
        #expect(
            !QMPClient.isHMPFailure("OK id: ep1 root bus: 0000:00, bus: 2 devfn: 0.0\r\n")
                && !QMPClient.isHMPFailure(""))
    }
}
