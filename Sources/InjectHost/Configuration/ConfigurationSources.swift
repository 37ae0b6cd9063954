import Configuration

/// Everything a request's parameter values can come from, in precedence order:
/// command line, then environment, then configuration files, then the schema's default.
public struct ConfigurationSources: Sendable {
    /// The request's own values (the command line's `name=value` words), in the order given.
    public var assignments: [(name: String, value: String)]
    /// The environment, read through swift-configuration.
    private let environment: EnvironmentVariablesProvider
    /// The names of all environment variables, so that a misspelt `INJECT_<BACKEND>_...` is reported.
    private let environmentKeys: [String]
    /// The same names as a set: a variable that is not set is not looked up in the provider.
    private let environmentKeySet: Set<String>
    /// Configuration files, highest precedence first (`--config`, or per-user before system-wide).
    public var files: [ConfigurationFile]

    /// Creates the sources.
    ///
    /// - Parameters:
    ///   - assignments: the request's own values.
    ///   - environment: the process environment (tests pass their own).
    ///   - files: parsed configuration files, highest precedence first.
    /// - Throws: ``ConfigurationError/repeatedParameter(_:)`` when a name is given twice.
    public init(assignments given: [ParameterAssignment], environment: [String: String], files: [ConfigurationFile])
        throws(ConfigurationError)
    {
        var seen = Set<String>()
        var assignments: [(String, String)] = []
        for assignment in given {
            let name = assignment.name.lowercased().replacing("-", with: "_")
            guard seen.insert(name).inserted else { throw .repeatedParameter(name) }
            assignments.append((name, assignment.value.text))
        }
        self.assignments = assignments
        self.environment = EnvironmentVariablesProvider(environmentVariables: environment)
        self.environmentKeys = environment.keys.sorted()
        self.environmentKeySet = Set(environment.keys)
        self.files = files
    }

    /// The environment variable that sets `parameter` of `backend`: `INJECT_<BACKEND>_<NAME>`.
    public static func environmentName(backend: String, parameter: String) -> String {
        "INJECT_\(backend)_\(parameter)".uppercased().replacing("-", with: "_")
    }

    /// The value of an environment variable, or `nil`.
    func environmentValue(_ name: String) -> String? {
        guard environmentKeySet.contains(name),
            let result = try? environment.value(forKey: AbsoluteConfigKey([name]), type: .string),
            case .string(let text)? = result.value?.content
        else { return nil }
        return text
    }

    /// The parameter names set through `INJECT_<BACKEND>_<NAME>` variables, with each variable.
    func environmentParameters(backend: String) -> [(name: String, variable: String)] {
        let prefix = Self.environmentName(backend: backend, parameter: "")
        return environmentKeys.filter { $0.hasPrefix(prefix) && $0.count > prefix.count }
            .map { (String($0.dropFirst(prefix.count)).lowercased(), $0) }
    }
}

extension ConfigurationSources {
    /// Creates the sources from the command line's `name=value` words.
    ///
    /// - Throws: ``ConfigurationError/malformedAssignment(_:)`` or `.repeatedParameter`.
    public init(arguments: [String], environment: [String: String], files: [ConfigurationFile])
        throws(ConfigurationError)
    {
        try self.init(
            assignments: InjectionRequest("", words: arguments).assignments, environment: environment, files: files)
    }
}
