/// What a backend tells the host about itself when it loads.
public struct BackendDescriptor: Sendable {
    /// The name users type (`inject run <name>`): lowercase letters, digits, `-` and `_`.
    public var name: String
    /// The plugin's own version.
    public var version: String
    /// One line shown by `inject list`.
    public var summary: String
    /// The error families it injects, such as `mce`, `memory`, `pcie`, `notification`.
    public var families: [String]
    /// The parameter schema, in the order `inject info` shows it.
    public var parameters: [Parameter]

    /// Creates a descriptor.
    public init(name: String, version: String, summary: String, families: [String],
                parameters: [Parameter]) {
        self.name = name
        self.version = version
        self.summary = summary
        self.families = families
        self.parameters = parameters
    }
}
