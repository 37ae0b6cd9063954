import Foundation
import InjectSystem
import InjectTestSupport
import Testing

/// The socket under the QMP client and the lab agent, against a peer that goes away or lies
/// (issue 39, items 12 and 13).
@Suite struct UnixSocketTests {
    /// A listening socket at a fresh path, and the path.
    func listener() throws -> (Int32, String, URL) {
        let directory = try TestSupport.temporaryDirectory()
        let path = directory.appendingPathComponent("peer.sock").path
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0 && listen(server, 1) == 0)
        return (server, path, directory)
    }

    @Test func aPeerThatIsGoneIsAFailureNotASignal() throws {
        let (server, path, directory) = try listener()
        defer { TestSupport.remove(directory) }
        let socket = try UnixSocket(connectingTo: path, timeoutSeconds: 1)
        close(accept(server, nil, nil))  // QEMU killed: the other end is closed
        close(server)
        // Without MSG_NOSIGNAL the second write raises SIGPIPE and ends this test process.
        var failure: UnixSocket.Failure?
        for _ in 0..<3 {
            do { try socket.send(Array("{\"execute\": \"stop\"}\n".utf8)) } catch {
                failure = error
                break
            }
        }
        #expect(failure == .closed)
    }

    @Test func linesAndAnnouncedLengthsAreBounded() throws {
        let (server, path, directory) = try listener()
        defer { TestSupport.remove(directory) }
        let socket = try UnixSocket(connectingTo: path, timeoutSeconds: 1)
        let peer = accept(server, nil, nil)
        defer {
            close(peer)
            close(server)
        }
        let endless = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        _ = endless.withUnsafeBytes { send(peer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #expect(throws: UnixSocket.Failure.other("the other side sent a line longer than 65536 bytes")) {
            _ = try socket.readLine()
        }
        #expect(throws: UnixSocket.Failure.self) { _ = try socket.readExactly(-5) }
        #expect(throws: UnixSocket.Failure.self) { _ = try socket.readExactly(1 << 40) }
    }
}
