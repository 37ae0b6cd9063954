import Foundation
import InjectHost

/// Paths, temporary trees, C fixture builds and CLI runs shared by the test targets.
public enum TestSupport {
    /// The package root.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build products directory holding `inject` and the plugin `.so` files (the directory of
    /// the running test binary).
    public static var productsDirectory: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("inject").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory
    }

    /// The `inject` executable.
    public static var injectExecutable: URL { productsDirectory.appendingPathComponent("inject") }

    /// The ABI header's directory.
    public static var headerDirectory: URL {
        packageRoot.appendingPathComponent("Sources/InjectPluginABI/include")
    }

    /// A new private temporary directory (mode 0700), removed by the caller with `remove`.
    public static func temporaryDirectory(_ label: String = "inject-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        return url
    }

    /// Removes a temporary tree.
    public static func remove(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    /// Creates empty files (and their directories) under `root`.
    public static func makeTree(_ root: URL, files: [String]) throws {
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: Data())
        }
    }

    /// The text of a file under `root`.
    public static func read(_ root: URL, _ file: String) -> String? {
        try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
    }

    /// Compiles a C plugin with `cc -shared -fPIC` against the ABI header alone.
    ///
    /// - Parameters:
    ///   - source: a path relative to the package root.
    ///   - output: the `.so` to write.
    ///   - defines: `-D` definitions.
    public static func compileCPlugin(_ source: String, to output: URL, defines: [String] = []) throws {
        let arguments =
            ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror", "-I", headerDirectory.path]
            + defines.map { "-D\($0)" } + ["-o", output.path, packageRoot.appendingPathComponent(source).path]
        let result = try run("/usr/bin/cc", arguments)
        guard result.status == 0 else {
            throw NSError(domain: "cc", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr])
        }
    }

    /// The outcome of a process run.
    public struct ProcessResult {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `inject` with `arguments` and an environment without INJECT_* variables, plus `environment`;
    /// with `timeLimit`, a run still going after that many seconds is killed (status 137), so a
    /// test of something that used to hang fails instead of hanging the suite.
    public static func inject(_ arguments: [String], environment: [String: String] = [:], timeLimit: Int? = nil)
        throws -> ProcessResult
    {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INJECT_") }
        env["HOME"] = "/nonexistent-inject-test-home"
        env.removeValue(forKey: "XDG_CONFIG_HOME")
        env["INJECT_JOURNAL"] = "off"  // tests that journal name their own file
        env.merge(environment) { $1 }
        if let timeLimit {
            return try run(
                "/usr/bin/timeout", ["-s", "KILL", String(timeLimit), injectExecutable.path] + arguments,
                environment: env)
        }
        return try run(injectExecutable.path, arguments, environment: env)
    }

    /// Runs a program and collects its output.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The seeded generator of fuzz tests: the campaigns' own SplitMix64, so a failure is repeatable
/// from its seed.
public typealias FuzzGenerator = SeededGenerator
