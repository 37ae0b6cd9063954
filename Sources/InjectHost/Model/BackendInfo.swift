/// What the host knows about a loaded backend, copied out of its descriptor.
public struct BackendInfo: Sendable, Equatable, Codable {
    /// The name users type.
    public var name: String
    /// The plugin's own version.
    public var version: String
    /// One line.
    public var summary: String
    /// Error families.
    public var families: [String]
    /// The parameter schema.
    public var parameters: [ParameterSpec]
    /// The shared object it came from.
    public var path: String
    /// The ABI version the plugin implements, such as `1.0`.
    public var abi: String
    /// ABI 1.2: kernel modules the backend's paths need (`inject doctor` reports missing ones).
    public var kernelModules: [String] = []
    /// ABI 1.2: the `system:event` tracepoints its errors produce (`inject watch` enables them).
    public var traceEvents: [String] = []
    /// ABI 1.2: substrings that mark its kernel log lines (`inject watch` shows those lines).
    public var logMarkers: [String] = []
    /// ABI 1.2: whether it decodes its events into fields (`inject watch`).
    public var decodesEvents = false
    /// ABI 1.5: what the kernel prints when it drops records of this backend's errors.
    public var lossMarkers: [KernelLossMarker] = []
    /// ABI 1.5: the consumer's (rasdaemon's) table for each of its trace events.
    public var consumerTables: [String: String] = [:]
}

/// Kernel console text in which the kernel says it dropped records of a backend's errors: a
/// campaign reports such a loss as the kernel's, with its rate, not the injection's.
public struct KernelLossMarker: Sendable, Equatable, Codable {
    /// The text, `*` matching any text (`*pool full*`), as tracefs filters match it.
    public var match: String
    /// What the loss is, for people.
    public var reason: String

    /// Creates a marker.
    public init(match: String, reason: String) {
        self.match = match
        self.reason = reason
    }
}
