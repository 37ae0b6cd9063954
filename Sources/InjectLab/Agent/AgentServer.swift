import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The guest's end of the agent channel (``AgentClient`` is the host's): the agent that runs inside a
/// lab's guest (`inject lab agent` of the guest's inject package, started by the guest's init):
/// answers ``AgentProtocol`` requests on the virtio-serial
/// port. File operations are direct system calls, so that an attribute write from the host costs
/// one round trip and no process.
public enum AgentServer {
    /// Serves `port` until the process is killed.
    public static func serve(port: FilePath) throws(LabError) -> Never {
        signal(SIGPIPE, SIG_IGN)
        let fd = open(port.string, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .agent("cannot open \(port): \(Errno(rawValue: errno))") }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 {
                // No host connected (the port reads as end of file) or interrupted: wait.
                usleep(20_000)
                continue
            }
            // Only the new bytes are searched: a file copied in is one long line read in small chunks.
            var searchFrom = pending.count
            pending += chunk[..<count]
            while let newline = pending[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                searchFrom = 0
                if let answer = answer(line) { writeAll(fd, answer) }
            }
        }
    }

    /// The answer to one request line, or `nil` for a malformed one.
    static func answer(_ line: String) -> [UInt8]? {
        let fields = line.split(separator: " ")
        guard fields.count == 5, let operation = AgentProtocol.Operation(rawValue: String(fields[1])),
            let timeout = Int(fields[2]), let first = AgentProtocol.decode(fields[3]),
            let second = AgentProtocol.decode(fields[4])
        else { return nil }
        let (status, output, error) = perform(operation, timeout, String(decoding: first, as: UTF8.self), second)
        return AgentProtocol.answerHeader(
            id: String(fields[0]), status: status, output: output.count, error: error.count)
            + output + error
    }

    static func perform(
        _ operation: AgentProtocol.Operation, _ timeout: Int, _ argument: String,
        _ data: [UInt8]
    ) -> (Int32, [UInt8], [UInt8]) {
        switch operation {
        case .shell:
            return shell(argument, timeoutSeconds: timeout)
        case .read:
            do {
                guard let bytes = try FileIO.readWholeFile(FilePath(argument)) else { return failure(ENOENT) }
                return (0, bytes, [])
            } catch let error as Errno {
                return failure(error.rawValue)
            } catch {
                return failure(EIO)
            }
        case .write:
            let fd = open(argument, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return failure(errno) }
            defer { close(fd) }
            let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written == data.count else { return failure(written < 0 ? errno : EIO) }
            return (0, [], [])
        case .writeDevice:
            let fd = open(argument, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { return failure(errno) }
            defer { close(fd) }
            if let error = FileIO.writeRecord(data, fd: fd) { return failure(error.rawValue) }
            return (0, [], [])
        case .list:
            do {
                let entries = try FileIO.listDirectory(FilePath(argument))
                return (0, Array(entries.map { ($0.isDirectory ? "d " : "f ") + $0.name + "\n" }.joined().utf8), [])
            } catch .system(_, _, let error, _) {
                return failure(error.rawValue)
            } catch .notFound {
                return failure(ENOENT)
            } catch .permissionDenied {
                return failure(EACCES)
            } catch {
                return failure(EIO)
            }
        case .exists:
            return access(argument, F_OK) == 0 ? (0, [], []) : failure(errno)
        case .mkdir:
            return mkdir(argument, 0o755) == 0 || errno == EEXIST ? (0, [], []) : failure(errno)
        case .rmdir:
            return rmdir(argument) == 0 ? (0, [], []) : failure(errno)
        case .batch:
            guard let batch = WriteBatch(encoded: data) else { return failure(EINVAL) }
            let outcome = batch.perform(on: AttributeFiles(root: FilePath("/")))
            guard let answer = try? JSONEncoder().encode(outcome) else { return failure(EIO) }
            return (0, Array(answer), [])
        }
    }

    private static func failure(_ code: Int32) -> (Int32, [UInt8], [UInt8]) {
        (code, [], Array(String(cString: strerror(code)).utf8))
    }

    /// Runs `/bin/sh -c command` with output in memory files, killing it after `timeoutSeconds`.
    static func shell(_ command: String, timeoutSeconds: Int) -> (Int32, [UInt8], [UInt8]) {
        let out = scratchFile()
        let err = scratchFile()
        guard out >= 0, err >= 0 else { return failure(errno) }
        defer {
            close(out)
            close(err)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, err, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        var defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard spawned == 0 else { return failure(spawned) }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(max(1, timeoutSeconds)) * 1_000_000_000
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if HostClock.monotonicNanoseconds() > deadline {
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitStatus, contents(out), contents(err))
    }

    /// An unlinked file on the guest's devtmpfs (always writable, whatever the root), or -1.
    private static func scratchFile() -> Int32 {
        var template = Array("/dev/.inject-agent-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        return fd
    }

    private static func contents(_ fd: Int32) -> [UInt8] {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return Array(bytes.prefix(max(0, count)))
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count <= 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += count
        }
    }
}
