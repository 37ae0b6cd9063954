/// What the host knows about a loaded backend, copied out of its descriptor.
public struct BackendInfo: Sendable, Equatable, Encodable {
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
}
