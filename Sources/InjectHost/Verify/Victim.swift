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

    /// Where the victim writes what its SIGBUS carried (``SigbusReport``), in the target.
    public static func reportPath(pid: Int) -> String { "/run/\(processName)-\(pid).sigbus" }

    /// What the victim's SIGBUS carried, as its handler wrote it: the kernel's `si_code`
    /// (BUS_MCEERR_AR 4: the access hit the poisoned page; BUS_MCEERR_AO 5: early kill, the page
    /// was taken while mapped), `si_addr` and `si_addr_lsb` (the poisoned extent's low bit: 12
    /// for a page).
    public struct SigbusReport: Sendable, Equatable {
        public var code: Int
        public var address: UInt64
        public var addressLSB: Int

        /// The code's name.
        public var codeName: String {
            switch code {
            case 4: "BUS_MCEERR_AR"
            case 5: "BUS_MCEERR_AO"
            default: "si_code \(code)"
            }
        }

        /// Parses the handler's line `code C addr HEX lsb L`.
        public init?(_ text: String) {
            let words = text.split(whereSeparator: \.isWhitespace)
            guard words.count == 6, words[0] == "code", words[2] == "addr", words[4] == "lsb",
                let code = Int(words[1]), let address = UInt64(words[3], radix: 16), let lsb = Int(words[5])
            else { return nil }
            self.code = code
            self.address = address
            addressLSB = lsb
        }

        /// Whether this is the kernel's SIGBUS for a poisoned page at the victim's address.
        public var isMemoryErrorAtTheVictimsPage: Bool {
            (code == 4 || code == 5) && address >> 12 == Victim.virtualAddress >> 12 && addressLSB == 12
        }
    }

    /// The finding of `expect=sigbus` about the signal itself: the victim's report, waited for up
    /// to two seconds (it is written before the victim dies).
    public func sigbusFinding(on target: InjectionTarget) async -> Verifier.Finding {
        let path = Self.reportPath(pid: pid)
        var finding = Verifier.Finding(
            kind: .outcome, expected: "SIGBUS with BUS_MCEERR_AR or _AO at the victim's page, si_addr_lsb 12",
            matched: false)
        for _ in 0..<20 {
            let text = (try? await target.shell("cat \(path) 2>/dev/null; true", timeoutSeconds: 10)) ?? ""
            if let report = SigbusReport(text) {
                finding.matched = report.isMemoryErrorAtTheVictimsPage
                finding.evidence =
                    "\(report.codeName) (\(report.code)), si_addr \(hexNumber(report.address)), si_addr_lsb \(report.addressLSB)"
                break
            }
            usleep(100_000)
        }
        target.guest?.release()
        if finding.evidence == nil { finding.evidence = "the victim wrote no SIGBUS report to \(path)" }
        return finding
    }

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
            "[ \"$(cat /proc/\(pid)/comm 2>/dev/null)\" = \(Self.processName) ] && kill \(pid) 2>/dev/null; rm -f \(Self.reportPath(pid: pid)); true"
        )
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
        // The kernel's SIGBUS is reported (``SigbusReport``), then ends the process, not the Swift
        // runtime's crash handler, and leaves no core file behind.
        VictimSignal.prepare(reportPath: reportPath(pid: Int(getpid())))
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
