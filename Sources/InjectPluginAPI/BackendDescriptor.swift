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
    /// Kernel modules the backend's paths need; `inject doctor` reports the ones not loaded
    /// (ABI 1.2; `mce_inject`, not `mce-inject`).
    public var kernelModules: [String]
    /// The `system:event` tracepoints the backend's errors produce; `inject watch` enables them
    /// and hands each one to ``InjectBackend/decode(event:fields:)`` (ABI 1.2).
    public var traceEvents: [String]
    /// Substrings that mark the backend's kernel log lines; `inject watch` shows the lines that
    /// hold one (ABI 1.2).
    public var logMarkers: [String]

    /// Creates a descriptor.
    public init(name: String, version: String, summary: String, families: [String],
                parameters: [Parameter], kernelModules: [String] = [], traceEvents: [String] = [],
                logMarkers: [String] = []) {
        self.name = name
        self.version = version
        self.summary = summary
        self.families = families
        self.parameters = parameters
        self.kernelModules = kernelModules
        self.traceEvents = traceEvents
        self.logMarkers = logMarkers
    }
}
