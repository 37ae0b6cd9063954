/// Turns a request's sources into one validated value per schema entry, recording where each came
/// from. Throws before anything is injected when a name is unknown, a value is invalid, or a
/// required parameter is missing.
public struct ParameterResolver {
    /// The backend's name, for messages and environment names.
    public let backend: String
    /// The backend's schema.
    public let schema: [ParameterSpec]

    /// Creates a resolver for one backend.
    public init(backend: String, schema: [ParameterSpec]) {
        self.backend = backend
        self.schema = schema
    }

    /// Resolves every schema entry.
    ///
    /// - Parameters:
    ///   - sources: the command line, environment and configuration files.
    ///   - requireAll: whether to fail on a missing required parameter (`info` does not).
    public func resolve(_ sources: ConfigurationSources, requireAll: Bool = true) throws(ConfigurationError)
        -> [ResolvedParameter]
    {
        let valid = schema.map(\.name)
        for (name, _) in sources.assignments where !valid.contains(name) {
            throw .unknownParameter(backend: backend, name: name, source: .commandLine, valid: valid)
        }
        for (name, variable) in sources.environmentParameters(backend: backend) where !valid.contains(name) {
            throw .unknownParameter(backend: backend, name: name, source: .environment(variable), valid: valid)
        }
        for file in sources.files {
            for key in file.backendKeys where key.backend == backend && !valid.contains(key.parameter) {
                throw .unknownParameter(
                    backend: backend, name: key.parameter, source: .configFile(file.path), valid: valid)
            }
        }
        var resolved: [ResolvedParameter] = []
        for spec in schema {
            let (text, source) = lookup(spec, in: sources)
            guard let text else {
                if requireAll && spec.isRequired {
                    throw .missingRequired(backend: backend, parameter: spec.name, help: spec.help)
                }
                resolved.append(ResolvedParameter(spec: spec, value: nil, source: .unset))
                continue
            }
            let value = try ValueParser.parse(text, for: spec, backend: backend, source: source)
            resolved.append(ResolvedParameter(spec: spec, value: value, source: source))
        }
        return resolved
    }

    /// The winning text for `spec` and its source.
    private func lookup(_ spec: ParameterSpec, in sources: ConfigurationSources) -> (String?, ValueSource) {
        if let given = sources.assignments.first(where: { $0.name == spec.name }) {
            return (given.value, .commandLine)
        }
        let variable = ConfigurationSources.environmentName(backend: backend, parameter: spec.name)
        if let text = sources.environmentValue(variable) {
            return (text, .environment(variable))
        }
        for file in sources.files {
            if let text = file.text(["backends", backend, spec.name]) {
                return (text, .configFile(file.path))
            }
        }
        if let text = spec.defaultValue {
            return (text, .schemaDefault)
        }
        return (nil, .unset)
    }
}
