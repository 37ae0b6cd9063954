/// The process `expect=sigbus` is about: started in the target before the injection, it holds one
/// page at a fixed virtual address and reads it every few milliseconds, so that once the kernel
/// has taken the page (memory_failure() of it) its next read faults and the kernel kills it with
/// SIGBUS, logging "MCE: Killing inject-victim:PID due to hardware memory corruption fault at
/// ADDRESS" (x86, `do_sigbus`), or, when early kill is on, "Sending SIGBUS to inject-victim:PID".
/// The request is given the page's physical address; the kernel's line is the outcome's evidence.
public struct Victim: Sendable, Equatable {
    /// The victim's pid in the target.
    public var pid: Int
    /// The physical address of its page.
    public var physicalAddress: UInt64

    /// Where the victim maps its page (1 TiB, clear of everything a small process maps).
    public static let virtualAddress: UInt64 = 0x100_0000_0000
    /// The victim's process name (`comm`), as the kernel's kill line names it.
    public static let processName = "inject-victim"
    /// The longest a victim waits for its page to be taken, in seconds.
    public static let lifetimeSeconds = 600

    /// The kernel's report of the kill, for this victim.
    public var killLine: String { "\(Self.processName):\(pid) due to hardware memory corruption" }

    /// Starts `executable victim` in the target's kernel (in a lab, the guest's own packaged
    /// inject) and waits up to 5 s until its page is present, to read its physical address from
    /// `/proc/PID/pagemap`.
    ///
    /// - Throws: ``TargetError`` when the target has no kernel to run it or the page never appears.
    public static func start(on target: InjectionTarget, executable: String) async throws(TargetError) -> Victim {
        let started = try await target.shell(
            "(setsid \(shellQuote(executable)) victim </dev/null >/dev/null 2>&1 & echo $!)")
        guard let pid = Int(started.trimmed()), pid > 0 else {
            throw .tool(
                argv: [executable, "victim"], reason: "the victim did not start: '\(started.trimmed())'", hint: nil)
        }
        for _ in 0..<50 {
            // Bit 63: present; bits 0-54: the page frame (read as root).
            if let word = await target.procWord("/proc/\(pid)/pagemap", index: virtualAddress >> 12), word >> 63 == 1,
                word & ((1 << 55) - 1) != 0
            {
                return Victim(pid: pid, physicalAddress: (word & ((1 << 55) - 1)) << 12)
            }
            usleep(100_000)
        }
        await Victim(pid: pid, physicalAddress: 0).stop(on: target)
        throw .tool(
            argv: [executable, "victim"],
            reason:
                "its page at \(hexNumber(virtualAddress)) did not appear in /proc/\(pid)/pagemap within 5 s (is this root?)",
            hint: nil)
    }

    /// Ends the victim if it still runs (it was not killed), and only it: a pid the kernel has
    /// given to another process since is left alone.
    public func stop(on target: InjectionTarget) async {
        _ = try? await target.shell(
            "[ \"$(cat /proc/\(pid)/comm 2>/dev/null)\" = \(Self.processName) ] && kill \(pid) 2>/dev/null; true")
    }

    /// The victim process itself (`inject victim`, on the main thread, so that the kernel's kill
    /// line names the pid the host knows): maps and fills its page, then reads it every 20 ms until
    /// the kernel kills it or ``lifetimeSeconds`` pass. Returns the exit status.
    public static func serve() -> Int32 {
        // MAP_FIXED_NOREPLACE (Linux 4.17): the address or nothing.
        let fixedNoReplace: Int32 = 0x100000
        let wanted = UnsafeMutableRawPointer(bitPattern: UInt(virtualAddress))
        guard
            let page = mmap(wanted, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | fixedNoReplace, -1, 0),
            page != MAP_FAILED, page == wanted
        else { return 1 }
        // Its name, as the kernel's kill line gives it (prctl is variadic: /proc/self/comm instead).
        let comm = open("/proc/self/comm", O_WRONLY | O_CLOEXEC)
        if comm >= 0 {
            _ = write(comm, processName, processName.utf8.count)
            close(comm)
        }
        // The kernel's SIGBUS must end the process, not the Swift runtime's crash handler, and
        // leave no core file behind.
        _ = signal(SIGBUS, SIG_DFL)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        memset(page, 0x5A, 4096)
        _ = mlock(page, 4096)
        for _ in 0..<(lifetimeSeconds * 50) {
            // A read in user space (libc's, which the compiler cannot drop): on a taken page it faults.
            _ = memchr(page, 0, 4096)
            usleep(20_000)
        }
        return 0
    }
}
