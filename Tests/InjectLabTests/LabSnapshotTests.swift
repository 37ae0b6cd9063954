import Foundation
import InjectTestSupport
import SystemPackage
import Testing

@testable import InjectLab

/// A snapshot is named by what shapes the machine, never by the lab's own name or paths, and the
/// cache keeps the most recently used few.
@Suite struct LabSnapshotTests {
    /// A lab's state directory with an initramfs of `content`, and a command line naming it.
    func machine(_ name: String, initramfs content: String) throws -> (LabPaths, [String]) {
        let paths = try LabPaths(name: name, environment: ["XDG_RUNTIME_DIR": NSTemporaryDirectory()])
        try FileManager.default.createDirectory(atPath: paths.stateDirectory.string, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: paths.initramfs.string))
        try Data("pid".utf8).write(to: URL(fileURLWithPath: paths.pidFile.string))
        let argv = [
            "/usr/bin/qemu-system-x86_64", "-name", "inject-lab-\(name),process=inject-lab-\(name)", "-object",
            "memory-backend-file,id=ram0,size=512M,mem-path=\(paths.guestMemory),share=on", "-initrd",
            paths.initramfs.string, "-kernel", "/etc/hostname", "-pidfile", paths.pidFile.string,
        ]
        return (paths, argv)
    }

    @Test func labsOfOtherNamesShareAConfigurationAndAnyFileChangeNamesAnother() async throws {
        let suffix = "\(getpid())"
        let (first, firstArgv) = try machine("snap-one-\(suffix)", initramfs: "same")
        let (second, secondArgv) = try machine("snap-two-\(suffix)", initramfs: "same")
        let (third, thirdArgv) = try machine("snap-three-\(suffix)", initramfs: "other")
        defer {
            for paths in [first, second, third] {
                TestSupport.remove(URL(fileURLWithPath: paths.stateDirectory.string))
            }
        }
        let one = try await LabSnapshot.configuration(argv: firstArgv, paths: first, extra: ["format 1"])
        let two = try await LabSnapshot.configuration(argv: secondArgv, paths: second, extra: ["format 1"])
        let three = try await LabSnapshot.configuration(argv: thirdArgv, paths: third, extra: ["format 1"])
        #expect(one == two, "\(one)\n---\n\(two)")
        #expect(!one.contains("snap-one") && !one.contains(first.stateDirectory.string), "\(one)")
        #expect(one.contains("STATE/initramfs.cpio") && one.contains("mem-path=RAM"), "\(one)")
        #expect(one.contains("/etc/hostname "), "a file outside the lab is named by its identity: \(one)")
        #expect(!one.contains("qemu.pid "), "QEMU's pid file is no input: \(one)")
        #expect(one != three, "another initramfs is another machine")
        let other = try await LabSnapshot.configuration(argv: firstArgv, paths: first, extra: ["format 2"])
        #expect(LabCacheKey.digest(one) != LabCacheKey.digest(other))
    }

    @Test func filesAreNamedByArgumentsAndTheirPathValues() {
        #expect(LabSnapshot.filesNamed("/boot/vmlinuz") == ["/boot/vmlinuz"])
        #expect(LabSnapshot.filesNamed("file=/a.aml") == ["/a.aml"])
        #expect(
            LabSnapshot.filesNamed("memory-backend-file,id=ram0,mem-path=/dev/shm/x,share=on") == ["/dev/shm/x"])
        #expect(LabSnapshot.filesNamed("q35,memory-backend=ram0").isEmpty)
        #expect(LabSnapshot.filesNamed("relative/path").isEmpty)
    }

    @Test func theCacheKeepsTheMostRecentlyUsedAndRemovesDeadPartialSaves() throws {
        let directory = try TestSupport.temporaryDirectory("inject-snapshots")
        defer { TestSupport.remove(directory) }
        let base = Date().timeIntervalSince1970
        for index in 0..<(LabSnapshot.kept + 2) {
            let path = directory.appendingPathComponent("key\(index)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: base - Double(100 * index))], ofItemAtPath: path)
        }
        // A dead save (no such process) and one in progress (this process).
        for partial in [".key9.999999999", ".key10.\(getpid())"] {
            try FileManager.default.createDirectory(
                atPath: directory.appendingPathComponent(partial).path, withIntermediateDirectories: false)
        }
        // A layer file's staging copy whose process died goes too (the package layers share the pruning).
        try Data().write(to: directory.appendingPathComponent(".layer.999999999.sqfs"))
        LabFileSystem.keepMostRecentlyUsed(LabSnapshot.kept, in: FilePath(directory.path))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(left == [".key10.\(getpid())"] + (0..<LabSnapshot.kept).map { "key\($0)" }.sorted(), "\(left)")
    }
}
