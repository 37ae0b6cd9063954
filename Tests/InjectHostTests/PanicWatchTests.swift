import Synchronization
import Testing

@testable import InjectHost

/// A guest whose panic and restart the test sets: what the host sees of a lab.
private final class ScriptedGuest: GuestConnection, @unchecked Sendable {
    let state = Mutex<(panic: GuestPanic?, restarts: Int, failRestart: Bool)>((nil, 0, false))
    var name: String { "scripted guest" }
    func files() throws(TargetError) -> any TargetFiles { AttributeFiles(root: "/nonexistent") }
    func shell(_ command: String, timeoutSeconds: Int) throws(TargetError) -> ShellResult {
        ShellResult(status: 0, output: [], errorOutput: [])
    }
    func release() {}
    func panic() -> GuestPanic? { state.withLock { $0.panic } }
    func restart() async throws(TargetError) -> Double {
        let fail = state.withLock { state in
            if !state.failRestart {
                state.panic = nil
                state.restarts += 1
            }
            return state.failRestart
        }
        if fail { throw .guest(name: name, reason: "QEMU exited during boot") }
        return 1.25
    }
}

/// Panics are asked about, waited for and recovered from in one place.
@Suite struct PanicWatchTests {
    let panic = GuestPanic(message: "Kernel panic - not syncing: Fatal machine check", noticedBy: "test", console: "")

    @Test func aTreeCannotTellAndIsNeverAskedOrRestarted() async throws {
        let watch = PanicWatch(InjectionTarget(root: "/tmp/tree"))
        #expect(!watch.canTell && watch.check() == nil && watch.awaitPanic(seconds: 5) == nil)
        #expect(try await watch.restart() == nil)
        #expect(try await watch.recoverEarlierPanic() == nil)
    }

    @Test func aGuestsPanicIsSeenAndItsRestartCounted() async throws {
        let guest = ScriptedGuest()
        let watch = PanicWatch(InjectionTarget(guest: guest))
        #expect(watch.canTell && watch.check() == nil)
        #expect(try await watch.recoverEarlierPanic() == nil, "a running guest is left alone")
        guest.state.withLock { $0.panic = panic }
        #expect(watch.check() == panic && watch.awaitPanic(seconds: 0.1) == panic)
        let said = try await watch.recoverEarlierPanic()
        #expect(said == "scripted guest had stopped on a kernel panic (\(panic.message)); restarted it in 1.3 s")
        #expect(guest.state.withLock { $0.restarts } == 1 && watch.check() == nil)
    }

    @Test func waitingForAPanicEndsAtTheDeadline() {
        let watch = PanicWatch(InjectionTarget(guest: ScriptedGuest()))
        let started = HostClock.monotonicNanoseconds()
        #expect(watch.awaitPanic(seconds: 0.3) == nil)
        let waited = Double(HostClock.monotonicNanoseconds() - started) / 1e9
        #expect(waited >= 0.3 && waited < 3, "waited \(waited) s")
    }

    @Test func aRestartThatFailsIsTheTargetsError() async {
        let guest = ScriptedGuest()
        guest.state.withLock { $0 = (panic, 0, true) }
        await #expect(throws: TargetError.guest(name: "scripted guest", reason: "QEMU exited during boot")) {
            _ = try await PanicWatch(InjectionTarget(guest: guest)).recoverEarlierPanic()
        }
    }
}
