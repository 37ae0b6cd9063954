import Foundation
import InjectTestSupport
import Testing

@testable import InjectLab

/// The agent's wire format and its guest side, run here on the host: the requests the host sends
/// are answered as the guest would answer them.
@Suite struct AgentTests {
    /// The answer to one request line, split into status, output and error text.
    func answer(_ operation: AgentProtocol.Operation, _ first: String, _ second: [UInt8] = []) throws -> (
        Int32, String, String
    ) {
        let request = AgentProtocol.request(id: "7", operation, timeoutSeconds: 5, Array(first.utf8), second)
        let line = String(decoding: request.dropLast(), as: UTF8.self)
        let bytes = try #require(AgentServer.answer(line))
        let newline = try #require(bytes.firstIndex(of: UInt8(ascii: "\n")))
        let header = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ")
        #expect(header.count == 5 && header[0] == "@@inject" && header[1] == "7")
        let status = Int32(header[2])!
        let outLength = Int(header[3])!
        let errLength = Int(header[4])!
        let body = Array(bytes[(newline + 1)...])
        #expect(body.count == outLength + errLength)
        return (
            status, String(decoding: body.prefix(outLength), as: UTF8.self),
            String(decoding: body.suffix(errLength), as: UTF8.self)
        )
    }

    @Test func fileRequestsActOnThePathAndAnswerWithTheErrno() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let file = directory.appendingPathComponent("attribute").path
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        #expect(try answer(.write, file, Array("0x9c00 with spaces".utf8)).0 == 0)
        #expect(try answer(.read, file) == (0, "0x9c00 with spaces", ""))
        #expect(try answer(.exists, file).0 == 0)
        let missing = try answer(.read, directory.appendingPathComponent("missing").path)
        #expect(missing.0 == ENOENT && missing.2.contains("No such file"))
        #expect(try answer(.mkdir, directory.appendingPathComponent("instance").path).0 == 0)
        #expect(try answer(.list, directory.path).1 == "f attribute\nd instance\n")
        #expect(try answer(.rmdir, directory.appendingPathComponent("instance").path).0 == 0)
    }

    @Test func shellRequestsReturnStatusAndBothStreams() throws {
        let result = try answer(.shell, "echo out; echo err >&2; exit 3")
        #expect(result == (3, "out\n", "err\n"))
    }

    @Test func malformedRequestsGetNoAnswer() {
        #expect(AgentServer.answer("7 sh") == nil)
        #expect(AgentServer.answer("7 nope 5 - -") == nil)
        #expect(AgentServer.answer("7 read 5 !!notbase64 -") == nil)
    }

    @Test func theInitramfsIsAValidNewcArchive() {
        var archive = NewcArchive()
        archive.directory("bin")
        archive.file("bin/hello", Array("hi".utf8), mode: 0o755)
        archive.symlink("bin/sh", to: "busybox")
        let bytes = archive.finish()
        #expect(bytes.count % 4 == 0, "newc entries are padded to 4 bytes")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("070701"))
        #expect(text.contains("bin/hello") && text.contains("TRAILER!!!"))
    }
}
