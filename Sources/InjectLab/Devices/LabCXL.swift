import FirmwareFormats
import InjectHost

/// The lab's CXL memory (`inject lab up --with cxl`): a CXL host bridge (`pxb-cxl`, bus 12) with one
/// root port and a type-3 memory device (`cxl-pmem0`, serial 1) whose persistent memory and label
/// storage are files of 256 MiB each in the lab's state directory, and a fixed memory window of
/// 4 GiB targeting the bridge. The guest loads the kernel's CXL drivers, which list the device
/// as `mem0`; QEMU 10's QMP injects its events, poison and protocol errors, and the lab's EINJ
/// firmware produces EINJ's CXL protocol error types by setting them in the device.
public struct LabCXL: LabDevice {
    public init() {}
    public var name: String { "cxl" }
    public var summary: String {
        "a CXL type-3 memory device with its host bridge and root port, and the kernel's CXL drivers (QEMU 10)"
    }
    public var machineProperties: [String] { ["cxl=on"] }
    public var requiredModules: [String] { Self.modules }
    /// QEMU 10 has the CXL injection commands; bookworm's 7.2 does not.
    public var neededQEMU: String? { "bookworm-backports" }
    /// The CXL protocol error types: CXL.cache and CXL.mem, correctable and uncorrectable non-fatal
    /// (ACPI 6.5 bits 12, 13, 15, 16).
    public var einjTypes: UInt32 { 0x1000 | 0x2000 | 0x8000 | 0x10000 }

    /// QEMU's id of the memory device (its QOM path is `/machine/peripheral/<id>`).
    public static let deviceID = "cxl-pmem0"
    /// QEMU's id of the CXL root port the device sits below (its downstream port).
    public static let rootPortID = "cxl-rp0"
    /// The device's serial number.
    public static let serial: UInt64 = 1
    /// Size of each backing file.
    static let backingMiB = 256
    /// The kernel modules that find and drive the device (cxl_core comes as their dependency).
    static let modules = ["cxl_acpi", "cxl_port", "cxl_pci", "cxl_mem"]

    /// The backing files of the device's memory and label storage.
    public func prepare(_ paths: LabPaths) throws(LabError) {
        for file in Self.backingFiles(paths) { try LabFileSystem.allocate(file, size: Int64(Self.backingMiB) << 20) }
    }

    /// QEMU 10 restores neither the CXL host bridge's bus nor its root port's bridge registers
    /// (after a restore `query-pci` shows cxl-rp0 with secondary bus 0 and nothing below it), so
    /// a restored guest's CXL device is unreachable: a CXL lab boots.
    public var snapshotRefusal: String? {
        "QEMU does not restore the CXL host bridge's bus, so the device below cxl-rp0 is unreachable after a restore"
    }

    /// The platform clears the device's RAS masks before the drivers load (``CXLRASMasks``).
    public var beforeDrivers: String { CXLRASMasks.script }

    /// The guest's CXL devices, and the platform's part in CXL RAS (``CXLRASMasks`` before the
    /// drivers, ``unmaskInternalErrors(_:memdev:)`` now).
    public func afterBoot(_ lab: Lab) throws(LabError) -> [String] {
        let names = Self.guestDevices(lab.paths)
        let devices =
            names.isEmpty
            ? "no devices listed by the guest (are the cxl modules loaded? dmesg | grep -i cxl)"
            : names.joined(separator: " ")
        return [
            "CXL          \(devices); QEMU device \(Self.deviceID), serial \(Self.serial)",
            "CXL RAS      " + (try Self.unmaskInternalErrors(lab.paths)),
            "CXL RAS      " + (try CXLRASMasks.report(lab)),
        ]
    }

    /// The guest's CXL devices; the drivers find the device shortly after their modules load, so
    /// the list is read until it names a memory device (5 s at most).
    static func guestDevices(_ paths: LabPaths) -> [String] {
        var names: [String] = []
        for _ in 0..<25 {
            names = ((try? AgentFiles(paths).list(TargetPath("sys/bus/cxl/devices"))) ?? []).map(\.name)
            if names.contains(where: { $0.hasPrefix("mem") }) { break }
            usleep(200_000)
        }
        return names
    }

    static func backingFiles(_ paths: LabPaths) -> [FilePath] {
        [paths.stateDirectory.appending("cxl-mem0"), paths.stateDirectory.appending("cxl-lsa0")]
    }

    /// QEMU's arguments for the topology (the machine also needs `cxl=on`).
    public func qemuArguments(_ paths: LabPaths) -> [String] {
        let files = Self.backingFiles(paths)
        return [
            "-object", "memory-backend-file,id=cxl-mem0,share=on,mem-path=\(files[0]),size=\(Self.backingMiB)M",
            "-object", "memory-backend-file,id=cxl-lsa0,share=on,mem-path=\(files[1]),size=\(Self.backingMiB)M",
            "-device", "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1",
            "-device", "cxl-rp,port=0,bus=cxl.1,id=\(Self.rootPortID),chassis=0,slot=2",
            "-device",
            "cxl-type3,bus=\(Self.rootPortID),persistent-memdev=cxl-mem0,lsa=cxl-lsa0,id=\(Self.deviceID),sn=\(Self.serial)",
            "-M", "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G",
        ]
    }

