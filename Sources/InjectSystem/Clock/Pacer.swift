/// Paces numbered starts (injections, batches' writes) so that a rate is a ceiling: start `n` is
/// due one interval after start `n - 1` was due. A start found more than an interval behind its
/// schedule (the machine stalled, or the work is slower than the rate) restarts the schedule from
/// itself instead of catching up in a burst, which would hand the kernel many events at once (a
/// burst is what fills the MCE record pool). Starts up to one interval late keep the schedule, so
/// the average rate stays exact under ordinary jitter.
public struct Pacer: Sendable {
    /// Time from one start to the next.
    public let intervalNanoseconds: UInt64
    /// Starts found behind the schedule by more than one interval (each restarted it).
    public private(set) var late = 0
    private var origin: UInt64
    private var originNumber = 0

    /// A schedule whose start 0 is due at `start`.
    public init(intervalNanoseconds: UInt64, start: UInt64 = HostClock.monotonicNanoseconds()) {
        self.intervalNanoseconds = intervalNanoseconds
        self.origin = start
    }

    /// A schedule of `rate` starts per second from now; `nil` for a rate that is not positive.
    public init?(rate: Double) {
        guard rate > 0, rate.isFinite else { return nil }
        self.init(intervalNanoseconds: UInt64(max(1, (1e9 / rate).rounded())))
    }

    /// Waits until start `number` is due (numbers ascend); returns early when `interrupted` says so
    /// (checked at least once a second during a long wait).
    public mutating func wait(for number: Int, interrupted: () -> Bool = { false }) {
        guard intervalNanoseconds > 0 else { return }
        let due = origin + UInt64(max(0, number - originNumber)) * intervalNanoseconds
        var now = HostClock.monotonicNanoseconds()
        if now > due {
            if now - due > intervalNanoseconds {
                late += 1
                origin = now
                originNumber = number
            }
            return
        }
        while now < due, !interrupted() {
            usleep(UInt32(min((due - now) / 1000, 1_000_000)))
            now = HostClock.monotonicNanoseconds()
        }
    }
}
