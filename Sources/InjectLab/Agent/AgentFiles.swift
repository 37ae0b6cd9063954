import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A lab guest's attribute files, reached through its agent: each operation is one request that
/// the agent carries out with direct system calls in the guest (where `/sys`, `/proc` and
/// debugfs are the guest kernel's).
public final class AgentFiles: TargetFiles {
    private let paths: LabPaths

    /// Connects to the lab's agent (again after a restart of the guest: each request takes the
    /// process's current connection).
    public init(_ paths: LabPaths) throws(TargetError) {
        self.paths = paths
        do {
            _ = try AgentClient.shared(paths)
        } catch {
            throw error.asTargetError(paths.name)
        }
    }

    public func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError) {
        let result = try request(.write, path, Array(value.utf8))
        guard result.status == 0 else { throw failure(result, path, "write", hint) }
    }

    public func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError) {
        let result = try request(.writeDevice, path, bytes)
        if result.status == Errno.inappropriateIOCTLForDevice.rawValue {
            throw .notADevice(path: "lab \(paths.name): \(guestPath(path))")
        }
        guard result.status == 0 else { throw failure(result, path, "device write", hint) }
    }

    public func read(_ path: TargetPath) throws(TargetError) -> [UInt8] {
        let result = try request(.read, path)
        guard result.status == 0 else { throw failure(result, path, "read", nil) }
        return result.output
    }

    public func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)] {
        let result = try request(.list, path)
        guard result.status == 0 else { throw failure(result, path, "list", nil) }
        return result.text.split(separator: "\n").map { line in
            (name: String(line.dropFirst(2)), isDirectory: line.hasPrefix("d "))
        }
    }

    public func exists(_ path: String) -> Bool {
        guard let target = try? TargetPath(path), let result = try? request(.exists, target) else { return false }
        return result.status == 0
    }

    public func makeDirectory(_ path: TargetPath) throws(TargetError) {
        let result = try request(.mkdir, path)
        guard result.status == 0 else { throw failure(result, path, "mkdir", nil) }
    }

    public func removeDirectory(_ path: TargetPath) throws(TargetError) {
        let result = try request(.rmdir, path)
        guard result.status == 0 else { throw failure(result, path, "rmdir", nil) }
    }

    /// The batch is carried out by the agent inside the guest: one request, whatever its size.
    public func perform(_ batch: WriteBatch) throws(TargetError) -> WriteBatch.Outcome {
        let encoded = batch.encoded
        // Long enough for the batch's pacing, and 1 ms per injection beyond it.
        let seconds = Int(UInt64(batch.injections.count) * (batch.intervalMicroseconds + 1000) / 1_000_000) + 30
        let result: AgentClient.Result
        do {
            result = try AgentClient.shared(paths).request(
                .batch, [], encoded, timeoutSeconds: seconds, stillAlive: Lab(paths: paths).stoppedReason)
        } catch {
            throw error.asTargetError(paths.name)
        }
        guard result.status == 0,
            let outcome = try? JSONDecoder().decode(WriteBatch.Outcome.self, from: Data(result.output))
        else {
            throw .guest(
                name: paths.name,
                reason:
                    "the agent did not run the batch (status \(result.status)\(result.text.isEmpty ? "" : ": " + result.text)): is the guest's agent older than this inject?"
            )
        }
        return outcome
    }

    private func guestPath(_ path: TargetPath) -> String { path.under("/").string }

    private func request(_ operation: AgentProtocol.Operation, _ path: TargetPath, _ data: [UInt8] = [])
        throws(TargetError) -> AgentClient.Result
    {
        do {
            return try AgentClient.shared(paths).request(
                operation, Array(guestPath(path).utf8), data, stillAlive: Lab(paths: paths).stoppedReason)
        } catch {
            throw error.asTargetError(paths.name)
        }
    }

    /// The error a local file operation would have given (the agent answers with the errno).
    private func failure(_ result: AgentClient.Result, _ path: TargetPath, _ operation: String, _ hint: String?)
        -> TargetError
    {
        let shown = "lab \(paths.name): \(guestPath(path))"
        return FileIO.map(Errno(rawValue: result.status), shown, operation, hint)
    }
}
