import InjectPluginABI
import Synchronization

/// The host's side of one `probe`, `plan` or `decode` call: what the plugin may read, and what it
/// answered. The plugin holds it as an opaque `inject_call` handle: a token, never a pointer,
/// valid only while the call runs; a stale or forged handle is refused, never dereferenced.
final class CallContext: @unchecked Sendable {
    enum Mode { case probe, plan, decode }

    let mode: Mode
    let backend: String
    let files: any TargetFiles
    let targetFlags: UInt32
    /// The root as a C string, valid for the whole call.
    let rootCString: [CChar]
    /// The target's firmware memory, for `read_memory`.
    let guestMemory: FilePath?
    /// The target's QEMU monitor, for `resolve_pci_device`.
    let qmpSocket: String?
    /// The PCI resolver of this call: QEMU's `query-pci` is asked once per call, however many
    /// devices the plugin resolves (a probe resolves every AER device).
    lazy var pciResolver = PCIDeviceResolver(files: files, qmpSocket: qmpSocket)

    var errorCode: Int32 = 0
    var errorMessage: String?
    var steps: [PlannedStep] = []
    var expectations: [ExpectedEvent] = []
    var confirmationReasons: [String] = []
    var capabilities: [CapabilityReport] = []
    /// Capabilities reported past ``CapabilityReport/maximumCount`` (dropped, counted).
    var droppedCapabilities = 0
    /// The first contract violation (bad path, bad JSON, wrong mode); it fails the call.
    var violation: String?
    var logs: [(level: Int32, message: String)] = []
    /// Fields reported by `decode`.
    var fields: [(name: String, value: String)] = []

    init(mode: Mode, backend: String, target: InjectionTarget, files: any TargetFiles) {
        self.mode = mode
        self.backend = backend
        self.files = files
        var flags = UInt32(INJECT_TARGET_FILES)
        if target.qmpSocket != nil { flags |= UInt32(INJECT_TARGET_QMP) }
        if target.guestMemory != nil { flags |= UInt32(INJECT_TARGET_MEMORY) }
        if let route = target.ipmiRoute, !route.isInBand || access("/dev/ipmi0", F_OK) == 0 {
            flags |= UInt32(INJECT_TARGET_IPMI)
        }
        self.targetFlags = flags
        self.rootCString = Array(target.root.string.utf8CString)
        self.guestMemory = target.guestMemory
        self.qmpSocket = target.qmpSocket
    }

    /// Live calls by handle, the retired ones (their backend, for the message) and the next serial.
    private struct Handles {
        var live: [UInt: CallContext] = [:]
        var retired: [UInt: String] = [:]
        var serial: UInt = 0
        /// The call each thread is in (a plugin is called from one thread at a time, but tests
        /// and campaigns may call different plugins from different threads).
        var current: [UInt: CallContext] = [:]
    }
    private static let handles = Mutex(Handles())
    /// Random low bits in every handle: a guessed or corrupted pointer is not a handle.
    private static let check = UInt.random(in: 1...0xFFFF)
    private static var thread: UInt { UInt(pthread_self()) }

    /// The context behind an `inject_call` handle; `nil` for a handle that is not live. A stale
    /// handle used during another call fails that call with a message naming it.
    static func from(_ call: OpaquePointer?) -> CallContext? {
        guard let call else { return nil }
        let token = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(call)))
        let (context, retiredFrom, current) = handles.withLock {
            ($0.live[token], $0.retired[token], $0.current[thread])
        }
        if let context { return context }
        let reason =
            retiredFrom.map {
                "a service was called with a stale inject_call handle (from an earlier \($0) call that had returned)"
            }
            ?? "a service was called with an inject_call handle the host never issued"
        if let current { _ = current.violate(reason) } else { HostLog.warning("plugin contract: \(reason)") }
        return nil
    }

    /// Runs `body` with this context as a fresh `inject_call` handle, retired when it returns.
    func withHandle<R>(_ body: (OpaquePointer) -> R) -> R {
        let thread = Self.thread
        let (token, outer) = Self.handles.withLock { table -> (UInt, CallContext?) in
            table.serial += 1
            let token = table.serial << 16 | Self.check
            table.live[token] = self
            let outer = table.current[thread]
            table.current[thread] = self
            return (token, outer)
        }
        defer {
            Self.handles.withLock { table in
                table.current[thread] = outer
                table.live[token] = nil
                if table.retired.count >= 1024 { table.retired.removeAll() }
                table.retired[token] = "\(backend) \(mode)"
            }
        }
        return body(OpaquePointer(bitPattern: token)!)
    }

    /// Keeps a reported capability, up to ``CapabilityReport/maximumCount``; the rest are counted
    /// and summed up in one last line.
    func report(_ capability: CapabilityReport) {
        guard capabilities.count < CapabilityReport.maximumCount else {
            droppedCapabilities += 1
            return
        }
        capabilities.append(capability)
    }

    /// The capabilities, with a last line saying how many were dropped.
    var reportedCapabilities: [CapabilityReport] {
        guard droppedCapabilities > 0 else { return capabilities }
        return capabilities + [
            CapabilityReport(
                name: "(more)", available: false,
                detail: "the plugin reported \(droppedCapabilities) more; \(CapabilityReport.maximumCount) are shown")
        ]
    }

    /// Records a contract violation and returns the code to hand back to the plugin.
    func violate(_ message: String) -> Int32 {
        if violation == nil { violation = message }
        return INJECT_E_INVALID.rawValue
    }
}

/// One capability a backend reported for a target.
public struct CapabilityReport: Sendable, Equatable, Encodable {
    /// Short name.
    public var name: String
    /// Whether the target offers it.
    public var available: Bool
    /// What was found, or why not.
    public var detail: String

    /// A report.
    public init(name: String, available: Bool, detail: String) {
        self.name = name
        self.available = available
        self.detail = detail
    }

    /// Limits on what a plugin reports: the name's and the detail's bytes (longer ones are cut,
    /// with "..." at the end), and the capabilities kept from one probe.
    public static let maximumNameBytes = 128
    public static let maximumDetailBytes = 1024
    public static let maximumCount = 4096

    /// The C string at `pointer`, read no further than `limit` bytes (a 10 MB detail is not
    /// copied whole), cut at a character boundary with "..." when it is longer.
    static func text(_ pointer: UnsafePointer<CChar>?, limit: Int) -> String? {
        guard let pointer else { return nil }
        let length = strnlen(pointer, limit + 1)
        let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        guard length > limit else {
            return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
        }
        var cut = limit - 3
        while cut > 0, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }  // not inside a UTF-8 sequence
        return String(decoding: UnsafeBufferPointer(start: bytes, count: cut), as: UTF8.self) + "..."
    }
}
