import InjectPluginABI

#if canImport(Glibc)
import Glibc
#endif

/// The plugin's copy of the host's service table, read only up to the `struct_size` the host
/// declared: an older host's table is shorter than this SDK's `inject_host_api`, and its missing
/// slots read as NULL here instead of as whatever memory follows it.
enum HostTable {
    /// A permanent copy of `host`'s table (plugins keep it for the life of the process).
    static func copy(_ host: UnsafePointer<inject_host_api>) -> UnsafePointer<inject_host_api> {
        let declared = Int(UnsafeRawPointer(host).loadUnaligned(as: UInt32.self))
        let table = UnsafeMutablePointer<inject_host_api>.allocate(capacity: 1)
        memset(table, 0, MemoryLayout<inject_host_api>.size)
        memcpy(table, host, min(declared, MemoryLayout<inject_host_api>.size))
        return UnsafePointer(table)
    }
}
