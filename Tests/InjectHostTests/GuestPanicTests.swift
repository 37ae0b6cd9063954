import Testing

@testable import InjectHost

/// The panic line and its context, read from a serial console as the lab keeps it.
@Suite("guest panics")
struct GuestPanicTests {
    @Test func theLastPanicLineIsFoundInACRLFConsole() throws {
        let console =
            "[    1.0] booting\r\n[   42.1] mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 1: b20000000000009f\r\n"
            + "[   42.2] Kernel panic - not syncing: Fatal local machine check\r\n[   42.3] Kernel Offset: 0x11400000\r\n"
        let panic = try #require(GuestPanic(console: console, noticedBy: "test", context: 1))
        // The line alone, not the line after it (CR LF is one Character in Swift).
        #expect(panic.message == "Kernel panic - not syncing: Fatal local machine check")
        #expect(
            panic.console.contains("Bank 1: b20000000000009f") && !panic.console.contains("booting"),
            "one line of context: \(panic.console)")
        #expect(GuestPanic(console: "[ 1.0] all well\n", noticedBy: "test") == nil)
    }

    @Test func aPanicsStoredRecordIsKnownByTheTimeStampOfItsConsoleLine() throws {
        let console = "[   25.1] mce: Bank 1\r\n[   25.823526] Kernel panic - not syncing: Fatal machine check\r\n"
        let panic = try #require(GuestPanic(console: console, noticedBy: "test"))
        #expect(PersistentPanicRecord.stamp(of: panic) == "[   25.823526]")
        // The record of an earlier panic carries another stamp.
        #expect(
            "<0>[    4.925270] Kernel panic - not syncing: Fatal machine check".contains(
                PersistentPanicRecord.stamp(of: panic) ?? "-") == false)
        let bare = GuestPanic(message: "the guest panicked", noticedBy: "QMP", console: "")
        #expect(PersistentPanicRecord.stamp(of: bare) == nil)
    }

    @Test func anOutcomeJudgesThePanicAndItsText() throws {
        let panic = GuestPanic(
            message: "Kernel panic - not syncing: Fatal machine check", noticedBy: "test", console: "")
        #expect(try ExpectedOutcome(parsing: "panic", backend: "mce").judges(panic))
        #expect(
            try ExpectedOutcome(parsing: "panic:fatal MACHINE check", backend: "mce").judges(panic),
            "the text is matched without case")
        #expect(try !ExpectedOutcome(parsing: "panic:sysrq", backend: "mce").judges(panic))
        #expect(try !ExpectedOutcome(parsing: "panic", backend: "mce").judges(nil))
        #expect(try ExpectedOutcome(parsing: "logged", backend: "mce").judges(nil))
        #expect(try !ExpectedOutcome(parsing: "recovered", backend: "mce").judges(panic))
    }
}
