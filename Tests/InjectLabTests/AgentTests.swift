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

    /// A process in the guest that took the agent's port and answers each request with `lie`
    /// (given the request's ID): the host must end the request with a reason, not trap or read
    /// without bound (issue 39, item 13).
    @Test(arguments: ["negative", "endless", "huge"])
    func aLyingAgentEndsTheRequestWithAReason(_ lie: String) throws {
        let paths = try LabPaths(name: "liar-\(getpid())-\(lie)", environment: [:])
        try FileManager.default.createDirectory(
            atPath: paths.stateDirectory.string, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        defer { TestSupport.remove(URL(fileURLWithPath: paths.stateDirectory.string)) }
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(paths.agentSocket.string.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0 && listen(server, 1) == 0)
        let thread = Thread {
            let client = accept(server, nil, nil)
            defer {
                close(client)
                close(server)
            }
            var request = [UInt8](repeating: 0, count: 4096)
            let count = read(client, &request, request.count)
            let id = String(decoding: request.prefix(max(count, 0)), as: UTF8.self).split(separator: " ").first ?? "0"
            func send(_ bytes: [UInt8]) -> Bool {
                bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
            }
            switch lie {
            case "negative": _ = send(Array("@@inject \(id) 0 -5 0\n".utf8))
            case "huge": _ = send(Array("@@inject \(id) 0 99999999999 0\n".utf8))
            default:  // a line without end: 32 MB unless the host stops reading
                let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 16)
                for _ in 0..<512 where send(chunk) {}
            }
        }
        thread.start()
        let agent = try AgentClient(paths)
        let started = Date()
        #expect {
            _ = try agent.run("true", timeoutSeconds: 5)
        } throws: { error in
            let text = "\(error)"
            return text.contains("announced") || text.contains("longer than 65536 bytes")
        }
        #expect(Date().timeIntervalSince(started) < 20)
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
