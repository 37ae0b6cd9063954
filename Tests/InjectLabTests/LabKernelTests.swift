import FirmwareFormats
import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// Naming, unpacking and preparing guest kernels, without downloading one.
@Suite struct LabKernelTests {
    @Test func kernelSpellings() throws {
        #expect(try KernelSpec(parsing: "stock") == .stock)
        #expect(try KernelSpec(parsing: "bookworm-backports") == .suite("bookworm-backports"))
        #expect(try KernelSpec(parsing: "trixie") == .suite("trixie"))
        #expect(try KernelSpec(parsing: "trixie-backports") == .suite("trixie-backports"))
        #expect(try KernelSpec(parsing: "sid") == .suite("sid"))
        #expect(
            try KernelSpec(parsing: "linux-image-6.12.95+deb12-amd64") == .package("linux-image-6.12.95+deb12-amd64"))
        #expect(try KernelSpec(parsing: "/boot/vmlinuz-6.1.0-57-amd64") == .path("/boot/vmlinuz-6.1.0-57-amd64"))
        for bad in ["", "unstable", "linux-image-6.12;rm -rf /", "6.12", "linux-image-X"] {
            #expect(throws: LabError.self, "\(bad)") { try KernelSpec(parsing: bad) }
        }
        do { _ = try KernelSpec(parsing: "buster") } catch {
            #expect(
                error.description.contains(
                    "use stock, bookworm, bookworm-backports, trixie, trixie-backports, forky, sid"))
        }
    }

    @Test func releasesOrderAndTheGHESArgumentFollowsThem() {
        func kernel(_ release: String) -> KernelAssets {
            KernelAssets(
                release: release, image: FilePath("/boot/vmlinuz-\(release)"),
                modules: FilePath("/lib/modules/\(release)"), origin: "test")
        }
        #expect(
            !kernel("6.1.0-57-amd64").isAtLeast(6, 2) && kernel("6.12.95+deb12-amd64").isAtLeast(6, 2)
                && kernel("7.0.1").isAtLeast(6, 2))
        #expect(QEMUCommand.edacArgument(kernel("6.1.0-57-amd64")) == "ghes_edac.force_load=1")
        #expect(QEMUCommand.edacArgument(kernel("6.12.95+deb12-amd64")) == "ghes.edac_force_enable=1")
        #expect(kernel("6.12.95+deb12-amd64").configuration == "/boot/config-6.12.95+deb12-amd64")
    }

    /// Modules shipped compressed are expanded once; their dependencies come from the expanded
    /// copies; modules the lab built win over the package's.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xz")))
    func compressedModulesAreExpandedAndOrdered() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let modules = root.appendingPathComponent("lib/modules/6.12.0-test")
        let kernelDirectory = modules.appendingPathComponent("kernel/fs/9p")
        try FileManager.default.createDirectory(at: kernelDirectory, withIntermediateDirectories: true)
        func module(_ name: String, depends: String, in directory: URL) throws -> URL {
            let url = directory.appendingPathComponent("\(name).ko")
            try Data("\u{7F}ELF\0\0license=GPL\0depends=\(depends)\0vermagic=6.12.0-test SMP\0".utf8).write(to: url)
            return url
        }
        _ = try module("netfs", depends: "", in: kernelDirectory)
        let ninep = try module("9p", depends: "netfs", in: kernelDirectory)
        _ = try TestSupport.run("/usr/bin/xz", [kernelDirectory.appendingPathComponent("netfs.ko").path, ninep.path])
        #expect(
            !FileManager.default.fileExists(atPath: ninep.path)
                && FileManager.default.fileExists(atPath: ninep.path + ".xz"))
        let extra = root.appendingPathComponent("extra")
        try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
        let built = try module("ghes_edac", depends: "", in: extra)
        let scratch = FilePath(root.appendingPathComponent("scratch").path)
        let found = try KernelModules(
            directory: FilePath(modules.path), extra: FilePath(extra.path), scratch: scratch,
            wanted: ["9p", "ghes_edac", "absent"])
        #expect(found.ordered.map(\.name) == ["netfs", "9p", "ghes_edac"])
        #expect(found.ordered[0].file == scratch.appending("netfs.ko") && found.ordered[2].file == FilePath(built.path))
        #expect(found.missing == ["absent"])
        #expect(try KernelModules.modinfo("vermagic", of: found.ordered[1].file) == "6.12.0-test SMP")
        // A second look reuses the expanded copy.
        let before =
            try FileManager.default.attributesOfItem(atPath: scratch.appending("9p.ko").string)[.modificationDate]
            as? Date
        _ = try KernelModules(directory: FilePath(modules.path), scratch: scratch, wanted: ["9p"])
        #expect(
            try FileManager.default.attributesOfItem(atPath: scratch.appending("9p.ko").string)[.modificationDate]
                as? Date == before)
    }

    @Test func aKernelTreeOnDiskIsFoundAndAWrongPathIsNamed() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["boot/vmlinuz-6.12.0-test", "lib/modules/6.12.0-test/kernel/x.ko"])
        let tree = try KernelAssets.onDisk(FilePath(root.path))
        #expect(tree.release == "6.12.0-test" && tree.package == nil && tree.extraModules == nil)
        let file = try KernelAssets.onDisk(FilePath(root.path + "/boot/vmlinuz-6.12.0-test"))
        #expect(file.modules == FilePath(root.path + "/lib/modules/6.12.0-test"))
        #expect(throws: LabError.self) { try KernelAssets.onDisk(FilePath(root.path + "/lib")) }
        #expect(throws: LabError.self) { try KernelAssets.onDisk(FilePath(root.path + "/missing")) }
        // Without a Debian package, no ghes_edac can be built for a 6.12 kernel, and the reason says so.
        try Data("CONFIG_EDAC=y\n# CONFIG_EDAC_GHES is not set\n".utf8).write(
            to: root.appendingPathComponent("boot/config-6.12.0-test"))
        #expect(GhesEdacBuild.cachedStatus(tree).description.contains("not fetched from a Debian package"))
        try Data("CONFIG_EDAC=y\nCONFIG_EDAC_GHES=y\n".utf8).write(
            to: root.appendingPathComponent("boot/config-6.12.0-test"))
        #expect(GhesEdacBuild.cachedStatus(tree).available)
    }

    /// A cached package of bookworm's layout (lib/modules) and of trixie's merged /usr
    /// (usr/lib/modules) are both found, with their modules where the package put them.
    @Test func cachedPackagesOfEitherModuleLayoutAreFound() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(
            root,
            files: [
                "old/boot/vmlinuz-6.12.0-old", "old/lib/modules/6.12.0-old/kernel/x.ko",
                "new/boot/vmlinuz-6.12.0-new", "new/usr/lib/modules/6.12.0-new/kernel/x.ko",
                "none/boot/vmlinuz-6.12.0-none",
            ])
        let old = try #require(KernelAssets.cached(FilePath(root.path + "/old")))
        #expect(old.release == "6.12.0-old" && old.modules == FilePath(root.path + "/old/lib/modules/6.12.0-old"))
        let new = try #require(KernelAssets.cached(FilePath(root.path + "/new")))
        #expect(new.release == "6.12.0-new" && new.modules == FilePath(root.path + "/new/usr/lib/modules/6.12.0-new"))
        #expect(KernelAssets.cached(FilePath(root.path + "/none")) == nil)
    }

    /// Four DIMMs a quarter of RAM each, their ranges around QEMU's PCI hole once RAM is split.
    @Test func theLabsDIMMsCoverItsMemory() {
        let small = LabMemoryDevices(memoryMiB: 512)
        #expect(
            small.devices.map(\.edacLabel) == [
                "P0_CH_A DIMM_A1", "P0_CH_A DIMM_A2", "P0_CH_B DIMM_B1", "P0_CH_B DIMM_B2",
            ])
        #expect(
            small.ranges.map(\.start) == [0, 128 << 20, 256 << 20, 384 << 20] && small.ranges.last?.end == 512 << 20)
        #expect(small.ranges.map(\.deviceHandle) == small.devices.map(\.handle))
        let large = LabMemoryDevices(memoryMiB: 4096)  // q35: 2 GiB below the hole, 2 GiB from 4 GiB
        #expect(
            large.ranges.count == 4 && large.ranges[2].start == 0x1_0000_0000 && large.ranges[3].end == 0x1_8000_0000)
        let unsplit = LabMemoryDevices(memoryMiB: 2560)  // below 2.75 GiB q35 keeps all of it low
        #expect(unsplit.ranges.count == 4 && unsplit.ranges[3].end == 2560 << 20)
        let split = LabMemoryDevices(memoryMiB: 3072)  // DIMM 2 (1.5...2.25 GiB of RAM) straddles the 2 GiB line
        #expect(
            split.ranges.filter { $0.deviceHandle == split.devices[2].handle }.map(\.start) == [
                1536 << 20, 0x1_0000_0000,
            ])
        #expect(split.ranges.map { $0.end - $0.start }.reduce(0, +) == 3072 << 20)
    }
}

