import InjectHost

/// The platform's error-record store (`lab up --with erst`): QEMU's `acpi-erst` device (ACPI
/// ERST) backed by a file in the lab's state directory. The guest kernel's pstore registers it as
/// its persistent store (`pstore: Registered erst as persistent store backend`) and writes the
/// kernel log there when it panics (and the kernel the fatal machine check, `mce-erst-*`); the
/// file outlives the panicked guest, and the guest booted after the panic finds the records in
/// `/sys/fs/pstore`, as a server finds them in its firmware's flash after a crash.
///
/// A restart of such a lab boots rather than restores: measured on 6.12, a kernel restored from
/// the snapshot lists nothing in a freshly mounted pstore although the store holds the records
/// (the same store read by a booted kernel lists them all).
public struct LabERST: LabDevice {
    public init() {}
    public var name: String { "erst" }
    public var summary: String {
        "an ACPI ERST store that keeps the guest's panic records across its restarts, which then boot"
    }
    public var restartBoots: Bool { true }

    /// The store's size: sixteen of QEMU's 8 KiB records.
    static let storeBytes: Int64 = 128 << 10

    public func qemuArguments(_ paths: LabPaths) -> [String] {
        [
            "-object",
            "memory-backend-file,id=erst-store,mem-path=\(paths.errorRecordStore),size=\(Self.storeBytes),share=on",
            "-device", "acpi-erst,memdev=erst-store",
        ]
    }

    /// An empty store, the lab owner's alone (QEMU would make it with its own umask).
    public func prepare(_ paths: LabPaths) throws(LabError) {
        try LabFileSystem.allocate(paths.errorRecordStore, size: 0)
        try LabFileSystem.allocate(paths.errorRecordStore, size: Self.storeBytes)
    }
}
