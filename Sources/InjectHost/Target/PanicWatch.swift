/// Where a target's kernel panics are asked about, waited for and recovered from: the verifier
/// asks through it while it waits for events, and the ``Injector`` waits for a declared panic,
/// restarts the guest after one, and brings back a guest an earlier injection left stopped.
public struct PanicWatch: Sendable {
    /// The target watched.
    public let target: InjectionTarget

    /// Watches `target`.
    public init(_ target: InjectionTarget) { self.target = target }

    /// Whether the target can say that its kernel panicked (a guest, or a QEMU monitor).
    public var canTell: Bool { target.reportsPanics }

    /// The panic the target has stopped on; `nil` while it runs or when it cannot tell.
    public func check() -> GuestPanic? { canTell ? target.panic() : nil }

    /// Waits up to `seconds` for the kernel to panic, asking every 100 ms.
    public func awaitPanic(seconds: Double) -> GuestPanic? {
        guard canTell else { return nil }
        let deadline = HostClock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        repeat {
            if let panic = target.panic() { return panic }
            usleep(100_000)
        } while HostClock.monotonicNanoseconds() < deadline
        return target.panic()
    }

    /// Boots the guest again after a panic; the seconds it took, or `nil` for a target without a
    /// guest to restart.
    public func restart() async throws(TargetError) -> Double? {
        guard let guest = target.guest else { return nil }
        return try await guest.restart()
    }

    /// Restarts a guest that an earlier injection left stopped on a panic (one without `--verify`
    /// or `expect=` leaves it to the next); what happened, for people, or `nil` when it was running.
    public func recoverEarlierPanic() async throws(TargetError) -> String? {
        guard let guest = target.guest, let panic = guest.panic() else { return nil }
        let seconds = try await guest.restart()
        return
            "\(guest.name) had stopped on a kernel panic (\(panic.message)); restarted it in \((seconds * 10).rounded() / 10) s"
    }
}
