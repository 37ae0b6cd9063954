import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// `--verify` reads rasdaemon's database while rasdaemon writes it, and rasdaemon sets no busy
/// timeout: a reader holding the shared lock at its commit loses the row (SQLITE_BUSY). The
/// verifier's read takes no lock at all.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs the sqlite3 command"))
struct RasdaemonReadTests {
    /// Runs `script` with /bin/sh; its standard output and status.
    private func shell(_ script: String) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    /// While another connection holds the database's exclusive lock (as rasdaemon's commit does),
    /// a plain read fails with "database is locked" and the verifier's read still returns the rows:
    /// it asked for no lock, so it never holds one a writer would wait for.
    @Test func theVerifiersReadTakesNoLock() throws {
        let directory = try TestSupport.temporaryDirectory("rasdaemon-read")
        defer { TestSupport.remove(directory) }
        let file = directory.appendingPathComponent("ras-mc_event.db").path
        #expect(
            try shell(
                "sqlite3 \(file) 'create table mce_record (id integer primary key, addr integer); insert into mce_record (addr) values (94740544)'"
            ).status == 0)
        // The writer takes the exclusive lock and keeps it until its standard input closes.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        writer.arguments = [file]
        let input = Pipe()
        let output = Pipe()
        writer.standardInput = input
        writer.standardOutput = output
        try writer.run()
        defer {
            try? input.fileHandleForWriting.close()
            writer.waitUntilExit()
        }
        input.fileHandleForWriting.write(
            Data("begin exclusive;\ninsert into mce_record (addr) values (1);\nselect 'locked';\n".utf8))
        var ready = Data()
        while !String(decoding: ready, as: UTF8.self).contains("locked") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            ready.append(chunk)
        }
        #expect(String(decoding: ready, as: UTF8.self).contains("locked"))

        let plain = try shell("sqlite3 \(file) 'select count(*) from mce_record' 2>&1")
        #expect(plain.status != 0 && plain.output.contains("locked"), "\(plain)")
        let verifier = try shell(RasdaemonConsumer.query("select count(*) from mce_record", file: file))
        #expect(verifier.status == 0 && verifier.output == "1\n", "\(verifier)")
    }

    /// A missing row's reason from rasdaemon's own log: the event it could not parse (bookworm's
    /// 0.8.1 on 7.3's cxl_dram, the line as measured), a lost insert, or nothing known.
    @Test func aMissingRowsReasonComesFromRasdaemonsLog() {
        let log = """
            rasdaemon: Recording cxl_dram_event events
                       <...>-349   [000] .....     0.000018 cxl_dram [FAILED TO PARSE] memdev=mem0 host=0000:0d:00.0 log=0
            rasdaemon: mce_record store: 0x5585aa02b8e8
            rasdaemon: Failed to do mce_record step on sqlite: error = 5
            """
        let parse = RasdaemonConsumer.missingReason(log: log, event: "cxl_dram", table: "cxl_dram_event")
        #expect(parse?.contains("could not parse this kernel's cxl_dram event") == true, "\(parse ?? "nil")")
        let busy = RasdaemonConsumer.missingReason(log: log, event: "mce_record", table: "mce_record")
        #expect(busy?.contains("locked by a reader") == true, "\(busy ?? "nil")")
        #expect(
            RasdaemonConsumer.missingReason(log: log, event: "cxl_general_media", table: "cxl_general_media_event")
                == nil)
    }

    /// A database that does not exist yet (rasdaemon has not created it) is not created by a read.
    @Test func aMissingDatabaseIsNotCreated() throws {
        let directory = try TestSupport.temporaryDirectory("rasdaemon-read")
        defer { TestSupport.remove(directory) }
        let file = directory.appendingPathComponent("ras-mc_event.db").path
        let read = try shell(RasdaemonConsumer.query("select 1", file: file) + " 2>&1")
        #expect(read.status != 0, "\(read)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }
}
