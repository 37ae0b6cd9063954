/// The platform's own record of a panic: after a guest that panicked is back, its pstore (the
/// kernel's persistent store, backed by the platform's ERST or UEFI variables) is looked at for
/// the kernel log the dying kernel saved there, as an SRE finds it on a server after a crash.
enum PersistentPanicRecord {
    /// The finding for `panic`, or `nil` when the kernel has no persistent store backend (nothing
    /// can have been kept) or cannot be asked.
    static func finding(_ target: InjectionTarget, panic: GuestPanic, since: UInt64) async -> Verifier.Finding? {
        defer { target.guest?.release() }
        let script = """
            backend=$(cat /sys/module/pstore/parameters/backend 2>/dev/null)
            case "$backend" in ""|"(null)") echo "backend none"; exit 0;; esac
            echo "backend $backend"
            grep -q ' /sys/fs/pstore pstore ' /proc/mounts || mount -t pstore pstore /sys/fs/pstore 2>/dev/null \
                || busybox mount -t pstore pstore /sys/fs/pstore
            for file in /sys/fs/pstore/*; do [ -e "$file" ] && echo "file ${file##*/}"; done
            for file in /sys/fs/pstore/dmesg-*; do [ -e "$file" ] && grep -m1 'Kernel panic' "$file" | sed "s|^|line ${file##*/} |"; done
            exit 0
            """
        guard let output = try? await target.shell(script, timeoutSeconds: 20) else { return nil }
        let lines = output.split(separator: "\n").map(String.init)
        guard let backend = lines.first(where: { $0.hasPrefix("backend ") })?.dropFirst(8), backend != "none" else {
            return nil
        }
        let files = lines.filter { $0.hasPrefix("file ") }.map { String($0.dropFirst(5)) }
        let panicLines = lines.filter { $0.hasPrefix("line ") }.map { String($0.dropFirst(5)) }
        var finding = Verifier.Finding(
            kind: .stored, expected: "pstore (\(backend)) record of the panic", matched: false)
        let wanted = panic.message.split(separator: ":").first.map(String.init) ?? panic.message
        // The store keeps earlier panics' records too: this panic's carries the kernel time stamp
        // its console line had; without one, the newest record with the line.
        let stamped = Self.stamp(of: panic).map { stamp in panicLines.last { $0.contains(stamp) } }
        if let line = stamped ?? panicLines.last(where: { $0.contains(wanted) }) {
            finding.matched = true
            finding.latencyMilliseconds = Int((HostClock.monotonicNanoseconds() - since) / 1_000_000)
            finding.evidence =
                PrintableText.escaped(line, limit: 300) + " (\(files.count) record(s): \(files.joined(separator: " ")))"
        } else {
            finding.evidence =
                files.isEmpty
                ? "the restarted kernel's pstore (backend \(backend)) holds no record"
                : "no kernel log record of this panic (\(Self.stamp(of: panic) ?? wanted)) among \(files.joined(separator: " "))"
        }
        return finding
    }

    /// The kernel's time stamp on the console's panic line (`[    4.925270]`), or `nil`.
    static func stamp(of panic: GuestPanic) -> String? {
        guard
            let line = panic.console.split(whereSeparator: \.isNewline).last(where: { $0.contains(GuestPanic.marker) }),
            let marker = line.firstRange(of: GuestPanic.marker),
            let open = line[..<marker.lowerBound].lastIndex(of: "["),
            let close = line[open..<marker.lowerBound].firstIndex(of: "]")
        else { return nil }
        return String(line[open...close])
    }
}
