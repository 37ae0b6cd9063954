import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectHost

/// `--root` is a boundary: no path, and no symlink inside the tree, leads out of it.
@Suite("root boundary")
struct RootBoundaryTests {
    @Test func symlinksOutOfTheRootAreRefusedForEveryOperation() throws {
        let root = try TestSupport.temporaryDirectory()
        let elsewhere = try TestSupport.temporaryDirectory("inject-elsewhere")
        defer {
            TestSupport.remove(root)
            TestSupport.remove(elsewhere)
        }
        try "secret".write(to: elsewhere.appendingPathComponent("secret"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/link", withDestinationPath: elsewhere.path)
        try FileManager.default.createSymbolicLink(
            atPath: root.path + "/up", withDestinationPath: "../" + elsewhere.lastPathComponent)
        let files = AttributeFiles(root: FilePath(root.path))
        for path in ["link/evil", "up/evil"] {
            #expect(throws: TargetError.escapesRoot(path: path, root: root.path)) {
                try files.write("x", to: TargetPath(path))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path + "/evil"), "a write left the root")
        #expect(throws: TargetError.escapesRoot(path: "link/secret", root: root.path)) {
            try files.read(TargetPath("link/secret"))
        }
        #expect(throws: TargetError.escapesRoot(path: "link", root: root.path)) { try files.list(TargetPath("link")) }
        #expect(throws: TargetError.escapesRoot(path: "link/made", root: root.path)) {
            try files.makeDirectory(TargetPath("link/made"))
        }
        #expect(!files.exists("link/secret"))
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path + "/made"))
    }

    @Test func linksThatStayInsideTheRootStillWork() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(root) }
        try TestSupport.makeTree(root, files: ["sys/devices/real/value"])
        try FileManager.default.createSymbolicLink(
            atPath: root.path + "/sys/alias", withDestinationPath: "devices/real")
        let files = AttributeFiles(root: FilePath(root.path))
        try files.write("42", to: TargetPath("sys/alias/value"))
        #expect(try files.read(TargetPath("sys/devices/real/value")) == Array("42".utf8))
        #expect(files.exists("sys/alias/value"))
    }
}
