import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectHost

/// Storms keep their attribute files open; where a target cannot, every write opens the file.
/// Both must leave the target exactly as the other does.
@Suite("held-open storm writes")
struct HeldFilesTests {
    /// The same files, but nothing can be held open: every write opens, writes and closes.
    struct OpenEveryTime: TargetFiles {
        let inner: AttributeFiles
        /// Called before each write (a test times the writes and stalls one of them here).
        var beforeWrite: @Sendable () -> Void = {}
        func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError) {
            beforeWrite()
            try inner.write(value, to: path, hint: hint)
        }
        func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError) {
            try inner.writeDevice(bytes, to: path, hint: hint)
        }
        func read(_ path: TargetPath) throws(TargetError) -> [UInt8] { try inner.read(path) }
        func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)] {
            try inner.list(path)
        }
        func exists(_ path: String) -> Bool { inner.exists(path) }
        func makeDirectory(_ path: TargetPath) throws(TargetError) { try inner.makeDirectory(path) }
        func removeDirectory(_ path: TargetPath) throws(TargetError) { try inner.removeDirectory(path) }
    }

    static let mceFiles = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].map {
        "sys/kernel/debug/mce-inject/\($0)"
    }

    func storm(held: Bool) async throws -> [String: String] {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        // A longer value first, so that a shorter one written over it shows the offset-0 rewrite.
        try "0xffffffffffffffffff".write(
            toFile: root.path + "/sys/kernel/debug/mce-inject/addr", atomically: true, encoding: .utf8)
        var options = InjectSession.Options(environment: [:])
        options.executableDirectory = TestSupport.productsDirectory.path
        options.target = InjectionTarget(root: .init(root.path))
        let session = try InjectSession(options)
        let plan = try session.plan(InjectionRequest("mce", ["count": 500, "addr": "0x5000", "bank": 2]))
        let attributes = AttributeFiles(root: FilePath(root.path))
        let files: any TargetFiles = held ? attributes : OpenEveryTime(inner: attributes)
        let results = try await Executor(target: options.target, files: files).execute(plan)
        #expect(results.last?.output == "1494 step(s) run")
        return Dictionary(uniqueKeysWithValues: Self.mceFiles.map { ($0, TestSupport.read(root, $0) ?? "missing") })
    }

    @Test func heldAndReopenedWritesLeaveIdenticalFiles() async throws {
        let held = try await storm(held: true)
        let reopened = try await storm(held: false)
        #expect(held == reopened)
        #expect(held["sys/kernel/debug/mce-inject/bank"] == "2")
        #expect(held["sys/kernel/debug/mce-inject/addr"]?.hasPrefix("0x5000") == true)
    }

    @Test func aNonSeekableFileTakesPlainWrites() throws {
        // A pipe refuses pwrite (ESPIPE), as 6.12's debugfs attributes do: it has no position to
        // reset, so the held file writes it plainly from then on.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let file = HeldAttribute(path: "pipe", fd: fds[1], hint: nil)
        #expect(try file.write("1") == true && file.positionless)
        #expect(try file.write("23") == true)
        var buffer = [UInt8](repeating: 0, count: 8)
        let count = read(fds[0], &buffer, 8)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "123")
    }

    func session(_ root: URL) throws -> InjectSession {
        var options = InjectSession.Options(environment: [:])
        options.executableDirectory = TestSupport.productsDirectory.path
        options.target = InjectionTarget(root: .init(root.path))
        return try InjectSession(options)
    }

    /// A campaign batch (every file held, written in order per injection) leaves the target as the
    /// same injections written one file open at a time leave it.
    @Test func aBatchLeavesWhatSingleWritesLeave() throws {
        func run(held: Bool) throws -> ([String: String], WriteBatch.Outcome) {
            let root = try TestSupport.temporaryDirectory()
            defer { TestSupport.remove(root) }
            try TestSupport.makeTree(root, files: Self.mceFiles)
            try "0xffffffffffffffffff".write(
                toFile: root.path + "/sys/kernel/debug/mce-inject/addr", atomically: true, encoding: .utf8)
            let session = try session(root)
            let plans = try [0x5000, 0x6000, 0x7000].map {
                try session.plan(InjectionRequest("mce", ["addr": .number(UInt64($0)), "bank": 2]))
            }
            let batch = try #require(WriteBatch(plans, intervalMicroseconds: 0))
            let attributes = AttributeFiles(root: FilePath(root.path))
            let outcome = held ? try attributes.perform(batch) : batch.perform(on: OpenEveryTime(inner: attributes))
            return (
                Dictionary(uniqueKeysWithValues: Self.mceFiles.map { ($0, TestSupport.read(root, $0) ?? "missing") }),
                outcome
            )
        }
        let (heldFiles, held) = try run(held: true)
        let (reopenedFiles, reopened) = try run(held: false)
        #expect(heldFiles == reopenedFiles)
        #expect(
            heldFiles["sys/kernel/debug/mce-inject/addr"]?.hasPrefix("0x7000") == true
                && heldFiles["sys/kernel/debug/mce-inject/bank"] == "2")
        #expect(held.completed == 3 && held.failure == nil && held.heldFiles == 7, "\(held)")
        #expect(reopened.completed == 3 && reopened.heldFiles == 0)
    }

    /// The agent's compact form carries any value (spaces, newlines, percent signs) and refuses a
    /// malformed batch; a missing file stops the batch at its injection, named.
    @Test func batchesTravelCompactlyAndStopAtTheFirstFailure() throws {
        let batch = WriteBatch(
            paths: ["sys/a", "sys/b c"],
            injections: [
                [.init(path: 0, value: "sw\n"), .init(path: 1, value: "1 %2")],
                [.init(path: 0, value: "sw\n"), .init(path: 1, value: "3")],
            ],
            intervalMicroseconds: 250)
        #expect(WriteBatch(encoded: batch.encoded) == batch)
        let text = String(decoding: batch.encoded, as: UTF8.self)
        #expect(text.components(separatedBy: "\nw ").count == 4, "each distinct write once: \(text)")
        #expect(WriteBatch(encoded: Array("inject-batch 1 0\ni 7\n".utf8)) == nil)
        #expect(WriteBatch(encoded: Array("something else\n".utf8)) == nil)

        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/a"])
        let outcome = try AttributeFiles(root: FilePath(root.path)).perform(batch)
        #expect(
            outcome.completed == 0 && outcome.failure?.contains("injection 1: sys/b c") == true
                && outcome.errno == ENOENT, "\(outcome)")
        #expect(TestSupport.read(root, "sys/a") == "sw\n", "the writes before the failing one were made")
    }

    /// The start time of each write, one of which stalls the way a guest does when its host is busy.
    final class WriteClock: @unchecked Sendable {
        let stallAt: Int
        let stallMicroseconds: UInt32
        private(set) var starts: [UInt64] = []
        init(stallAt: Int, stallMicroseconds: UInt32) {
            self.stallAt = stallAt
            self.stallMicroseconds = stallMicroseconds
        }
        func tick() {
            starts.append(HostClock.monotonicNanoseconds())
            if starts.count == stallAt { usleep(stallMicroseconds) }
        }
    }

    /// A paced batch never catches up in a burst: after a stall (here 200 ms, twenty intervals)
    /// its schedule restarts, so no window of three intervals holds more than five injections
    /// (the schedule's own bound: each injection due an interval after the one before, and
    /// started at most one interval late). Catching up would start about twenty at once, which
    /// is what filled the guest kernel's MCE record pool.
    @Test func aStalledBatchDoesNotCatchUpInABurst() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/a"])
        let clock = WriteClock(stallAt: 5, stallMicroseconds: 200_000)
        let files = OpenEveryTime(inner: AttributeFiles(root: FilePath(root.path)), beforeWrite: { clock.tick() })
        let batch = WriteBatch(
            paths: ["sys/a"], injections: (0..<30).map { [.init(path: 0, value: "\($0)")] },
            intervalMicroseconds: 10_000)
        let outcome = batch.perform(on: files)
        #expect(outcome.completed == 30 && outcome.failure == nil && outcome.heldFiles == 0, "\(outcome)")
        #expect(outcome.late >= 1, "the stall made an injection late: \(outcome)")
        let starts = clock.starts
        #expect(starts.count == 30)
        let window: UInt64 = 3 * 10_000_000
        let busiest =
            starts.indices.map { first in starts[first...].prefix { $0 - starts[first] < window }.count }.max() ?? 0
        #expect(
            busiest <= 5,
            "injections in the busiest 30 ms window: \(busiest), starts \(starts.map { ($0 - starts[0]) / 1_000_000 }) ms"
        )
        #expect(TestSupport.read(root, "sys/a") == "29")
    }

    /// A batch's journal records go in one write: all of them readable, in order.
    @Test func aBatchOfJournalRecordsIsWrittenWhole() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        let journal = try Journal(path: root.path + "/journal.jsonl")
        let records = (0..<3).map {
            JournalRecord(
                kind: .intent, id: "id-\($0)", time: Journal.now(), user: "u", target: "t", backend: "mce",
                parameters: ["n=\($0)"])
        }
        #expect(journal.append(contentsOf: records) == nil)
        #expect(try Journal.read(root.path + "/journal.jsonl").records.map(\.id) == ["id-0", "id-1", "id-2"])
    }
}
