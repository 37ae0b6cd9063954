import CSystemShims

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads plugin descriptors in separate processes (the `inject` executable re-executed with
/// ``childArgument``), one per file and all at once, each within a time limit, so that a plugin
/// that crashes, hangs, exits or prints while loading is refused with that reason and costs the
/// host nothing: the way GStreamer's plugin scanner protects its registry.
public enum PluginScanner {
    /// The hidden first argument that makes `inject` a scanner for one file.
    public static let childArgument = "__scan-plugin"

    /// What one scan found.
    struct Outcome: Codable, Sendable, Equatable {
        var info: BackendInfo?
        var refusal: String?
        /// Still loading when the scan stopped waiting (``scan(_:executable:timeLimit:enough:)``).
        var leftOut = false

        enum CodingKeys: String, CodingKey { case info, refusal }

        init(info: BackendInfo?, refusal: String?, leftOut: Bool = false) {
            self.info = info
            self.refusal = refusal
            self.leftOut = leftOut
        }
    }

    /// How long scans still running may finish once `enough` is satisfied.
    static let grace = 0.5

    /// Scans `files` (real paths) with `executable`, within `timeLimit` seconds for all of them;
    /// once `enough` holds for the outcomes so far, the rest get ``grace`` seconds and are then
    /// left out (``Outcome/leftOut``).
    static func scan(
        _ files: [String], executable: String, timeLimit: Double, enough: (([String: Outcome]) -> Bool)? = nil
    ) -> [String: Outcome] {
        var running: [Child] = []
        var outcomes: [String: Outcome] = [:]
        for file in files {
            switch Child.start(file, executable: executable) {
            case .success(let child): running.append(child)
            case .failure(let failure): outcomes[file] = Outcome(info: nil, refusal: failure.reason)
            }
        }
        var deadline = monotonicSeconds() + timeLimit
        var leavingOut = false
        var finished = outcomes
        var peeked = Set<String>()
        while running.contains(where: { !$0.finishedReading }) {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { break }
            var fds = running.flatMap { $0.pollEntries() }
            _ = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000 + 1, 100)))
            for index in running.indices { running[index].read(ready: fds) }
            if let enough, !leavingOut {
                // Each finished scan is decoded once, when it finishes.
                var changed = false
                for child in running where child.finishedReading && !peeked.contains(child.file) {
                    peeked.insert(child.file)
                    finished[child.file] = child.peek()
                    changed = true
                }
                if changed, enough(finished) {
                    leavingOut = true
                    deadline = min(deadline, monotonicSeconds() + grace)
                }
            }
        }
        for child in running {
            if leavingOut && !child.finishedReading {
                child.abandon()
                outcomes[child.file] = Outcome(
                    info: nil,
                    refusal:
                        "still loading when the backend asked for was found; left out of this command (not cached: the next command scans it again; `inject list` waits for it)",
                    leftOut: true)
            } else {
                outcomes[child.file] = child.finish(timeLimit: timeLimit)
            }
        }
        return outcomes
    }

    /// The scanner side, in the re-executed `inject`: loads `path` and writes what it found as
    /// JSON to descriptor 3, then ends without running any plugin's destructors.
    public static func runChild(_ path: String) -> Never {
        // The plugin's standard output stays where it is (a pipe the host watches), and the host
        // enforces the time limit; a crash or exit() is reported on standard error by the guard.
        PluginGuard.holdsStandardOutput = false
        PluginGuard.timeLimit = PluginGuard.timeLimits.upperBound
        let outcome: Outcome
        if path.hasSuffix(ManifestBackend.suffix) {
            do throws(ManifestError) {
                outcome = Outcome(info: try ManifestBackend.load(path).info, refusal: nil)
            } catch {
                outcome = Outcome(info: nil, refusal: PluginRefusal.Reason.invalidManifest(error).description)
            }
        } else {
            switch PluginLoader.load(path) {
            case .success(let backend): outcome = Outcome(info: backend.info, refusal: nil)
            case .failure(let refusal): outcome = Outcome(info: nil, refusal: refusal.reason.description)
            }
        }
        fflush(nil)
        if let data = try? JSONEncoder().encode(outcome) {
            _ = data.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        }
        _exit(0)
    }

    /// Why a scanner process could not be started.
    private struct ScanFailure: Error { var reason: String }

    /// One running scanner process.
    private struct Child {
        let file: String
        let pid: pid_t
        var result: Int32, output: Int32, errors: Int32
        var resultBytes: [UInt8] = [], outputBytes: [UInt8] = [], errorBytes: [UInt8] = []
        var outputCount = 0

        var finishedReading: Bool { result < 0 && output < 0 && errors < 0 }

        static func start(_ file: String, executable: String) -> Result<Child, ScanFailure> {
            var pipes: [[Int32]] = []
            for _ in 0..<3 {
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0,
                    fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0
                else {
                    pipes.flatMap { $0 }.forEach { close($0) }
                    return .failure(ScanFailure(reason: "cannot be scanned: pipe: \(String(cString: strerror(errno)))"))
                }
                pipes.append(ends)
            }
            defer { pipes.forEach { close($0[1]) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2)
            posix_spawn_file_actions_adddup2(&actions, pipes[0][1], 3)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // Its own process group: a plugin that forks is stopped with it.
            // and a clean signal mask, whatever this process inherited.
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
            posix_spawnattr_setpgroup(&attributes, 0)
            let words = [executable, childArgument, file]
            let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            guard spawned == 0 else {
                pipes.forEach { close($0[0]) }
                return .failure(
                    ScanFailure(
                        reason: "cannot be scanned: starting \(executable): \(String(cString: strerror(spawned)))"))
            }
            return .success(Child(file: file, pid: pid, result: pipes[0][0], output: pipes[1][0], errors: pipes[2][0]))
        }

        func pollEntries() -> [pollfd] {
            [result, output, errors].filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        }

        mutating func read(ready: [pollfd]) {
            func drain(_ fd: inout Int32, into bytes: inout [UInt8], keep: Int, count: inout Int) {
                guard fd >= 0, ready.contains(where: { $0.fd == fd && $0.revents != 0 }) else { return }
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    count += n
                    bytes += buffer.prefix(max(0, min(n, keep - bytes.count)))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fd)
                    fd = -1
                }
            }
            var ignored = 0
            drain(&result, into: &resultBytes, keep: 1 << 20, count: &ignored)
            drain(&output, into: &outputBytes, keep: 80, count: &outputCount)
            drain(&errors, into: &errorBytes, keep: 1 << 16, count: &ignored)
        }

        /// What a finished scan described, before ``finish(timeLimit:)`` judges it (for deciding
        /// whether to wait for the others).
        func peek() -> Outcome? {
            guard outputCount == 0 else { return nil }
            return try? JSONDecoder().decode(Outcome.self, from: Data(resultBytes))
        }

        /// Ends a scan still running without judging it.
        func abandon() {
            [result, output, errors].filter { $0 >= 0 }.forEach { close($0) }
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            kill(-pid, SIGKILL)
        }

        /// Ends the process (if it still runs) and says what the scan found.
        func finish(timeLimit: Double) -> Outcome {
            let timedOut = !finishedReading
            [result, output, errors].filter { $0 >= 0 }.forEach { close($0) }
            if timedOut { kill(-pid, SIGKILL) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            // Whatever the plugin started while being scanned (a constructor that forks) ends
            // with the scan: the scanner's process group is killed. Its ID cannot be reused while
            // a member lives.
            kill(-pid, SIGKILL)
            let seconds = timeLimit == timeLimit.rounded() ? String(Int(timeLimit)) : String(timeLimit)
            func refused(_ reason: String) -> Outcome { Outcome(info: nil, refusal: reason) }
            if timedOut {
                return refused(
                    "hung while being scanned: it did not finish loading within \(seconds) s (its constructor or entry does not return)"
                )
            }
            if outputCount > 0 {
                let sample = PrintableText.escaped(String(decoding: outputBytes, as: UTF8.self), limit: 60)
                return refused(
                    "wrote \(outputCount) byte(s) to standard output while being scanned (\"\(sample)\"); a plugin must not print: it would corrupt the host's output (use the host's log service)"
                )
            }
            if let outcome = try? JSONDecoder().decode(Outcome.self, from: Data(resultBytes)), status == 0 {
                return outcome
            }
            // The guard in the scanner names the call and the cause on standard error.
            let lines = String(decoding: errorBytes, as: UTF8.self).split(separator: "\n")
            if let line = lines.last(where: { $0.hasPrefix("inject: plugin ") }) {
                let text = String(line)
                let marker = "; the plugin is at fault, not the target"
                let body = text.hasSuffix(marker) ? String(text.dropLast(marker.count)) : text
                // "inject: plugin PATH CALL: CAUSE" (causes hold no ": ").
                let parts = body.split(separator: ": ", omittingEmptySubsequences: false)
                let cause = parts.last.map(String.init) ?? body
                let call = parts.dropLast().joined(separator: ": ")
                let place =
                    call.hasSuffix(" entry")
                    ? "its entry function"
                    : call.hasSuffix("(constructors)") ? "a constructor (while loading)" : "its code"
                return refused("\(PrintableText.escaped(cause, limit: 200)) in \(place) while being scanned")
            }
            if status & 0x7f != 0 {
                return refused("crashed while being scanned (signal \(status & 0x7f))")
            }
            return refused(
                "ended the scanner with exit status \((status >> 8) & 0xff) while being scanned, without describing itself"
            )
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