/// A kernel image is checked against its own boot header before a boot (issue 39, item 20).
@Suite struct KernelImageTests {
    /// An image whose header promises `promised` bytes of code after one setup sector, `size` long.
    func image(size: Int, promised: Int, magic: String = "HdrS") throws -> (FilePath, URL) {
        let directory = try TestSupport.temporaryDirectory()
        var bytes = [UInt8](repeating: 0, count: size)
        bytes[0x1F1] = 1
        let paragraphs = promised / 16
        for index in 0..<4 { bytes[0x1F4 + index] = UInt8(truncatingIfNeeded: paragraphs >> (8 * index)) }
        for (index, byte) in magic.utf8.enumerated() { bytes[0x202 + index] = byte }
        let path = directory.appendingPathComponent("vmlinuz-test")
        try Data(bytes).write(to: path)
        return (FilePath(path.path), directory)
    }

    @Test func aWholeImagePassesAndACutOrForeignOneIsNamed() throws {
        let (whole, first) = try image(size: 1024 + 4096, promised: 4096)
        defer { TestSupport.remove(first) }
        #expect(KernelImage.problem(whole) == nil)
        let (cut, second) = try image(size: 3000, promised: 4096)
        defer { TestSupport.remove(second) }
        #expect(KernelImage.problem(cut) == "is cut short: 3000 bytes of the 5120 its boot header promises")
        let (foreign, third) = try image(size: 5120, promised: 4096, magic: "ELF!")
        defer { TestSupport.remove(third) }
        #expect(KernelImage.problem(foreign)?.hasPrefix("is not an x86 kernel image") == true)
    }
}

