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
}
