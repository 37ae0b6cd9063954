import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// What `lab exec --copy` takes from the host: a regular file of bounded size, keeping its name
/// and permission bits but never a set-id bit; anything else is refused by name before the guest is touched.
@Suite struct LabExchangeTests {
    @Test func aRegularFileKeepsItsNameAndPermissionBitsButNoSetID() throws {
        let directory = try TestSupport.temporaryDirectory("exchange")
        defer { TestSupport.remove(directory) }
        let path = directory.appendingPathComponent("victim").path
        try Data([0x7F, 0x45, 0x4C, 0x46, 0]).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o4755)
        let file = try LabExchange.File(reading: FilePath(path))
        #expect(file.name == "victim")
        #expect(file.mode == 0o755)
        #expect(file.bytes == [0x7F, 0x45, 0x4C, 0x46, 0])
        #expect(file.guestPath == "/run/inject/exchange/victim")
    }

    @Test func directoriesMissingFilesAndOversizedFilesAreRefusedByName() throws {
        let directory = try TestSupport.temporaryDirectory("exchange")
        defer { TestSupport.remove(directory) }
        let huge = directory.appendingPathComponent("huge").path
        // Sparse: its size is past the limit without the bytes being written.
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, off_t(LabExchange.maximumBytes) + 1) == 0)
        let cases: [(String, String)] = [
            (directory.path, "only regular files"),
            (directory.appendingPathComponent("absent").path, "No such file"),
            (huge, "more than the 64 MiB"),
        ]
        for (path, reason) in cases {
            #expect {
                _ = try LabExchange.File(reading: FilePath(path))
            } throws: { error in
                let text = "\(error)"
                return text.contains(path) && text.contains(reason)
            }
        }
    }
}
