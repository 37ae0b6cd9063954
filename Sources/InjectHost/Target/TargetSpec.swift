import SystemPackage

/// What the host acts on: attribute files under a root, and optionally a QEMU monitor and a
/// guest's firmware memory (the lab).
public struct TargetSpec: Sendable, Equatable {
    /// The attribute root (`/` by default).
    public var root: FilePath
    /// A QMP unix socket, when the target is (or includes) a QEMU guest.
    public var qmpSocket: String?
    /// A file holding the guest's RAM (QEMU memory-backend-file), where guest-physical address P
    /// is file offset P.
    public var guestMemory: FilePath?
    /// A lab whose guest holds the attribute files (reached through its agent).
    public var lab: LabPaths?
    /// A BMC over the network (`--bmc`), for IPMI steps.
    public var bmc: BMCEndpoint?

    /// Creates a target description.
    public init(root: FilePath = "/", qmpSocket: String? = nil, guestMemory: FilePath? = nil, lab: LabPaths? = nil) {
        self.root = root
        self.qmpSocket = qmpSocket
        self.guestMemory = guestMemory
        self.lab = lab
    }

    /// Where IPMI steps go: a BMC given with `--bmc`, else the lab guest's BMC, else this machine's
    /// BMC in-band; none for a `--root` tree.
    public var ipmiRoute: IPMIRoute? {
        if let bmc { return .lan(bmc) }
        if let lab { return .lab(lab) }
        return root == "/" ? .inBand : nil
    }

    /// The attribute files: under `root` on this machine, or in the lab's guest.
    func files() throws(TargetError) -> any TargetFiles {
        guard let lab else { return AttributeFiles(root: root) }
        return try LabFiles(lab)
    }
}
