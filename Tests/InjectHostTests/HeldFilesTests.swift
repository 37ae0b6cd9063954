import Foundation
import Testing
import InjectTestSupport
import SystemPackage
@testable import InjectHost

/// Storms keep their attribute files open; where a target cannot, every write opens the file.
/// Both must leave the target exactly as the other does.
@Suite("held-open storm writes")
struct HeldFilesTests {
    /// The same files, but nothing can be held open: every write opens, writes and closes.
    struct OpenEveryTime: TargetFiles {
        let inner: AttributeFiles
        func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError) { try inner.write(value, to: path, hint: hint) }
        func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError) { try inner.writeDevice(bytes, to: path, hint: hint) }
        func read(_ path: TargetPath) throws(TargetError) -> [UInt8] { try inner.read(path) }
        func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)] { try inner.list(path) }
        func exists(_ path: String) -> Bool { inner.exists(path) }
        func makeDirectory(_ path: TargetPath) throws(TargetError) { try inner.makeDirectory(path) }
        func removeDirectory(_ path: TargetPath) throws(TargetError) { try inner.removeDirectory(path) }
    }

    static let mceFiles = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].map { "sys/kernel/debug/mce-inject/\($0)" }

    func storm(held: Bool) async throws -> [String: String] {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: Self.mceFiles)
        // A longer value first, so that a shorter one written over it shows the offset-0 rewrite.
        try "0xffffffffffffffffff".write(toFile: root.path + "/sys/kernel/debug/mce-inject/addr", atomically: true, encoding: .utf8)
        var options = InjectSession.Options(environment: [:])
        options.executableDirectory = TestSupport.productsDirectory.path
        options.target = TargetSpec(root: .init(root.path))
        let session = try InjectSession(options)
        let plan = try session.plan(InjectionRequest("mce", ["count": 500, "addr": "0x5000", "bank": 2]))
        let attributes = AttributeFiles(root: FilePath(root.path))
        let files: any TargetFiles = held ? attributes : OpenEveryTime(inner: attributes)
        let results = try await Executor(target: options.target, files: files).run(plan, confirmed: false)
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

    @Test func aFileThatRefusesPositionalWritesFallsBack() throws {
        // A pipe refuses pwrite (ESPIPE): the held file says so instead of failing.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let file = HeldAttribute(path: "pipe", fd: fds[1], hint: nil)
        #expect(try file.write("1") == false)
    }
}
