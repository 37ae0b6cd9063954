import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// The QMP client against a real QEMU (`-machine none`: no guest, starts in milliseconds).
@Suite("QMP client against real QEMU")
struct QMPClientTests {
    static let qemu = "/usr/bin/qemu-system-x86_64"

    /// Starts QEMU with a QMP socket and returns it with the socket path, or `nil` (with the reason
    /// printed) when QEMU is not installed.
    func startQEMU(_ directory: URL) throws -> (Process, String)? {
        guard FileManager.default.isExecutableFile(atPath: Self.qemu) else {
            print("skipping: \(Self.qemu) is not installed (apt-get install qemu-system-x86)")
            return nil
        }
        let socket = directory.appendingPathComponent("qmp.sock").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.qemu)
        process.arguments = [
            "-machine", "none", "-display", "none", "-nodefaults", "-qmp", "unix:\(socket),server=on,wait=off",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
        return (process, socket)
    }

    @Test func handshakeCommandsAndErrors() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        guard let (qemu, socket) = try startQEMU(directory) else { return }
        // Children spawned from test threads inherit a mask that blocks SIGTERM, so stop QEMU with
        // SIGKILL (the lab uses QMP `quit`).
        defer {
            kill(qemu.processIdentifier, SIGKILL)
            qemu.waitUntilExit()
        }
        let client = try QMPClient(socketPath: socket)
        #expect(client.qemuVersion.split(separator: ".").count == 3)
        let version = try client.execute("query-version")
        #expect(version["qemu"]?["major"] != nil)
        #expect(try client.execute("query-status")["status"]?.stringValue != nil)
        do {
            try client.execute("no-such-command")
            Issue.record("an unknown command succeeded")
        } catch {
            guard case .qmpCommandFailed("no-such-command", "CommandNotFound", _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("QEMU refused no-such-command"))
        }
        #expect(try client.human("info version").contains(client.qemuVersion))
    }

    @Test func aMissingSocketSaysHowToStartQEMU() {
        do {
            _ = try QMPClient(socketPath: "/nonexistent/qmp.sock")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.description.contains("-qmp unix:/nonexistent/qmp.sock"))
        }
    }
}
