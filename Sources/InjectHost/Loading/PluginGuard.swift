/// Bounds every call into plugin code (dlopen with its constructors, the entry, probe, plan,
/// decode, a vendor function):
/// - a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS), a call of `exit()`, or a call
///   running past ``timeLimit`` ends `inject` with exit 3 and one line naming the plugin, the call
///   and the cause; a journal intent that is open gets its `failed` outcome first; the endings
///   no handler sees (`_exit`, `exit_group`, a signal's action changed by the plugin, SIGKILL)
///   are reported the same way by the ``PluginCallWitness``;
/// - the plugin's standard output goes to standard error, so the host's own output (`--json`)
///   stays intact.
///
/// Memory safety cannot be restored after a crash in-process, so nothing is retried: the point
/// is a named, journaled, documented failure instead of a raw backtrace, a hang or a silent
/// status 0. Outside plugin calls the handlers pass signals on to whatever was installed before.
public enum PluginGuard {
    /// How long one plugin call may run, in seconds (`INJECT_PLUGIN_TIME_LIMIT`, default 60).
    nonisolated(unsafe) public static var timeLimit: Double = 60

    /// Whether plugin code's standard output is sent to standard error (the scanner process
    /// turns this off: there the host watches it).
    nonisolated(unsafe) public static var holdsStandardOutput = true
    /// The exit status when plugin code ends the process (it crashed, called `exit`, or outlived
    /// ``timeLimit``); the front end sets its own (the command line's is 3).
    nonisolated(unsafe) public static var exitStatus: Int32 = 3

    /// The allowed range of ``timeLimit``.
    public static let timeLimits: ClosedRange<Double> = 0.1...3600

    /// Runs `body` (a call into `plugin`'s code named `call`, such as `plan`) under the guard.
    public static func run<R>(_ plugin: String, _ call: String, _ body: () throws -> R) rethrows -> R {
        install()
        lock.lock()
        depth += 1
        let outermost = depth == 1
        if outermost {
            setMessage(plugin: plugin, call: call)
            PluginCallWitness.enter(message: message, length: messageLength)
            setTimeLimitCause(seconds: timeLimit)
            if holdsStandardOutput {
                fflush(nil)
                _ = dup2(2, 1)
            }
            // A synchronous fault in a thread that blocks it would kill the process unannounced.
            var fatal = sigset_t()
            sigemptyset(&fatal)
            for signalNumber in fatalSignals { sigaddset(&fatal, signalNumber) }
            pthread_sigmask(SIG_UNBLOCK, &fatal, nil)
            watchdog.start(seconds: timeLimit)
        }
        lock.unlock()
        defer {
            lock.lock()
            depth -= 1
            if depth == 0 {
                watchdog.stop()
                if holdsStandardOutput {
                    fflush(nil)
                    _ = dup2(savedStdout, 1)
                }
                messageLength = 0
                PluginCallWitness.leave()
            }
            lock.unlock()
        }
        return try body()
    }

    /// Sets the outcome that is appended to the journal (file descriptor `fd`) if plugin code ends
    /// the process while an intent is open: `prefix`, then the cause (ASCII, no quotes), then
    /// `suffix`. ``clearPendingOutcome()`` forgets it once the real outcome is written.
    static func setPendingOutcome(fd: Int32, prefix: [UInt8], suffix: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        pendingFD = -1
        // The whole record, however long: a cut one would be a broken journal line.
        outcomePrefix.deallocate()
        outcomePrefix = .allocate(capacity: max(prefix.count, 1))
        if !prefix.isEmpty {
            prefix.withUnsafeBufferPointer { outcomePrefix.update(from: $0.baseAddress!, count: prefix.count) }
        }
        outcomePrefixLength = prefix.count
        outcomeSuffix.deallocate()
        outcomeSuffix = .allocate(capacity: max(suffix.count, 1))
        if !suffix.isEmpty {
            suffix.withUnsafeBufferPointer { outcomeSuffix.update(from: $0.baseAddress!, count: suffix.count) }
        }
        outcomeSuffixLength = suffix.count
        pendingFD = fd
        PluginCallWitness.setPendingOutcome(fd: fd, prefix: prefix, suffix: suffix)
    }

