/// Where injections go, as a live handle: attribute files under a root, and optionally a QEMU
/// monitor, a guest's firmware memory, a guest reached through an agent (the lab) and a BMC.
public struct InjectionTarget: Sendable {
    /// The attribute root (`/` by default).
    public var root: FilePath
    /// A QMP unix socket, when the target is (or includes) a QEMU guest.
    public var qmpSocket: String?
    /// A file holding the guest's RAM (QEMU memory-backend-file), where guest-physical address P
    /// is file offset P.
    public var guestMemory: FilePath?
    /// A guest that holds the attribute files (a lab's, reached through its agent).
    public var guest: (any GuestConnection)?
    /// A BMC over the network (`--bmc`), for IPMI steps.
    public var bmc: BMCEndpoint?

    /// Creates a target description.
    public init(
        root: FilePath = "/", qmpSocket: String? = nil, guestMemory: FilePath? = nil,
        guest: (any GuestConnection)? = nil
    ) {
        self.root = root
        self.qmpSocket = qmpSocket
        self.guestMemory = guestMemory
        self.guest = guest
    }

    /// Where IPMI steps go: a BMC given with `--bmc`, else the guest's BMC, else this machine's
    /// BMC in-band; none for a `--root` tree.
    public var ipmiRoute: IPMIRoute? {
        if let bmc { return .lan(bmc) }
        if let guest { return .guest(guest) }
        return root == "/" ? .inBand : nil
    }

    /// Runs a shell command where the target's kernel is: in the guest, or on this machine
    /// (only when the root is `/`; a `--root` tree has no kernel). Returns standard output.
    public func shell(_ command: String, timeoutSeconds: Int = 30) async throws(TargetError) -> String {
        if let guest {
            let result = try guest.shell(command, timeoutSeconds: timeoutSeconds)
            guard result.status == 0 else {
                throw .tool(
                    argv: ["sh", "-c", command],
                    reason: "exit \(result.status) in \(guest.name): \(result.errorText.trimmed())", hint: nil)
            }
            return result.text
        }
        guard root == "/" else {
            throw .tool(argv: ["sh", "-c", command], reason: "a \(Setting.root) tree has no kernel to ask", hint: nil)
        }
        return try await ToolRunner.run(["/bin/sh", "-c", command]).output
    }

    /// Entry `index` of a kernel table of 64-bit words (`/proc/kpageflags`, `/proc/PID/pagemap`),
    /// read where the target's kernel is; `nil` when it cannot be read.
    public func procWord(_ path: String, index: UInt64) async -> UInt64? {
        let text = try? await shell("dd if=\(path) bs=8 skip=\(index) count=1 2>/dev/null | od -An -tu8")
        return text.flatMap { UInt64($0.trimmed()) }
    }

    /// One line naming the target, for journals and reports.
    public var summary: String {
        if let guest { return guest.name }
        var words = ["root \(root.string)"]
        if let qmpSocket { words.append("qmp \(qmpSocket)") }
        if let bmc { words.append("bmc \(bmc.host):\(bmc.port)") }
        return words.joined(separator: ", ")
    }

    /// The attribute files: under `root` on this machine, or in the guest.
    public func files() throws(TargetError) -> any TargetFiles {
        guard let guest else { return AttributeFiles(root: root) }
        return try guest.files()
    }
}
