/// The host's clocks, in nanoseconds.
public enum HostClock {
    /// Monotonic time (for durations).
    public static func monotonicNanoseconds() -> UInt64 { now(CLOCK_MONOTONIC) }
    /// Wall-clock time.
    public static func realtimeNanoseconds() -> UInt64 { now(CLOCK_REALTIME) }

    private static func now(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