/// A helper the lab started and that died is said, not taken for running (issue 39, item 19).
@Suite struct LabHelperTests {
    @Test func aDeadFirmwareEmulatorIsAFaultAndALiveOneIsNot() throws {
        let paths = try LabPaths(name: "helpers-\(getpid())", environment: [:])
        try FileManager.default.createDirectory(
            atPath: paths.stateDirectory.string, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        defer { TestSupport.remove(URL(fileURLWithPath: paths.stateDirectory.string)) }
        let lab = Lab(paths: paths)
        #expect(lab.helperFaults().isEmpty, "no emulator was started")
        // A process whose command line ends like the emulator's (`inject lab firmware`).
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] =
            ["/bin/sh", "-c", "sleep 30; true", "lab", "firmware"].map { (word: String) in strdup(word) } + [nil]
        defer { argv.forEach { free($0) } }
        try #require(posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0)
        defer { kill(pid, SIGKILL) }
        try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: paths.firmwarePid.string))
        usleep(100_000)
        #expect(lab.firmwareRuns())
        #expect(lab.helperFaults().isEmpty)
        kill(pid, SIGKILL)
        usleep(100_000)
        #expect(!lab.firmwareRuns(), "a zombie is not running")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(!lab.firmwareRuns())
        #expect(lab.helperFaults().first?.contains("EINJ firmware emulator (pid \(pid)) is not running") == true)
    }
}
