/// A kernel panic of a target's guest, as the machine that runs it saw it: the evidence an
/// `expect=panic` request is checked against, and the reason a guest is restarted.
public struct GuestPanic: Sendable, Equatable {
    /// The kernel's panic line from "Kernel panic" on ("Kernel panic - not syncing: Fatal machine
    /// check"), or what is known instead when the console has none.
    public var message: String
    /// How it was noticed ("pvpanic: QEMU status guest-panicked", "QEMU exited").
    public var noticedBy: String
    /// The console's last lines up to and including the panic line (hardware-error lines, the
    /// stack), kept as evidence.
    public var console: String

    /// Creates a report.
    public init(message: String, noticedBy: String, console: String) {
        self.message = message
        self.noticedBy = noticedBy
        self.console = console
    }

    /// The text the kernel starts its panic line with.
    public static let marker = "Kernel panic - not syncing"

    /// The last panic in a serial console's `text`, with up to `context` lines before it (6.1 prints its
    /// machine-check record 57 lines before the panic line, a stack trace between); `nil`
    /// when the console holds none.
    public init?(console text: String, noticedBy: String, context: Int = 150) {
        // A serial console ends its lines with CR LF, one Character in Swift.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let index = lines.lastIndex(where: { $0.contains(Self.marker) }) else { return nil }
        let line = lines[index]
        let start = line.firstRange(of: Self.marker)!.lowerBound
        self.init(
            message: String(line[start...]).trimmed(), noticedBy: noticedBy,
            console: lines[max(0, index - context)...index].joined(separator: "\n"))
    }
}

extension GuestConnection {
    /// No panic known: a guest whose provider cannot tell.
    public func panic() -> GuestPanic? { nil }

    /// A guest whose provider cannot restart it.
    public func restart() async throws(TargetError) -> Double {
        throw .guest(name: name, reason: "this guest cannot be restarted from here; restart it by hand")
    }
}

extension InjectionTarget {
    /// Whether this target can say that its kernel panicked: a guest, or a QEMU monitor.
    public var reportsPanics: Bool { guest != nil || qmpSocket != nil }

    /// The kernel panic the target has stopped on: its guest's report, or for a bare QEMU monitor
    /// its status `guest-panicked` (a pvpanic device and `-action panic=pause`); `nil` otherwise.
    public func panic() -> GuestPanic? {
        if let guest { return guest.panic() }
        guard let qmpSocket, QMPClient.runState(socketPath: qmpSocket) == "guest-panicked" else { return nil }
        return GuestPanic(message: "the guest panicked", noticedBy: "QMP query-status: guest-panicked", console: "")
    }
}
