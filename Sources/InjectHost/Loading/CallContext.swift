#if canImport(Glibc)
import Glibc
#endif
import InjectPluginABI
import SystemPackage

/// The host's side of one `probe` or `plan` call: what the plugin may read, and what it answered.
/// Passed to the plugin as the opaque `inject_call` handle and released when the call returns.
final class CallContext {
    enum Mode { case probe, plan }

    let mode: Mode
    let backend: String
    let files: any TargetFiles
    let targetFlags: UInt32
    /// The root as a C string, valid for the whole call.
    let rootCString: [CChar]
    /// The target's firmware memory, for `read_memory`.
    let guestMemory: FilePath?

    var errorCode: Int32 = 0
    var errorMessage: String?
    var steps: [PlannedStep] = []
    var expectations: [ExpectedEvent] = []
    var confirmationReasons: [String] = []
    var capabilities: [CapabilityReport] = []
    /// The first contract violation (bad path, bad JSON, wrong mode); it fails the call.
    var violation: String?
    var logs: [(level: Int32, message: String)] = []

    init(mode: Mode, backend: String, target: TargetSpec, files: any TargetFiles) {
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
    }

    /// The context behind an `inject_call` handle.
    static func from(_ call: OpaquePointer?) -> CallContext? {
        guard let call else { return nil }
        return Unmanaged<CallContext>.fromOpaque(UnsafeRawPointer(call)).takeUnretainedValue()
    }

    /// Runs `body` with this context as an `inject_call` handle.
    func withHandle<R>(_ body: (OpaquePointer) -> R) -> R {
        let unmanaged = Unmanaged.passRetained(self)
        defer { unmanaged.release() }
        return body(OpaquePointer(unmanaged.toOpaque()))
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
}
