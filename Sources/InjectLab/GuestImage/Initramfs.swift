import InjectHost

/// The guest's initramfs, written by the host: busybox-static, the kernel modules the lab needs,
/// dpkg's record of the guest's inject package, and ``GuestInit``'s `/init`.
enum Initramfs {
    /// The archive bytes (uncompressed newc).
    ///
    /// - Parameters:
    ///   - dsdt: a DSDT for the kernel's table upgrade (``SCIPath``), placed first.
    ///   - scratch: where compressed modules are expanded.
    ///   - devices: the machine's devices, whose modules the guest loads besides ``KernelModules/wanted``.
    static func build(
        kernel: KernelAssets, package: GuestPackage, scratch: FilePath, dsdt: [UInt8]? = nil,
        devices: [any LabDevice] = LabDevices.standard
    ) throws(LabError) -> [UInt8] {
        let deviceModules = devices.flatMap { $0.guestModules + $0.requiredModules }
        let modules = try KernelModules(
            directory: kernel.modules, extra: kernel.extraModules, scratch: scratch,
            wanted: KernelModules.wanted + deviceModules)
        for device in devices {
            let missing = modules.missing.filter(device.requiredModules.contains)
            guard missing.isEmpty else {
                throw .kernel(
                    "\(kernel.release) lacks \(missing.joined(separator: ", ")), which the lab's \(device.name) needs; use a newer kernel (\(Setting.kernel.named("bookworm-backports")))"
                )
            }
        }
        let missingEssential = modules.missing.filter { KernelModules.essential.contains($0) }
        guard missingEssential.isEmpty else {
            throw .kernel(
                "\(kernel.release) lacks \(missingEssential.joined(separator: ", ")) (needed for the guest's root and the agent)"
            )
        }
        var archive = NewcArchive()
        if let dsdt {
            for directory in ["kernel", "kernel/firmware", "kernel/firmware/acpi"] { archive.directory(directory) }
            archive.file(SCIPath.overridePath, dsdt)
        }
        for directory in [
            "bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "modules", "inject-lab",
        ] {
            archive.directory(directory)
        }
        archive.file("bin/busybox", try read(LabPrerequisites.busybox), mode: 0o755)
        archive.symlink("bin/sh", to: "busybox")
        for module in modules.ordered {
            archive.file("modules/\(module.name).ko", try read(module.file))
        }
        archive.file(GuestInit.packageStatus, Array(package.statusEntry.utf8))
        archive.file(GuestInit.packageList, Array((package.files.joined(separator: "\n") + "\n").utf8))
        archive.file(
            "init",
            Array(
                GuestInit.script(
                    modules: modules.ordered.map(\.name),
                    beforeDrivers: devices.map(\.beforeDrivers).filter { !$0.isEmpty }
                ).utf8), mode: 0o755)
        return archive.finish()
    }

    private static func read(_ path: FilePath) throws(LabError) -> [UInt8] {
        do {
            guard let bytes = try FileIO.readWholeFile(path) else {
                throw LabError.io(path: path.string, reason: "missing")
            }
            return bytes
        } catch let error as LabError {
            throw error
        } catch {
            throw .io(path: path.string, reason: "\(error)")
        }
    }
}
