import FirmwareFormats
import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// The lab's EINJ firmware validates what the OS wrote as a platform would, and hands the types
/// beyond its own to the device that produces them.
@Suite struct EINJFirmwareTests {
    /// A sparse guest RAM file with `parameters` at the firmware's parameter block, and the firmware.
    func firmware(
        _ parameters: EINJParameters, types: UInt32, devices: [String] = [], extension: EINJv2Extension? = nil
    ) throws -> (EINJFirmware, URL) {
        let directory = try TestSupport.temporaryDirectory()
        let memory = directory.appendingPathComponent("ram")
        let layout = FirmwareLayout.lab
        _ = FileManager.default.createFile(atPath: memory.path, contents: nil)
        let handle = try FileHandle(forWritingTo: memory)
        try handle.truncate(atOffset: layout.base + layout.size)
        try handle.close()
        let block = EINJv2Extension(capacity: EINJRegisters.v2Components)
        try FileIO.write(
            parameters.encoded() + (`extension` ?? block).encoded(), at: Int64(layout.einj.parameters),
            of: FilePath(memory.path))
        let firmware = EINJFirmware(
            layout: layout, memory: FilePath(memory.path), memoryBytes: 512 << 20, cpus: 1, types: types,
            qmpSocket: directory.appendingPathComponent("no-qmp.sock").path,
            countsFile: FilePath(directory.appendingPathComponent("einj.json").path),
            devices: LabDevices.machine(with: devices))
        return (firmware, directory)
    }

    func refusal(_ result: Result<EINJFirmware.PendingError, EINJFirmware.Refusal>) -> String? {
        if case .failure(let refusal) = result { return refusal.text }
        return nil
    }

    @Test func aCorrectedMemoryErrorBecomesARecordForItsAddress() throws {
        let (firmware, directory) = try firmware(
            EINJParameters(type: 0x8, flags: 0x2, memoryAddress: 0x5000), types: EINJRegisters.defaultTypes)
        defer { TestSupport.remove(directory) }
        guard case .success(let error) = firmware.accept(-1) else {
            Issue.record("refused")
            return
        }
        #expect(error.type == 0x8 && error.summary == "memory corrected at 0x5000")
        guard case .records(let blocks, let corrected) = error.delivery, blocks.count == 1 else {
            Issue.record("not a CPER record")
            return
        }
        #expect(corrected)
    }

    @Test func whatAPlatformRefusesIsRefusedWithTheReason() throws {
        let cases: [(EINJParameters, String)] = [
            (EINJParameters(type: 0x20, flags: 0x2, memoryAddress: 0x5000), "error type 0x20 is not offered"),
            (
                EINJParameters(type: 0x8, flags: 0x2, memoryAddress: FirmwareLayout.lab.base + 8),
                "outside the firmware window"
            ),
            (EINJParameters(type: 0x8), "a memory error needs an address"),
            (EINJParameters(type: 0x1, flags: 0x1, apicID: 3), "APIC ID 3 is not one of the 1 CPU(s)"),
            (EINJParameters(type: 0x8 | 0x10, flags: 0x2, memoryAddress: 0x5000), "is not offered"),
        ]
        for (parameters, expected) in cases {
            let (firmware, directory) = try firmware(parameters, types: EINJRegisters.defaultTypes)
            defer { TestSupport.remove(directory) }
            let text = refusal(firmware.accept(-1))
            #expect(text?.contains(expected) == true, "\(parameters.type): \(text ?? "accepted")")
        }
    }

    /// An EINJv2 extension with `components` (ID, syndrome) in the platform's room.
    func v2(_ components: [(UInt8, UInt8)]) -> EINJv2Extension {
        var block = EINJv2Extension(capacity: EINJRegisters.v2Components)
        block.components = components.map { .init(id: [$0.0], syndrome: [$0.1]) }
        return block
    }

