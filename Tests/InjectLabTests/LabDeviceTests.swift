import FirmwareFormats
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// The lab's machine is its devices: what each adds to QEMU's command line, to the guest's
/// modules, to the firmware's EINJ types and to the QEMU chosen, and a new device is one type.
@Suite struct LabDeviceTests {
    /// A device the lab does not ship, as a new one would be written.
    struct WatchdogDevice: LabDevice {
        var name: String { "watchdog" }
        var machineProperties: [String] { ["smm=off"] }
        func qemuArguments(_ paths: LabPaths) -> [String] {
            ["-device", "i6300esb,id=wd0", "-global", "wd0.x=\(paths.stateDirectory)"]
        }
        var guestModules: [String] { ["i6300esb"] }
        var einjTypes: UInt32 { 0x4_0000 }
    }

    func argv(_ devices: [any LabDevice]) throws -> [String] {
        let paths = try LabPaths(name: "devices-test", environment: ["XDG_RUNTIME_DIR": "/tmp"])
        let qemu = LabQEMU(
            spec: "machine", binary: "/usr/bin/qemu-system-x86_64", dataDirectories: [], version: "7.2", origin: "test")
        return QEMUCommand.arguments(
            paths: paths, kernel: LabMachineTests.kernel, root: "/cache/guest-root/bookworm-1.sqfs", memoryMiB: 512,
            cpus: 1, layout: .lab, smbiosFiles: [],
            extraKernelArguments: [], qemu: qemu, devices: devices)
    }

    @Test func everyStandardDeviceIsOnTheCommandLineInOrder() throws {
        let line = try argv(LabDevices.standard).joined(separator: " ")
        let bmc = try #require(line.firstRange(of: "ipmi-bmc-sim,id=bmc0"))
        let pvpanic = try #require(line.firstRange(of: "-device pvpanic"))
        let pcie = try #require(line.firstRange(of: "pcie-root-port,id=rp0"))
        #expect(bmc.lowerBound < pvpanic.lowerBound && pvpanic.lowerBound < pcie.lowerBound)
        #expect(line.contains("-machine q35,memory-backend=ram0"))
    }

    @Test func aNewDeviceIsOneTypeAndReachesTheMachine() throws {
        let line = try argv(LabDevices.standard + [WatchdogDevice()])
        #expect(line.contains("q35,smm=off,memory-backend=ram0"))
        #expect(line.contains("i6300esb,id=wd0"))
        var options = Lab.Options()
        options.addedDevices = [WatchdogDevice()]
        #expect(options.offeredEINJTypes == EINJRegisters.defaultTypes | 0x4_0000)
        #expect(options.devices.map(\.name) == ["bmc", "pvpanic", "pcie", "watchdog"])
        #expect(options.devices.flatMap(\.guestModules).contains("i6300esb"))
    }

    @Test func shapesNameNoFilesSoTheDSDTCacheIsShared() throws {
        for device in LabDevices.standard + LabDevices.optional + [WatchdogDevice()] {
            #expect(
                !device.shape.contains("/tmp") && !device.shape.contains("devices-test"),
                "\(device.name): \(device.shape)")
        }
        var one = Lab.Options()
        var other = Lab.Options()
        other.name = "another"
        #expect(one.shape(qemuVersion: "7.2") == other.shape(qemuVersion: "7.2"))
        one.addedDevices = [LabCXL()]
        #expect(one.shape(qemuVersion: "7.2") != other.shape(qemuVersion: "7.2"), "CXL changes the machine's DSDT")
    }

    @Test func cxlBringsItsQEMUItsEINJTypesAndItsRequiredDrivers() {
        var options = Lab.Options()
        #expect(
            options.qemuSpelling == LabQEMU.machineSpelling && options.offeredEINJTypes == EINJRegisters.defaultTypes)
        options.addedDevices = [LabCXL()]
        #expect(options.qemuSpelling == "bookworm-backports")
        #expect(options.offeredEINJTypes == EINJRegisters.defaultTypes | 0x1B000)
        #expect(LabCXL().requiredModules == ["cxl_acpi", "cxl_port", "cxl_pci", "cxl_mem"])
        // What the user chose wins over what the device would pick.
        options.qemu = "machine"
        options.einjTypes = 0x8
        #expect(options.qemuSpelling == "machine" && options.offeredEINJTypes == 0x8)
    }

    @Test func theFirmwareCanProduceThePlatformsTypesAndEveryDevicesOnly() {
        #expect(EINJRegisters.supportedTypes == 0x1FF | 0x1B000 | 0x3 << EINJRegisters.v2Shift)
        #expect(LabDevices.named("cxl")?.name == "cxl")
        #expect(LabDevices.named("pcie") == nil, "standard devices are not added with --with")
        #expect(LabDevices.machine(with: ["cxl", "nonsense"]).map(\.name) == ["bmc", "pvpanic", "pcie", "cxl"])
    }

    @Test func aDeviceWithoutEINJTypesRefusesWithItsName() {
        let parameters = try? EINJParameters(parsing: [UInt8](repeating: 0, count: EINJParameters.size))
        guard let parameters else {
            Issue.record("zero parameters do not parse")
            return
        }
        guard
            case .failure(let refusal) = LabBMC().einjError(
                type: 0x2, parameters: parameters, qmpSocket: "/nonexistent")
        else {
            Issue.record("the BMC produced an EINJ error")
            return
        }
        #expect(refusal.text.contains("bmc"))
        guard
            case .failure(let noSBDF) = LabCXL().einjError(
                type: 0x1000, parameters: parameters, qmpSocket: "/nonexistent")
        else {
            Issue.record("a CXL error without an SBDF was accepted")
            return
        }
        #expect(noSBDF.text.contains("SBDF"))
    }
}
