import CSystemShims

/// A witness for endings that no handler inside the process can see: a plugin that calls
/// `_exit`, makes the `exit_group` system call, resets or ignores SIGSEGV before it faults, ends
/// in its own signal handler or raises SIGKILL.
///
/// ``start()``, called first thing in `main` while the process has one thread, forks. The parent
/// becomes the witness: it only waits. The child runs the command and, through a page the two
/// share, says which plugin call it is in (``PluginGuard`` sets and clears it). When the child ends
/// inside a plugin call without having reported it, the witness prints the plugin's one line,
/// appends the pending journal outcome and exits with ``PluginGuard/exitStatus``; otherwise it ends
/// exactly as the child did (the same exit status, or the same signal).
///
/// The witness passes the termination signals a process sends it on to the child (the terminal's
/// SIGINT and SIGQUIT reach the child itself, as the same process group), and the child dies with
/// the witness (`PR_SET_PDEATHSIG`), so `kill -9` of the command still ends the work.
public enum PluginCallWitness {
    /// The state of the shared page.
    enum State: Int32 {
        /// Not in plugin code, or the child reported the ending itself.
        case idle = 0
        /// Inside a plugin call: the page holds its message.
        case inCall = 1
        /// The child printed the plugin's line and ends on purpose.
        case reported = 2
    }

    /// Whether ``start()`` split the process (the child sees `true`).
    nonisolated(unsafe) public private(set) static var isActive = false

    /// Forks the witness. Call it before any other thread starts; does nothing when the shared
    /// page or the fork cannot be had (the in-process guard still covers crashes and `exit`).
    public static func start() {
        guard !isActive,
            let page = mmap(nil, SharedPage.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
            page != MAP_FAILED
        else { return }
        let shared = SharedPage(page)
        let witnessPID = getpid()
        let child = fork()
        if child < 0 {
            munmap(page, SharedPage.size)
            return
        }
        if child == 0 {
            // Killing the witness (SIGKILL cannot be passed on) kills the work too.
            _ = inject_set_parent_death_signal(SIGKILL)
            if getppid() != witnessPID { _exit(PluginGuard.exitStatus) }
            self.shared = shared
            isActive = true
            return
        }
        witness(child, shared)
    }

    // MARK: - The child's side (called by PluginGuard under its lock)

    nonisolated(unsafe) private static var shared: SharedPage?

    /// Records that the outermost plugin call began, with its message (`inject: plugin P CALL: `).
    static func enter(message: UnsafePointer<UInt8>, length: Int) {
        shared?.setMessage(message, length)
        shared?.state = .inCall
    }

    /// Records that no plugin call is running.
    static func leave() { shared?.state = .idle }

    /// Records that the child reports the ending itself (async-signal-safe).
    static func reported() { shared?.state = .reported }

    /// Records the journal outcome that the witness appends if the call ends the process: the
    /// journal's path (read from the open descriptor), then the record's prefix and suffix.
    static func setPendingOutcome(fd: Int32, prefix: [UInt8], suffix: [UInt8]) {
        guard let shared else { return }
        var path = [UInt8](repeating: 0, count: 4097)
        let length = readlink("/proc/self/fd/\(fd)", &path, 4096)
        guard length > 0 else { return shared.clearOutcome() }
        shared.setOutcome(path: Array(path[..<length]), prefix: prefix, suffix: suffix)
    }

    /// Forgets the pending outcome.
    static func clearPendingOutcome() { shared?.clearOutcome() }

    // MARK: - The witness's side

    private static func witness(_ child: pid_t, _ shared: SharedPage) -> Never {
        witnessedChild = child
        // The terminal's SIGINT and SIGQUIT reach the child directly (si_code SI_KERNEL): pass on
        // only the signals a process sent to the witness.
        // A parent may have started us with them blocked (Foundation's Process does).
        var passedOn = sigset_t()
        sigemptyset(&passedOn)
        for signalNumber in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&passedOn, signalNumber)
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signalNumber, info, _ in
                if let info, info.pointee.si_code <= 0 { kill(PluginCallWitness.witnessedChild, signalNumber) }
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
        sigprocmask(SIG_UNBLOCK, &passedOn, nil)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            if errno != EINTR { _exit(PluginGuard.exitStatus) }
        }
        if shared.state == .inCall { report(status, shared) }
        let signalNumber = status & 0x7f
        guard signalNumber != 0 else { _exit((status >> 8) & 0xff) }
        // End by the same signal, without a core of our own.
        var limit = rlimit()
        setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        signal(signalNumber, SIG_DFL)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, signalNumber)
        sigprocmask(SIG_UNBLOCK, &unblocked, nil)
        kill(getpid(), signalNumber)
        _exit(128 + signalNumber)
    }

    nonisolated(unsafe) private static var witnessedChild: pid_t = 0

    /// The child ended inside a plugin call: the line, the journal outcome, the plugin's status.
    private static func report(_ status: Int32, _ shared: SharedPage) -> Never {
        let signalNumber = status & 0x7f
        let cause =
            signalNumber == 0
            ? "ended the process (exit status \((status >> 8) & 0xff)) instead of returning"
            : PluginGuard.signalCause(signalNumber).description + "; its own signal handling bypassed the host's"
        let tail = "; the plugin is at fault, not the target\n"
        var line = shared.message
        line += Array(cause.utf8) + Array(tail.utf8)
        line.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        if let outcome = shared.outcome {
            let fd = open(outcome.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                let text = PluginGuard.journalPlain(Array(shared.message.dropFirst(8)) + Array(cause.utf8))
                let record = outcome.prefix + text + outcome.suffix
                record.withUnsafeBufferPointer { _ = write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
            }
        }
        _exit(PluginGuard.exitStatus)
    }
}