    /// Clears the pending outcome.
    static func clearPendingOutcome() {
        lock.lock()
        pendingFD = -1
        PluginCallWitness.clearPendingOutcome()
        lock.unlock()
    }

    /// The time limit from the environment's `INJECT_PLUGIN_TIME_LIMIT` (seconds), or why the
    /// value is refused.
    public static func configure(environment: [String: String]) -> String? {
        guard let text = environment["INJECT_PLUGIN_TIME_LIMIT"], !text.isEmpty else { return nil }
        guard let seconds = Double(text), timeLimits.contains(seconds) else {
            return
                "INJECT_PLUGIN_TIME_LIMIT='\(text.prefix(32))' is not a number of seconds in \(timeLimits.lowerBound)...\(Int(timeLimits.upperBound)); unset it for the default of 60"
        }
        timeLimit = seconds
        return nil
    }

    // MARK: - State read by the handlers (fixed storage, no allocation once installed)

    private static let messageCapacity = 512
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var savedStdout: Int32 = -1
    nonisolated(unsafe) private static var message = UnsafeMutablePointer<UInt8>.allocate(capacity: messageCapacity)
    nonisolated(unsafe) private static var messageLength = 0
    /// The message without "inject: ", reduced to characters that need no escaping in JSON.
    nonisolated(unsafe) private static var journalText = UnsafeMutablePointer<UInt8>.allocate(capacity: messageCapacity)
    nonisolated(unsafe) private static var journalTextLength = 0
    nonisolated(unsafe) private static var outcomePrefix = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    nonisolated(unsafe) private static var outcomePrefixLength = 0
    nonisolated(unsafe) private static var outcomeSuffix = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    nonisolated(unsafe) private static var outcomeSuffixLength = 0
    nonisolated(unsafe) private static var pendingFD: Int32 = -1
    nonisolated(unsafe) private static var previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)
    private static let lock = GuardLock()
    private static let watchdog = Watchdog()

    private static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS]

    private static func setMessage(plugin: String, call: String) {
        let text = Array(
            "inject: plugin \(PrintableText.escaped(plugin, limit: 64)) \(PrintableText.escaped(call, limit: 96)): "
                .utf8.prefix(messageCapacity - 128))
        text.withUnsafeBufferPointer { message.update(from: $0.baseAddress!, count: text.count) }
        let plain = journalPlain(Array(text.dropFirst(8)))
        plain.withUnsafeBufferPointer { journalText.update(from: $0.baseAddress!, count: plain.count) }
        journalTextLength = plain.count
        messageLength = text.count
    }

    /// `text` reduced to characters that need no escaping in a JSON string.
    static func journalPlain(_ text: [UInt8]) -> [UInt8] {
        text.map { byte -> UInt8 in
            byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                ? byte : UInt8(ascii: "?")
        }
    }

    /// What a fatal signal means, in the words of the plugin's line.
    static func signalCause(_ signalNumber: Int32) -> StaticString {
        switch signalNumber {
        case SIGSEGV: return "crashed (SIGSEGV, invalid memory access)"
        case SIGBUS: return "crashed (SIGBUS, bus error)"
        case SIGILL: return "crashed (SIGILL, illegal instruction)"
        case SIGFPE: return "crashed (SIGFPE, arithmetic fault)"
        case SIGABRT: return "aborted (SIGABRT)"
        case SIGKILL: return "was killed (SIGKILL)"
        case SIGTERM: return "was terminated (SIGTERM)"
        default: return "crashed (fatal signal)"
        }
    }

    nonisolated(unsafe) private static var timeLimitCause = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
    nonisolated(unsafe) private static var timeLimitCauseLength = 0
    nonisolated(unsafe) private static var timeLimitCauseSeconds = -1.0

    private static func setTimeLimitCause(seconds: Double) {
        guard seconds != timeLimitCauseSeconds else { return }
        let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        let text = Array(
            "did not return within \(shown) s (the limit; INJECT_PLUGIN_TIME_LIMIT sets it)".utf8.prefix(128))
        text.withUnsafeBufferPointer { timeLimitCause.update(from: $0.baseAddress!, count: text.count) }
        timeLimitCauseLength = text.count
        timeLimitCauseSeconds = seconds
    }

    private static func install() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        savedStdout = fcntl(1, F_DUPFD_CLOEXEC, 3)
        // A plugin that overflows its stack still gets its line: the handler runs on its own stack.
        var alternate = stack_t()
        alternate.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
        alternate.ss_size = 65536
        sigaltstack(&alternate, nil)
        for signalNumber in fatalSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signalNumber, info, context in
                PluginGuard.handle(signalNumber, info, context)
            }
            action.sa_flags = SA_SIGINFO | Int32(bitPattern: UInt32(SA_ONSTACK))
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, previous + Int(signalNumber))
        }
        on_exit({ status, _ in PluginGuard.exited(status) }, nil)
        watchdog.launch { PluginGuard.die(timeLimitCause, timeLimitCauseLength) }
    }

    /// The signal handler: async-signal-safe (write, fsync, _exit, sigaction, raise only).
    private static func handle(
        _ signalNumber: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?
    ) {
        if messageLength > 0 {
            let cause = signalCause(signalNumber)
            die(cause.utf8Start, cause.utf8CodeUnitCount)
        }
        // Not in plugin code: hand the signal to whoever had it before (the Swift runtime's
        // backtracer, or the default action).
        let old = previous[Int(signalNumber)]
        if old.sa_flags & SA_SIGINFO != 0, let handler = old.__sigaction_handler.sa_sigaction {
            handler(signalNumber, info, context)
            return
        }
        var restore = old
        sigaction(signalNumber, &restore, nil)
        raise(signalNumber)
    }

    /// The `on_exit` hook: plugin code called `exit()`.
    private static func exited(_ status: Int32) {
        guard messageLength > 0 else { return }
        let text = Array("called exit(\(status))".utf8)
        text.withUnsafeBufferPointer { die($0.baseAddress!, $0.count) }
    }

    /// Writes the message with `cause` to standard error and the pending outcome to the journal,
    /// then ends the process with ``exitStatus``.
    private static func die(_ cause: UnsafePointer<UInt8>, _ causeLength: Int) {
        let tail: StaticString = "; the plugin is at fault, not the target\n"
        PluginCallWitness.reported()
        _ = write(2, message, messageLength)
        _ = write(2, cause, causeLength)
        _ = write(2, tail.utf8Start, tail.utf8CodeUnitCount)
        if pendingFD >= 0 {
            _ = lseek(pendingFD, 0, SEEK_END)
            _ = write(pendingFD, outcomePrefix, outcomePrefixLength)
            _ = write(pendingFD, journalText, journalTextLength)
            _ = write(pendingFD, cause, causeLength)
            _ = write(pendingFD, outcomeSuffix, outcomeSuffixLength)
            _ = fsync(pendingFD)
        }
        _exit(exitStatus)
    }
}