    /// The platform's part in CXL RAS, as a CXL-aware firmware does it: the device's protocol
    /// errors reach the OS as AER Corrected and Uncorrectable Internal Errors, which the PCIe
    /// default masks (and the 6.12 kernel leaves masked on a CXL endpoint), so QEMU's
    /// `cxl-inject-*-error` would be recorded and never reported. The lab clears those two mask
    /// bits in the device's AER capability once at boot; what it did, for `lab status`.
    static func unmaskInternalErrors(_ paths: LabPaths, memdev: String = "mem0") throws(LabError) -> String {
        let files: AgentFiles
        do { files = try AgentFiles(paths) } catch { throw .agent("\(error)") }
        let devices = ((try? files.list(TargetPath("sys/bus/pci/devices"))) ?? []).map(\.name)
        guard let address = devices.first(where: { files.exists("sys/bus/pci/devices/\($0)/\(memdev)") }) else {
            return "no PCI device holds \(memdev): internal errors left masked"
        }
        let config: [UInt8]
        do { config = try files.read(TargetPath("sys/bus/pci/devices/\(address)/config")) } catch {
            throw .agent("reading \(address)'s configuration space: \(error)")
        }
        func dword(_ offset: Int) -> UInt32 {
            offset + 4 <= config.count ? (0..<4).reduce(0) { $0 | UInt32(config[offset + $1]) << (8 * UInt32($1)) } : 0
        }
        var capability = 0x100
        for _ in 0..<480 where capability >= 0x100 && dword(capability) & 0xFFFF != 1 {
            capability = Int(dword(capability) >> 20) & 0xFFC
        }
        guard capability >= 0x100, dword(capability) & 0xFFFF == 1 else {
            return "\(address) has no AER capability: internal errors left masked"
        }
        let writes = [
            (capability + 0x08, dword(capability + 0x08) & ~(1 << 22)),
            (capability + 0x14, dword(capability + 0x14) & ~(1 << 14)),
        ]
        for (offset, value) in writes {
            // Octal escapes: the guest's /bin/sh (dash) printf has no \x.
            let bytes = (0..<4).map { index -> String in
                let digits = String(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))), radix: 8)
                return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }.joined()
            let command =
                "printf '\(bytes)' | dd of=/sys/bus/pci/devices/\(address)/config bs=4 seek=\(offset / 4) count=1 conv=notrunc status=none"
            let result = try Lab(paths: paths).exec(command, timeoutSeconds: 10)
            guard result.status == 0 else { throw .agent("unmasking \(address)'s internal errors: \(result.text)") }
        }
        return
            "\(address): Corrected and Uncorrectable Internal Errors unmasked in its AER capability (\(hexNumber(capability)))"
    }

    /// The shape of the topology for the SCI path's DSDT cache key (no file paths).
    public var shape: String { "cxl: pxb-cxl bus_nr=12, cxl-rp, cxl-type3 \(Self.backingMiB)M, cxl-fmw 4G" }

    /// A CXL protocol error (CXL.cache or CXL.mem, correctable or uncorrectable non-fatal) into the
    /// port or device the SBDF names, as a platform does it: set in the device's RAS capability
    /// (QEMU's cxl-inject-* on the lab's type-3 device), which reports it natively through AER.
    /// The platform picks the error within the protocol: data ECC.
    public func einjError(type: UInt32, parameters: EINJParameters, qmpSocket: String)
        -> Result<EINJFirmware.PendingError, EINJFirmware.Refusal>
    {
        typealias Refusal = EINJFirmware.Refusal
        guard parameters.flags & 0x4 != 0 else {
            return .failure(Refusal(text: "a CXL error needs the port's SBDF (flags bit 2)"))
        }
        let address = PCIeSBDF(raw: parameters.pcieSBDF).text
        let devices = (try? PCIDeviceResolver.qemuDevices(socketPath: qmpSocket)) ?? []
        guard let id = devices.first(where: { $0.address == address })?.id else {
            return .failure(Refusal(text: "\(address) is not a device of this platform"))
        }
        guard id == Self.rootPortID || id == Self.deviceID else {
            return .failure(
                Refusal(text: "\(address) (\(id)) is not a CXL port or device (\(Self.rootPortID), \(Self.deviceID))"))
        }
        let cache = type & (0x1000 | 0x2000) != 0
        let correctable = type & (0x1000 | 0x8000) != 0
        let error = cache ? "cache-data-ecc" : "mem-data-ecc"
        let path = JSONValue.string("/machine/peripheral/\(Self.deviceID)")
        let delivery: EINJFirmware.PendingError.Delivery =
            correctable
            ? .device(
                command: "cxl-inject-correctable-error", arguments: .object(["path": path, "type": .string(error)]))
            : .device(
                command: "cxl-inject-uncorrectable-errors",
                arguments: .object([
                    "path": path, "errors": .array([.object(["type": .string(error), "header": .array([])])]),
                ]))
        let summary =
            "CXL.\(cache ? "cache" : "mem") \(correctable ? "correctable" : "uncorrectable") \(error) below \(address) (\(Self.deviceID))"
        return .success(EINJFirmware.PendingError(type: type, delivery: delivery, summary: summary))
    }
}