/// The page the child and the witness share: the state, the call's message and the pending
/// journal outcome, at fixed offsets.
struct SharedPage {
    static let size = 1 << 20
    private static let messageOffset = 16
    private static let messageCapacity = 1024
    private static let outcomeOffset = messageOffset + messageCapacity

    private let base: UnsafeMutableRawPointer

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    /// Offsets: the state (Int32) at 0, whether an outcome is pending (Int32) at 4, the message's
    /// length at 8, the message at 16, the outcome's three lengths and bytes after it.
    var state: PluginCallWitness.State {
        get {
            PluginCallWitness.State(rawValue: base.load(as: Int32.self)) ?? .idle
        }
        nonmutating set { base.storeBytes(of: newValue.rawValue, as: Int32.self) }
    }

    func setMessage(_ message: UnsafePointer<UInt8>, _ length: Int) {
        let count = min(length, Self.messageCapacity)
        base.storeBytes(of: count, toByteOffset: 8, as: Int.self)
        (base + Self.messageOffset).copyMemory(from: message, byteCount: count)
    }

    var message: [UInt8] {
        let count = min(base.load(fromByteOffset: 8, as: Int.self), Self.messageCapacity)
        return Array(UnsafeRawBufferPointer(start: base + Self.messageOffset, count: count))
    }

    /// Lengths of path, prefix and suffix, then their bytes; nothing when they do not fit.
    func setOutcome(path: [UInt8], prefix: [UInt8], suffix: [UInt8]) {
        let header = 3 * MemoryLayout<Int>.size
        guard Self.outcomeOffset + header + path.count + prefix.count + suffix.count <= Self.size else {
            return clearOutcome()
        }
        clearOutcome()
        var offset = Self.outcomeOffset + header
        for (index, part) in [path, prefix, suffix].enumerated() {
            part.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            offset += part.count
            base.storeBytes(of: part.count, toByteOffset: Self.outcomeOffset + index * 8, as: Int.self)
        }
        base.storeBytes(of: 1, toByteOffset: 4, as: Int32.self)
    }

    func clearOutcome() { base.storeBytes(of: 0, toByteOffset: 4, as: Int32.self) }

    var outcome: (path: String, prefix: [UInt8], suffix: [UInt8])? {
        guard base.load(fromByteOffset: 4, as: Int32.self) == 1 else { return nil }
        var offset = Self.outcomeOffset + 3 * MemoryLayout<Int>.size
        var parts: [[UInt8]] = []
        for index in 0..<3 {
            let count = base.load(fromByteOffset: Self.outcomeOffset + index * 8, as: Int.self)
            parts.append(Array(UnsafeRawBufferPointer(start: base + offset, count: count)))
            offset += count
        }
        return (String(decoding: parts[0], as: UTF8.self), parts[1], parts[2])
    }
}