/// A thread of its own that ends the process when a plugin call outlives its deadline. (A
/// SIGALRM timer would not do: a signal mask inherited from the parent or the concurrency pool
/// can block it in every thread.)
final class Watchdog: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var deadline: timespec?
    private var expire: (() -> Void)?

    init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    /// Starts the thread; `expire` runs on it when a deadline passes.
    func launch(_ expire: @escaping () -> Void) {
        self.expire = expire
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Watchdog>.fromOpaque(raw!).takeRetainedValue().loop()
                return nil
            }, box)
        pthread_detach(thread)
    }

    /// Arms the deadline `seconds` from now.
    func start(seconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int(now.tv_nsec) + Int((seconds - seconds.rounded(.down)) * 1e9)
        var end = timespec()
        end.tv_sec = now.tv_sec + Int(seconds.rounded(.down)) + nanoseconds / 1_000_000_000
        end.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(&mutex)
        deadline = end
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Disarms it.
    func stop() {
        pthread_mutex_lock(&mutex)
        deadline = nil
        pthread_mutex_unlock(&mutex)
    }

    private func loop() -> Never {
        pthread_mutex_lock(&mutex)
        while true {
            guard var end = deadline else {
                pthread_cond_wait(&condition, &mutex)
                continue
            }
            if pthread_cond_timedwait(&condition, &mutex, &end) == ETIMEDOUT, let current = deadline,
                current.tv_sec == end.tv_sec && current.tv_nsec == end.tv_nsec
            {
                expire?()
            }
        }
    }
}

/// A plain pthread mutex (the handlers never take it).
final class GuardLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
