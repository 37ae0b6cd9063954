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
}

// MARK: - Default implementations

extension InjectBackend {
    /// By default a backend has nothing to probe.
    public func probe(_ target: Target) throws -> [Capability] { [] }
}
