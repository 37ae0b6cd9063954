import InjectHost

/// QEMU's command line for a lab: TCG on a q35 machine, guest RAM in a shared file (the firmware
/// window is inside it), the host-built kernel, initramfs, HEST and EINJ tables, the guest's two
/// read-only disks (its Debian root and the inject package, ``GuestInit``), a QMP socket, the
/// agent's virtio-serial port, the DIMMs' SMBIOS structures (``LabMemoryDevices``), the lab's devices (``LabDevices``: the BMC, pvpanic, the PCI
/// Express topology, and any added with `--with`), a panic that pauses the guest (QMP status
/// `guest-panicked`, the console kept for the evidence), and the serial console in a file. QEMU
/// daemonizes once its sockets exist.
enum QEMUCommand {
    /// The full argv.
    static func arguments(
        paths: LabPaths, kernel: KernelAssets, root: FilePath, memoryMiB: Int, cpus: Int,
        layout: FirmwareLayout, smbiosFiles: [FilePath], extraKernelArguments: [String],
        qemu: LabQEMU, devices: [any LabDevice] = LabDevices.standard
    ) -> [String] {
        let kernelArguments =
            ["console=ttyS0", layout.kernelArgument, edacArgument(kernel), "panic=-1"]
            + extraKernelArguments
        return [qemu.binary] + qemu.leadingArguments + [
            "-name", "inject-lab-\(paths.name),process=inject-lab-\(paths.name)",
            "-accel", "tcg", "-cpu", cpu, "-smp", String(cpus), "-m", "\(memoryMiB)M",
            "-object", "memory-backend-file,id=ram0,size=\(memoryMiB)M,mem-path=\(paths.guestMemory),share=on",
            "-machine",
            ([machine] + devices.flatMap(\.machineProperties) + ["memory-backend=ram0"]).joined(separator: ","),
            "-kernel", kernel.image.string, "-initrd", paths.initramfs.string,
            "-append", kernelArguments.joined(separator: " "),
            "-acpitable", "file=\(paths.hestTable)", "-acpitable", "file=\(paths.einjTable)",
        ] + smbiosFiles.flatMap { ["-smbios", "file=\($0)"] } + []
            + disk(root, id: "root", serial: GuestInit.rootSerial)
            + disk(paths.packageLayer, id: "package", serial: GuestInit.packageSerial) + [
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=agent,path=\(paths.agentSocket),server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=\(GuestInit.agentPort)",
            ] + devices.flatMap { $0.qemuArguments(paths) } + [
                "-action", "panic=pause",
                "-qmp", "unix:\(paths.qmpSocket),server=on,wait=off",
                "-serial", "file:\(paths.consoleLog)",
                "-display", "none", "-nodefaults", "-no-reboot",
                "-daemonize", "-pidfile", paths.pidFile.string,
            ]
    }

    /// A read-only raw disk on virtio-blk, found in the guest by its serial number.
    static func disk(_ image: FilePath, id: String, serial: String) -> [String] {
        let file = image.string.split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",,")
        return [
            "-drive", "file=\(file),if=none,id=\(id),format=raw,readonly=on",
            "-device", "virtio-blk-pci,drive=\(id),serial=\(serial)",
        ]
    }

    /// QEMU's machine type: q35, a PCI Express machine (root ports, AER), with ACPI PCI hotplug
    /// (the SCI path's GPE 1 is raised by a hotplug into the lab's free root port).
    static let machine = "q35"

    /// The guest CPU: TCG's "max" with an Intel vendor. The kernel grades machine checks by vendor,
    /// and "max" otherwise says AuthenticAMD, whose grading panics on every uncorrected error of a
    /// CPU without SUCCOR; as Intel, with QEMU's MCG_SER_P, the guest grades them the way servers
    /// do (action optional: the page is taken out of use; action required: the task is killed).
    static let cpu = "max,vendor=GenuineIntel"

    /// The argument that lets ghes_edac register on a machine outside its platform list: 6.1's
    /// `ghes_edac.force_load`, from 6.2 on ghes.c's `ghes.edac_force_enable`.
    static func edacArgument(_ kernel: KernelAssets) -> String {
        kernel.isAtLeast(6, 2) ? "ghes.edac_force_enable=1" : "ghes_edac.force_load=1"
    }
}
