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

    /// Runs a shell command where the target's kernel is: in the lab's guest, or on this machine
    /// (only when the root is `/`; a `--root` tree has no kernel). Returns standard output.
    public func shell(_ command: String, timeoutSeconds: Int = 30) async throws(TargetError) -> String {
        if let lab {
            let result: LabAgent.Result
            do { result = try LabAgent.shared(lab).run(command, timeoutSeconds: timeoutSeconds) } catch { throw .lab(error) }
            guard result.status == 0 else {
                throw .tool(argv: ["sh", "-c", command], reason: "exit \(result.status) in the lab guest: \(result.errorText.trimmed())", hint: nil)
            }
            return result.text
        }
        guard root == "/" else { throw .tool(argv: ["sh", "-c", command], reason: "a --root tree has no kernel to ask", hint: nil) }
        return try await ToolRunner.run(["/bin/sh", "-c", command]).output
    }

    /// One line naming the target, for journals and reports.
    public var summary: String {
        if let lab { return "lab \(lab.name)" }
        var words = ["root \(root.string)"]
        if let qmpSocket { words.append("qmp \(qmpSocket)") }
        if let bmc { words.append("bmc \(bmc.host):\(bmc.port)") }
        return words.joined(separator: ", ")
    }

    /// The attribute files: under `root` on this machine, or in the lab's guest.
    public func files() throws(TargetError) -> any TargetFiles {
        guard let lab else { return AttributeFiles(root: root) }
        return try LabFiles(lab)
    }
}
