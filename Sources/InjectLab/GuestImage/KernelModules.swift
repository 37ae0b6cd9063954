import InjectHost

/// The kernel modules the lab guest loads, and the order that satisfies their dependencies
/// (read from each module's `.modinfo` `depends=` field, since Debian's packages ship no
/// modules.dep: depmod makes it at install time). Compressed modules (`.ko.xz`, `.ko.zst`, as
/// Debian ships them from 6.12 on) are expanded once into a scratch directory, since busybox
/// `insmod` in the initramfs takes plain ELF files.
public struct KernelModules: Sendable {
    /// What the guest needs: virtio-blk, squashfs and overlay to mount its root images, the virtio console for
    /// the agent, the injection modules, and the ACPI button driver (it enables the power-button
    /// event, so that QMP `system_powerdown` raises an SCI), and the IPMI system interface and
    /// device (`/dev/ipmi0`) for the simulated BMC, and pvpanic-mmio, which tells QEMU's pvpanic
    /// device (ACPI QEMU0001) that the kernel panicked.
    /// (The lab's devices add theirs: ``LabDevice/guestModules``.)
    public static let wanted = [
        "virtio_pci", "virtio_blk", "squashfs", "overlay", "virtio_console", "mce-inject", "hwpoison-inject", "einj",
        "button",
        "ghes_edac",
    ]
    /// Modules without which the lab cannot work.
    public static let essential: Set<String> = ["virtio_pci", "virtio_blk", "squashfs", "overlay", "virtio_console"]

    /// A module to load: its name and file.
    public struct Module: Sendable, Equatable {
        public var name: String
        public var file: FilePath
    }

    /// Modules in load order.
    public let ordered: [Module]
    /// Wanted modules the kernel has neither as a module nor built in.
    public let missing: [String]

    /// Finds `wanted` and their dependencies under `directory` (`lib/modules/VERSION`), and in
    /// `extra` (modules the lab built, which win over the package's).
    ///
    /// - Parameter scratch: where compressed modules are expanded (kept between boots).
    public init(directory: FilePath, extra: FilePath? = nil, scratch: FilePath, wanted: [String] = KernelModules.wanted)
        throws(LabError)
    {
        let builtin = Self.builtinNames(directory)
        var files: [String: FilePath] = [:]
        Self.index(directory.appending("kernel"), into: &files)
        if let extra { Self.index(extra, into: &files) }
        var ordered: [Module] = []
        var missing: [String] = []
        var visited: Set<String> = []
        func visit(_ name: String) throws(LabError) {
            let key = Self.canonical(name)
            guard !visited.contains(key) else { return }
            visited.insert(key)
            if builtin.contains(key) { return }
            guard let found = files[key] else {
                missing.append(name)
                return
            }
            let file = try ModuleDecompressor.plain(found, scratch: scratch)
            for dependency in try Self.dependencies(of: file) { try visit(dependency) }
            ordered.append(Module(name: name, file: file))
        }
        for name in wanted { try visit(name) }
        self.ordered = ordered
        self.missing = missing
    }

    /// One module of the package under `directory` (plain), to compare a built module's vermagic with.
    static func sample(in directory: FilePath, scratch: FilePath) throws(LabError) -> FilePath? {
        var files: [String: FilePath] = [:]
        index(directory.appending("kernel/drivers/edac"), into: &files)
        if files.isEmpty { index(directory.appending("kernel"), into: &files) }
        guard let file = files.keys.sorted().first.flatMap({ files[$0] }) else { return nil }
        return try ModuleDecompressor.plain(file, scratch: scratch)
    }

    /// Module names treat `-` and `_` alike.
    static func canonical(_ name: String) -> String { String(name.map { $0 == "-" ? "_" : $0 }) }

    /// The names in `modules.builtin` (paths such as `kernel/fs/ext4/ext4.ko`).
    static func builtinNames(_ directory: FilePath) -> Set<String> {
        guard let bytes = try? FileIO.readWholeFile(directory.appending("modules.builtin")) else { return [] }
        return Set(
            String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
                line.split(separator: "/").last.map { canonical(String($0.split(separator: ".").first ?? $0)) }
            })
    }

    /// Every `.ko` (or compressed `.ko.xz`, `.ko.zst`) under `directory`, by canonical name.
    static func index(_ directory: FilePath, into files: inout [String: FilePath]) {
        guard let entries = try? FileIO.listDirectory(directory) else { return }
        for entry in entries {
            let path = directory.appending(entry.name)
            if entry.isDirectory {
                index(path, into: &files)
            } else if let name = ModuleDecompressor.moduleName(entry.name) {
                files[canonical(name)] = path
            }
        }
    }

    /// The `depends=` list of a module file.
    static func dependencies(of file: FilePath) throws(LabError) -> [String] {
        (try modinfo("depends", of: file) ?? "").split(separator: ",").map(String.init)
    }

    /// A `.modinfo` field of a module file (`vermagic`, `depends`), or `nil` when it has none.
    static func modinfo(_ field: String, of file: FilePath) throws(LabError) -> String? {
        let bytes: [UInt8]
        do {
            guard let read = try FileIO.readWholeFile(file) else { throw LabError.kernel("\(file) vanished") }
            bytes = read
        } catch let error as LabError {
            throw error
        } catch {
            throw .kernel("cannot read \(file): \(error)")
        }
        let key = Array("\(field)=".utf8)
        var index = 0
        while index + key.count <= bytes.count {
            if bytes[index] == key[0], index == 0 || bytes[index - 1] == 0,
                Array(bytes[index..<index + key.count]) == key
            {
                var end = index + key.count
                while end < bytes.count, bytes[end] != 0 { end += 1 }
                return String(decoding: bytes[(index + key.count)..<end], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }
}
