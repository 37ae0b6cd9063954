import Subprocess

/// Runs external tools (ipmitool, for example) as subprocesses, without a shell.
public enum ToolRunner {
    /// The outcome of one run.
    public struct Outcome: Sendable, Equatable {
        /// Whether the tool exited with status 0.
        public var succeeded: Bool
        /// Standard output, trimmed.
        public var output: String
        /// Standard error, trimmed.
        public var errorOutput: String
    }

    /// Runs `argv[0]` (looked up in PATH) with the remaining arguments and collects its output.
    ///
    /// - Parameter workingDirectory: where the tool runs (the caller's directory by default).
    /// - Throws: ``TargetError/tool(argv:reason:hint:)`` when the tool cannot start or fails.
    public static func run(_ argv: [String], hint: String? = nil, workingDirectory: FilePath? = nil)
        async throws(TargetError) -> Outcome
    {
        guard let program = argv.first else { throw .tool(argv: argv, reason: "empty command", hint: hint) }
        let outcome: Outcome
        do {
            let result = try await Subprocess.run(
                program.hasPrefix("/") ? .path(FilePath(program)) : .name(program),
                arguments: Arguments(Array(argv.dropFirst())),
                workingDirectory: workingDirectory,
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            outcome = Outcome(
                succeeded: result.terminationStatus.isSuccess,
                output: result.standardOutput.trimmed(),
                errorOutput: result.standardError.trimmed())
        } catch {
            throw .tool(
                argv: argv, reason: "could not run: \(error)", hint: hint ?? "is \(program) installed and on PATH?")
        }
        guard outcome.succeeded else {
            throw .tool(
                argv: argv, reason: "failed: \(outcome.errorOutput.isEmpty ? outcome.output : outcome.errorOutput)",
                hint: hint)
        }
        return outcome
    }
}
