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
    /// What the kernel prints when it drops records of the backend's errors (ABI 1.5): a campaign
    /// reports such a loss as the kernel's, with its rate, instead of failing the injection.
    public var lossMarkers: [LossMarker]
    /// The consumer's table for each of the backend's trace events (`mce:mce_record` to
    /// rasdaemon's `mce_record`): `--verify` looks for the row there (ABI 1.5).
    public var consumerTables: [String: String]

    /// Creates a descriptor.
    public init(
        name: String, version: String, summary: String, families: [String],
        parameters: [Parameter], kernelModules: [String] = [], traceEvents: [String] = [],
        lossMarkers: [LossMarker] = [], consumerTables: [String: String] = [:], logMarkers: [String] = []
    ) {
        self.name = name
        self.version = version
        self.summary = summary
        self.families = families
        self.parameters = parameters
        self.kernelModules = kernelModules
        self.traceEvents = traceEvents
        self.logMarkers = logMarkers
        self.lossMarkers = lossMarkers
        self.consumerTables = consumerTables
    }
}

/// Kernel console text that says the kernel dropped records of a backend's errors.
public struct LossMarker: Sendable, Equatable {
    /// The text, `*` matching any text (`*pool full*`), as tracefs filters match it.
    public var match: String
    /// What the loss is, for people (`the MCE record pool was full`).
    public var reason: String

    /// Creates a marker.
    public init(match: String, reason: String) {
        self.match = match
        self.reason = reason
    }
}