    @Test func anEINJv2MemoryErrorBecomesOneRecordPerComponentWithItsSyndrome() throws {
        let offer = EINJRegisters.defaultTypes | 0x2 << EINJRegisters.v2Shift
        let (firmware, directory) = try firmware(
            EINJParameters(type: 0x2, flags: 0xA, memoryAddress: 0x5000), types: offer,
            extension: v2([(1, 0x4), (3, 0x7)]))
        defer { TestSupport.remove(directory) }
        guard case .success(let error) = firmware.accept(-1), case .records(let blocks, true) = error.delivery else {
            Issue.record("refused or not corrected records: \(refusal(firmware.accept(-1)) ?? "")")
            return
        }
        #expect(blocks.count == 2, "one record per component")
        let entries = blocks.map { $0.entries[0] }
        #expect(entries.map(\.fruText) == ["synd 0x4", "synd 0x7"])
        #expect(entries.map { $0.fruID?.bytes.first } == [1, 3])
        let handles = entries.compactMap { entry -> UInt64? in
            if case .fixed(let section) = entry.section { return section["module_handle"] }
            return nil
        }
        #expect(handles == [0x1100, 0x1102], "DIMM_A1 and DIMM_B1 by their SMBIOS handles")
        #expect(error.summary.contains("2 component(s): 0x1 P0_CH_A DIMM_A1, 0x3 P0_CH_B DIMM_B1"), "\(error.summary)")
        // The registers offer it: bit 30 among the classic types, the v2 types in their own register.
        #expect(EINJRegisters.classicTypes(offer) == EINJRegisters.defaultTypes | 1 << 30)
        #expect(EINJRegisters.v2Types(offer) == 0x2 && EINJRegisters.v2Types(EINJRegisters.defaultTypes) == 0)
    }

    @Test func anEINJv2ComponentThePlatformHasNotIsRefused() throws {
        let offer = EINJRegisters.defaultTypes | 0x3 << EINJRegisters.v2Shift
        let cases: [(EINJParameters, EINJv2Extension, UInt32, String)] = [
            (
                EINJParameters(type: 0x2, flags: 0xA, memoryAddress: 0x5000), v2([(1, 4), (9, 4)]), offer,
                "component 0x9 is not one of this platform's memory components (0x1-0x4: its DIMMs)"
            ),
            (EINJParameters(type: 0x2, flags: 0xA, memoryAddress: 0x5000), v2([]), offer, "names no component"),
            (
                EINJParameters(type: 0x1, flags: 0x8), v2([(2, 1)]), offer,
                "component 0x2 is not one of this platform's processors"
            ),
            (
                EINJParameters(type: 0x4, flags: 0x8), v2([(1, 1)]), offer,
                "EINJv2 error type 0x4 is not offered (0x3)"
            ),
            (
                EINJParameters(type: 0x2, flags: 0xA, memoryAddress: 0x5000), v2([(1, 4)]),
                EINJRegisters.defaultTypes, "EINJv2 is not offered by this platform"
            ),
        ]
        for (parameters, block, types, expected) in cases {
            let (firmware, directory) = try firmware(parameters, types: types, extension: block)
            defer { TestSupport.remove(directory) }
            let text = refusal(firmware.accept(-1))
            #expect(text?.contains(expected) == true, "\(expected): \(text ?? "accepted")")
        }
    }

    @Test func aDevicesTypeGoesToTheDeviceThatProducesIt() throws {
        let sbdf = try #require(PCIeSBDF(segment: 0, bus: 13, device: 0, function: 0))
        let (firmware, directory) = try firmware(
            EINJParameters(type: 0x1000, flags: 0x4, pcieSBDF: sbdf.raw), types: EINJRegisters.defaultTypes | 0x1B000,
            devices: ["cxl"])
        defer { TestSupport.remove(directory) }
        // The CXL device looks the address up in QEMU; without a monitor it is no device of the platform.
        #expect(refusal(firmware.accept(-1))?.contains("0000:0d:00.0 is not a device of this platform") == true)
        let (without, other) = try self.firmware(
            EINJParameters(type: 0x1000, flags: 0x4, pcieSBDF: sbdf.raw), types: EINJRegisters.defaultTypes | 0x1B000)
        defer { TestSupport.remove(other) }
        #expect(
            refusal(without.accept(-1)) == "error type 0x1000 is produced by no device of this lab",
            "a lab without CXL does not produce it as a PCIe error")
    }
}

/// The lab's record: what `lab up` saved is read back whole, and a record from before devices were
/// parts still reads.
@Suite struct LabRecordTests {
    @Test func aRecordRoundTripsWithItsDevices() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        var record = LabRecord(
            name: "lab", pid: 42, memoryMiB: 512, cpus: 1, kernel: "6.12", kernelOrigin: "test", qmpSocket: "/q",
            agentSocket: "/a", guestMemory: "/m", consoleLog: "/c", sources: FirmwareLayout.lab.sources,
            bootSeconds: 9.5,
            residentKiB: nil, einjTypes: 0xdb)
        record.devices = ["cxl"]
        record.deviceStatus = ["CXL          mem0", "CXL RAS      unmasked"]
        let path = FilePath(directory.appendingPathComponent("lab.json").path)
        try record.save(path)
        #expect(LabRecord.load(path) == record)
        var old =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path.string)))
            as! [String: Any]
        old["devices"] = nil
        old["deviceStatus"] = nil
        old["cxl"] = true
        try JSONSerialization.data(withJSONObject: old).write(to: URL(fileURLWithPath: path.string))
        let read = try #require(LabRecord.load(path))
        #expect(
            read.devices == nil
                && LabDevices.machine(with: read.devices ?? []).map(\.name) == ["bmc", "pvpanic", "pcie"])
    }

    @Test func labNamesAreCheckedAndTheRAMFileIsTheUsers() throws {
        for bad in ["", "-x", "UPPER", "a/b", String(repeating: "a", count: 25), "a b"] {
            #expect(throws: LabError.invalidName(bad)) { try LabPaths.validate(bad) }
        }
        let paths = try LabPaths(name: "lab2", environment: ["XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(paths.guestMemory.string == "/dev/shm/inject-lab-\(getuid())-lab2.ram")
        #expect(
            paths.record.lastComponent?.string == "lab.json" && paths.stateDirectory.lastComponent?.string == "lab2")
    }
}

