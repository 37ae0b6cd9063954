import InjectHost

/// The host programs a lab needs, and installing them when run as root.
public enum LabPrerequisites {
    /// The Debian packages the lab needs.
    public static let packages = [
        "qemu-system-x86", "busybox-static", "ipmitool", "acpica-tools", "mmdebstrap", "squashfs-tools-ng",
    ]
    /// Packages the lab works without (acpica-tools: only the SCI path needs it).
    public static let optional: Set<String> = ["acpica-tools"]
    /// QEMU for x86-64 guests.
    public static let qemu = FilePath("/usr/bin/qemu-system-x86_64")
    /// A statically linked busybox (from busybox-static; the dynamic one cannot run in the initramfs).
    public static let busybox = FilePath("/bin/busybox")
    /// ipmitool: the host's route to a BMC (the guest has its own, from its Debian root).
    public static let ipmitool = FilePath("/usr/bin/ipmitool")
    /// What builds and packs the guest's Debian root (``GuestRoot``), by package.
    static let rootBuilders = ["mmdebstrap": "mmdebstrap", "squashfs-tools-ng": "tar2sqfs"]
    /// iasl (acpica-tools): the lab disassembles and recompiles its DSDT for the SCI path.
    public static let iasl = "/usr/bin/iasl"

    /// What is missing: package names.
    public static func missing() -> [String] {
        var result: [String] = []
        if access(qemu.string, X_OK) != 0 { result.append("qemu-system-x86") }
        if access(busybox.string, X_OK) != 0 || !isStatic(busybox) { result.append("busybox-static") }
        if access(ipmitool.string, X_OK) != 0 { result.append("ipmitool") }
        if access(iasl, X_OK) != 0 { result.append("acpica-tools") }
        result += rootBuilders.filter { !onPath($0.value) }.map(\.key).sorted()
        return result
    }

    /// Installs what is missing when running as root; otherwise says exactly what to run.
    public static func ensure(progress: (String) -> Void) async throws(LabError) {
        let needed = missing()
        guard !needed.isEmpty else { return }
        try await install(needed, optional: optional, progress: progress, stillMissing: missing)
    }

    /// Installs `needed` with apt-get as root (a second try after `apt-get update`); as another
    /// user, fails naming the command unless every package is `optional`.
    private static func install(
        _ needed: [String], optional: Set<String>, progress: (String) -> Void,
        stillMissing: () -> [String]
    ) async throws(LabError) {
        let command = ["apt-get", "install", "-y", "--no-install-recommends"] + needed
        guard geteuid() == 0 else {
            guard needed.allSatisfy(optional.contains) else {
                throw .missingPrerequisite(
                    what: "the lab needs \(needed.filter { !optional.contains($0) }.joined(separator: " and "))",
                    install: "sudo " + command.joined(separator: " "))
            }
            progress(
                "\(needed.joined(separator: " ")) is not installed: the lab runs without the SCI path (sudo \(command.joined(separator: " ")))"
            )
            return
        }
        progress("installing \(needed.joined(separator: " ")) with apt-get")
        do {
            _ = try await ToolRunner.run(command)
        } catch {
            do {
                _ = try await ToolRunner.run(["apt-get", "update"])
                _ = try await ToolRunner.run(command)
            } catch {
                throw .missingPrerequisite(
                    what: "installing \(needed.joined(separator: " ")) failed: \(error)",
                    install: "apt-get update && " + command.joined(separator: " "))
            }
        }
        let still = stillMissing()
        guard still.isEmpty else {
            throw .missingPrerequisite(
                what: "still missing after apt-get: \(still.joined(separator: " "))",
                install: command.joined(separator: " "))
        }
    }

    /// Whether `program` is an executable in /usr/bin, /usr/sbin, /bin or /sbin.
    static func onPath(_ program: String) -> Bool {
        ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].contains { access($0 + program, X_OK) == 0 }
    }

    /// Whether an ELF executable has no program interpreter (is statically linked).
    static func isStatic(_ path: FilePath) -> Bool {
        guard let bytes = try? FileIO.readWholeFile(path), bytes.count > 64,
            bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46], bytes[4] == 2
        else { return false }
        func read(_ offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let phoff = read(32, 8)
        let entrySize = read(54, 2)
        let count = read(56, 2)
        for index in 0..<count {
            let entry = phoff + index * entrySize
            guard entry + 4 <= bytes.count else { return false }
            if read(entry, 4) == 3 { return false }  // PT_INTERP
        }
        return true
    }
}
