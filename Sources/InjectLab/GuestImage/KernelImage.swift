/// Checks a kernel image against its own boot header before QEMU is given it: a truncated or
/// corrupted cached `vmlinuz` is named as such, instead of a QEMU failure about a socket.
enum KernelImage {
    /// Why the bzImage at `path` cannot boot (no x86 boot header, or shorter than its header
    /// says), or `nil`.
    static func problem(_ path: FilePath) -> String? {
        let header: [UInt8]
        do { header = try FileIO.read(0x260, at: 0, of: path) } catch { return "cannot be read: \(error)" }
        var info = stat()
        guard stat(path.string, &info) == 0 else { return "cannot be read: \(Errno(rawValue: errno))" }
        // The x86 boot protocol: "HdrS" at 0x202, setup_sects at 0x1F1 (0 means 4) and syssize
        // at 0x1F4 (the protected-mode code in 16-byte units).
        guard header.count >= 0x206, header[0x202..<0x206].elementsEqual("HdrS".utf8) else {
            return "is not an x86 kernel image (no boot header): \(info.st_size) bytes"
        }
        let setupSectors = header[0x1F1] == 0 ? 4 : Int(header[0x1F1])
        let systemSize = (0..<4).reduce(0) { $0 | Int(header[0x1F4 + $1]) << (8 * $1) }
        let expected = (setupSectors + 1) * 512 + systemSize * 16
        guard Int(info.st_size) >= expected else {
            return "is cut short: \(info.st_size) bytes of the \(expected) its boot header promises"
        }
        return nil
    }
}