/// The guest RAM file sits at a fixed name in a shared directory: it is never opened through a
/// link and never another user's (issue 39, item 1).
@Suite struct LabFileTrustTests {
    @Test func aPlantedLinkIsRefusedAndItsTargetUntouched() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let victim = directory.appendingPathComponent("secret")
        try Data("root's secret\n".utf8).write(to: victim)
        let ram = directory.appendingPathComponent("inject-lab-0-lab.ram").path
        #expect(symlink(victim.path, ram) == 0)
        #expect(throws: LabError.self) { try LabFileSystem.allocate(FilePath(ram), size: 1 << 20) }
        #expect(try Data(contentsOf: victim) == Data("root's secret\n".utf8), "the link's target keeps its bytes")
        unlink(ram)
        try LabFileSystem.allocate(FilePath(ram), size: 1 << 20)
        #expect(try FileManager.default.attributesOfItem(atPath: ram)[.size] as? Int == 1 << 20)
    }

    @Test(.enabled(if: geteuid() == 0, "changing a file's owner needs root"))
    func anotherUsersFileIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let ram = directory.appendingPathComponent("inject-lab-0-lab.ram").path
        _ = FileManager.default.createFile(atPath: ram, contents: nil)
        chown(ram, 65534, 65534)
        #expect(throws: LabError.self) { try LabFileSystem.allocate(FilePath(ram), size: 1 << 20) }
    }
}

/// A lab directory is found, never trusted: another user's, a link, or one others can write is
/// refused before any of its files or sockets is used (issue 39, item 2).
@Suite struct LabDirectoryTrustTests {
    @Test(.enabled(if: geteuid() == 0, "changing a directory's owner needs root"))
    func squattedLinkedAndOpenDirectoriesAreRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let own = directory.appendingPathComponent("own")
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: false)
        chmod(own.path, 0o700)
        #expect(LabPaths.privacyProblem(FilePath(own.path)) == nil)
        #expect(LabPaths.privacyProblem(FilePath(directory.appendingPathComponent("missing").path)) == nil)
        chmod(own.path, 0o777)
        #expect(LabPaths.privacyProblem(FilePath(own.path))?.contains("group or others can write it") == true)
        chmod(own.path, 0o700)
        chown(own.path, 65534, 65534)
        #expect(LabPaths.privacyProblem(FilePath(own.path))?.contains("belongs to uid 65534") == true)
        let link = directory.appendingPathComponent("link").path
        #expect(symlink(directory.path, link) == 0)
        #expect(LabPaths.privacyProblem(FilePath(link))?.contains("not a directory") == true)
    }

    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func anotherUsersLabIsNotCaughtByASquattedDirectory() throws {
        // The unprivileged user 65534's labs live in /tmp/inject-lab-65534 when it has no
        // XDG_RUNTIME_DIR; root (the "attacker" here) makes that directory first, open to all.
        let squatted = "/tmp/inject-lab-65534"
        var info = stat()
        try #require(lstat(squatted, &info) != 0, "\(squatted) exists already; not touching it")
        #expect(mkdir(squatted, 0o777) == 0)
        chmod(squatted, 0o777)
        defer { rmdir(squatted) }
        for arguments in [["lab", "status"], ["lab", "exec", "true"], ["run", "ghes", "--lab", "lab", "--dry-run"]] {
            let result = try TestSupport.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", "HOME=/tmp", "INJECT_JOURNAL=off",
                    TestSupport.injectExecutable.path,
                ] + arguments)
            #expect(result.status != 0, "\(arguments): \(result.stdout)")
            #expect(
                result.stderr.contains("refused lab directory \(squatted): it belongs to uid 0"),
                "\(arguments): \(result.stderr)")
        }
    }
}
