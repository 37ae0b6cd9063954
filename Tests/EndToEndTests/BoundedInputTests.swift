import Foundation
import InjectTestSupport
import Testing

/// Files a user names, read the careless way (issue 39, items 14, 16 and 17): FIFOs are refused
/// rather than waited on, endless or huge files are refused rather than read, and a file name
/// cannot forge the framing that carries files to a plugin.
@Suite("bounded input")
struct BoundedInputTests {
    /// A tree with mce-inject's files, `status` a FIFO when `fifo` is set.
    func tree(fifoStatus: Bool = false) throws -> URL {
        let root = try TestSupport.temporaryDirectory("inject-bounded")
        let names = ["flags", "cpu", "status", "misc", "addr", "synd", "ipid", "bank"].filter {
            !fifoStatus || $0 != "status"
        }
        try TestSupport.makeTree(root, files: names.map { "sys/kernel/debug/mce-inject/\($0)" })
        if fifoStatus { #expect(mkfifo(root.path + "/sys/kernel/debug/mce-inject/status", 0o600) == 0) }
        return root
    }

    @Test func aFIFOWhereAFileBelongsIsRefusedNotWaitedOn() throws {
        let root = try tree(fifoStatus: true)
        defer { TestSupport.remove(root) }
        let fifo = root.appendingPathComponent("named.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let cases: [(arguments: [String], environment: [String: String])] = [
            (["run", "mce", "cpu=0", "bank=1", "--yes", "--root", root.path], [:]),
            (["run", "mce", "cpu=0", "bank=1", "--dry-run", "--config", fifo, "--root", root.path], [:]),
            (["decode", "cper", "--file", fifo], [:]),
            (["campaign", fifo, "--root", root.path], [:]),
            (["journal", "--journal", fifo], [:]),
            (["run", "aer", "file=\(fifo)", "--dry-run", "--root", root.path], [:]),
        ]
        for entry in cases {
            let result = try TestSupport.inject(entry.arguments, environment: entry.environment, timeLimit: 20)
            #expect(result.status != 137, "\(entry.arguments): hung on the FIFO")
            #expect(result.status != 0, "\(entry.arguments): \(result.stdout)")
            #expect(result.stderr.contains("FIFO"), "\(entry.arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 2, "\(entry.arguments): \(result.stderr)")
        }
    }

    @Test func endlessAndHugeFilesAreRefusedNamingTheLimit() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        let huge = root.appendingPathComponent("huge.json")
        // 2 MiB of valid JSON: bigger than a configuration file may be.
        try Data(("{\"x\":\"" + String(repeating: "a", count: 2 << 20) + "\"}").utf8).write(to: huge)
        let cases: [(arguments: [String], words: [String])] = [
            (
                ["run", "mce", "cpu=0", "bank=1", "--dry-run", "--config", "/dev/zero", "--root", root.path],
                ["/dev/zero", "character device"]
            ),
            (["decode", "cper", "--file", "/dev/zero"], ["/dev/zero", "character device"]),
            (
                ["run", "mce", "cpu=0", "bank=1", "--dry-run", "--config", huge.path, "--root", root.path],
                ["larger than 1 MiB"]
            ),
            (["campaign", "/dev/zero", "--root", root.path], ["character device"]),
        ]
        for entry in cases {
            let started = Date()
            let result = try TestSupport.inject(entry.arguments, timeLimit: 30)
            #expect(result.status != 137 && result.status != 0, "\(entry.arguments): \(result.status)")
            #expect(entry.words.allSatisfy { result.stderr.contains($0) }, "\(entry.arguments): \(result.stderr)")
            #expect(Date().timeIntervalSince(started) < 10, "\(entry.arguments): refused quickly")
        }
    }

    @Test func aNewlineInAFileNameCannotForgeARecord() throws {
        let root = try tree()
        defer { TestSupport.remove(root) }
        // A file whose name holds a newline and an mce-inject record's start: the name would
        // otherwise become a line of the byte string the plugin parses.
        let name = root.appendingPathComponent("x\nCPU 3 BANK 9").path
        try Data("CPU 0 BANK 1\nSTATUS 0x9c00000000000000\n".utf8).write(to: URL(fileURLWithPath: name))
        let result = try TestSupport.inject(["run", "mce", "file=\(name)", "--dry-run", "--root", root.path])
        #expect(result.status == 64, "\(result.status) \(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("cannot be passed to a plugin"), "\(result.stderr)")
        #expect(!result.stdout.contains("bank = \"9\""), "\(result.stdout)")
    }
}
