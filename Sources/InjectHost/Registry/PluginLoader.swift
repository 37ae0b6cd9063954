import InjectPluginABI

/// Loads one plugin file: ELF check, dlopen (RTLD_NOW | RTLD_LOCAL), entry lookup, version
/// negotiation, descriptor validation. A failure at any point is a ``PluginRefusal``.
public enum PluginLoader {
    /// Loads the shared object at `path` (absolute).
    public static func load(_ path: String) -> Result<LoadedBackend, PluginRefusal> {
        func refuse(_ reason: PluginRefusal.Reason) -> Result<LoadedBackend, PluginRefusal> {
            .failure(PluginRefusal(path: path, reason: reason))
        }
        if let problem = elfProblem(path) { return refuse(.notSharedObject(problem)) }
        guard let handle = PluginGuard.run(path, "load (constructors)", { dlopen(path, RTLD_NOW | RTLD_LOCAL) }) else {
            return refuse(.notSharedObject(dlerror().map { String(cString: $0) } ?? "dlopen failed"))
        }
        guard let symbol = dlsym(handle, INJECT_PLUGIN_ENTRY_SYMBOL) else {
            dlclose(handle)
            return refuse(.missingEntry)
        }
        let entryFunction = unsafeBitCast(symbol, to: inject_plugin_entry_fn.self)
        var entry = inject_entry()
        entry.struct_size = UInt32(MemoryLayout<inject_entry>.size)
        entry.host_abi_major = UInt16(INJECT_ABI_MAJOR)
        entry.host_abi_minor = UInt16(INJECT_ABI_MINOR)
        entry.host = UnsafePointer(HostServices.table)
        let rc = PluginGuard.run(path, "entry") { entryFunction(&entry) }
        // From here on the plugin has run code; it is never unloaded.
        guard rc == INJECT_OK.rawValue else {
            let message = PrintableText.escaped(
                withUnsafeBytes(of: entry.error_message) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                })
            if rc == INJECT_E_ABI.rawValue {
                return refuse(.entryRefused(code: rc, message: message.isEmpty ? "ABI version refused" : message))
            }
            return refuse(.entryRefused(code: rc, message: message.isEmpty ? "no reason given" : message))
        }
        guard let descriptor = entry.descriptor else {
            return refuse(.invalidDescriptor("the entry returned success without a descriptor"))
        }
        do {
            let (info, copy) = try DescriptorReader.load(UnsafeRawPointer(descriptor), path: path)
            return .success(LoadedBackend(info: info, descriptor: copy))
        } catch {
            return refuse(error)
        }
    }

    /// Why `path` is not an ELF shared object of this machine, or `nil` when it looks like one.
    static func elfProblem(_ path: String) -> String? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else {
            return "cannot be opened"
        }
        defer { try? fd.close() }
        var header = [UInt8](repeating: 0, count: 18)
        let count = (try? header.withUnsafeMutableBytes { try fd.read(into: $0) }) ?? 0
        guard count == 18, header[0...3] == [0x7F, 0x45, 0x4C, 0x46] else {
            return "not an ELF file"
        }
        let type = UInt16(header[16]) | UInt16(header[17]) << 8
        guard type == 3 else { return "an ELF file but not a shared object (e_type \(type))" }
        return nil
    }
}
