import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// The lab's QEMU command line: a q35 machine with its PCIe topology, QEMU from a Debian suite,
/// and CXL memory when asked for.
@Suite struct LabMachineTests {
    static let kernel = KernelAssets(
        release: "6.12.95+deb12-amd64", image: FilePath("/boot/vmlinuz"), modules: FilePath("/lib/modules/x"),
        origin: "test")

    func argv(qemu: LabQEMU, cxl: Bool) throws -> [String] {
        let paths = try LabPaths(name: "argv-test", environment: ["XDG_RUNTIME_DIR": "/tmp"])
        return QEMUCommand.arguments(
            paths: paths, kernel: Self.kernel, root: "/cache/guest-root/bookworm-1.sqfs", memoryMiB: 512, cpus: 1,
            layout: .lab, smbiosFiles: [],
            extraKernelArguments: [], qemu: qemu, devices: LabDevices.standard + (cxl ? [LabCXL()] : []))
    }

    @Test func theGuestGetsTwoReadOnlyDisksAndNoHostDirectory() throws {
        let qemu = LabQEMU(
            spec: "machine", binary: "/usr/bin/qemu-system-x86_64", dataDirectories: [], version: "7.2", origin: "test")
        let line = try argv(qemu: qemu, cxl: false)
        #expect(!line.contains("-virtfs") && !line.contains { $0.contains("mount_tag") })
        let drives = zip(line, line.dropFirst()).filter { $0.0 == "-drive" }.map(\.1)
        #expect(
            drives == [
                "file=/cache/guest-root/bookworm-1.sqfs,if=none,id=root,format=raw,readonly=on",
                "file=\(try LabPaths(name: "argv-test", environment: ["XDG_RUNTIME_DIR": "/tmp"]).packageLayer),if=none,id=package,format=raw,readonly=on",
            ])
        let devices = zip(line, line.dropFirst()).filter { $0.0 == "-device" }.map(\.1)
        #expect(devices.contains("virtio-blk-pci,drive=root,serial=\(GuestInit.rootSerial)"))
        #expect(devices.contains("virtio-blk-pci,drive=package,serial=\(GuestInit.packageSerial)"))
        // QEMU's option syntax: a comma in a path is written twice.
        #expect(QEMUCommand.disk("/a,b.sqfs", id: "x", serial: "s")[1].hasPrefix("file=/a,,b.sqfs,"))
    }

    @Test func theMachineIsQ35WithRootPortsEndpointsAndAFreeHotplugPort() throws {
        let qemu = LabQEMU(
            spec: "machine", binary: "/usr/bin/qemu-system-x86_64", dataDirectories: [], version: "7.2", origin: "test")
        let line = try argv(qemu: qemu, cxl: false)
        #expect(line.first == "/usr/bin/qemu-system-x86_64" && line[1] != "-L")
        #expect(line.contains("q35,memory-backend=ram0"))
        let devices = zip(line, line.dropFirst()).filter { $0.0 == "-device" }.map(\.1)
        #expect(
            devices.contains("pcie-root-port,id=rp0,bus=pcie.0,chassis=1,addr=4.0")
                && devices.contains("virtio-rng-pci,id=ep0,bus=rp0,aer=on"))
        #expect(devices.contains("pcie-root-port,id=\(LabPCIe.hotplugPort),bus=pcie.0,chassis=3,addr=6.0"))
        #expect(
            !devices.contains { $0.hasPrefix("\(LabPCIe.hotplugPort)") || $0.contains("bus=\(LabPCIe.hotplugPort)") },
            "the hotplug port stays empty")
        #expect(!line.joined(separator: " ").contains("cxl"))
    }

    @Test func aSuitesQEMURunsWithItsOwnFirmwareFirstAndCXLAddsItsTopology() throws {
        let root = FilePath("/var/cache/inject/lab/qemu/qemu-10")
        let qemu = LabQEMU(
            spec: "bookworm-backports", binary: root.appending("usr/bin/qemu-system-x86_64").string,
            dataDirectories: [root.appending("usr/share/qemu").string, "/usr/share/qemu"], version: "10.0.2",
            origin: "test")
        let line = try argv(qemu: qemu, cxl: true)
        #expect(
            Array(line.prefix(5)) == [
                qemu.binary, "-L", root.appending("usr/share/qemu").string, "-L", "/usr/share/qemu",
            ])
        #expect(line.contains("q35,cxl=on,memory-backend=ram0"))
        let text = line.joined(separator: " ")
        for part in [
            "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1",
            "cxl-type3,bus=cxl-rp0,persistent-memdev=cxl-mem0,lsa=cxl-lsa0,id=\(LabCXL.deviceID),sn=1",
            "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G",
        ] {
            #expect(text.contains(part), "\(part)")
        }
    }

    @Test func anUnknownQEMUSourceIsRefusedNamingTheChoices() async {
        do {
            _ = try await LabQEMU.locate("sid", cache: "/nonexistent", environment: [:]) { _ in }
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("machine") && error.description.contains("bookworm-backports"))
        }
    }
}
