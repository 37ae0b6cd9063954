/// The one protocol a Swift backend plugin implements.
///
/// A plugin is a `.dynamic` library product holding one type that conforms to `InjectBackend`, plus
/// one export line that hands the type to the SDK, which does all of the C boundary:
///
/// ```swift
/// import InjectPluginAPI
///
/// struct MyBackend: InjectBackend {
///     static let descriptor = BackendDescriptor(name: "mine", version: "1.0.0", summary: "...",
///                                               families: ["memory"], parameters: [...])
///     func plan(_ request: PlanRequest) throws -> Plan { ... }
/// }
///
/// @_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(MyBackend.self, e) }
/// ```
///
/// The host validates every parameter against the schema before `plan` is called, so `plan` only
/// turns values into steps. A backend never opens files, sockets or processes: it reads the target
/// through ``Target`` and describes what the host should do in a ``Plan``.
public protocol InjectBackend {
    /// Name, version, families and parameter schema; read once when the plugin loads.
    static var descriptor: BackendDescriptor { get }

    /// Creates the backend; called once, when the plugin loads.
    init()

    /// Reports what the target supports, and why not where it does not.
    ///
    /// - Parameter target: read access to the target.
    /// - Returns: one entry per feature this backend can use.
    /// - Throws: ``BackendError`` when probing itself fails.
    func probe(_ target: Target) throws -> [Capability]

    /// Turns validated parameter values into an ordered plan of steps.
    ///
    /// - Parameter request: the values (one per schema entry) and read access to the target.
    /// - Returns: the steps, the kernel events they should cause, and any need for confirmation.
    /// - Throws: ``BackendError`` with a message naming the value, what is allowed and the fix.
    func plan(_ request: PlanRequest) throws -> Plan

    /// Decodes one of the backend's trace events (declared in ``BackendDescriptor/traceEvents``)
    /// for `inject watch`: the kernel's fields in, extra named fields out (a severity decoded
    /// from a status word, for example). Only asked by hosts of ABI 1.2 and later.
    ///
    /// - Parameters:
    ///   - event: `system:event`, such as `mce:mce_record`.
    ///   - fields: the kernel's `name: value` pairs from the event's payload.
    /// - Returns: fields to show beside the kernel's; names are `[a-z][a-z0-9_]*`.
    func decode(event: String, fields: [String: String]) -> [String: String]

    /// Decodes one of the backend's trace events from its payload as the kernel printed it, for
    /// events whose payload is not `name: value` pairs (`memdev=mem0 ... dpa=2000 descriptor='...'`).
    /// By default the payload is split into `name: value` pairs and passed to
    /// ``decode(event:fields:)``.
    func decode(event: String, payload: String) -> [String: String]
}

// MARK: - Default implementations

extension InjectBackend {
    /// By default a backend has nothing to probe.
    public func probe(_ target: Target) throws -> [Capability] { [] }

    /// By default a backend's events need no decoding.
    public func decode(event: String, fields: [String: String]) -> [String: String] { [:] }

    /// By default the payload's `name: value` pairs, separated by commas, go to ``decode(event:fields:)``.
    public func decode(event: String, payload: String) -> [String: String] {
        var fields: [String: String] = [:]
        for piece in payload.split(separator: ",") {
            let pair = piece.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            fields[String(pair[0]).trimmingWhitespace] = String(pair[1]).trimmingWhitespace
        }
        return decode(event: event, fields: fields)
    }
}
