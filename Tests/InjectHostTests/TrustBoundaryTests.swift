import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// Files another user can plant are never trusted: links in sticky plugin directories, config
/// files, journals and registry caches (issue 39, items 4 to 7).
@Suite struct TrustBoundaryTests {
    static let nobody: uid_t = 65534
    static var isRoot: Bool { geteuid() == 0 }

    @Test(.enabled(if: isRoot, "changing a file's owner needs root"))
    func aLinkAnotherUserPlantedInAStickyPluginDirectoryIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let sticky = directory.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: sticky, withIntermediateDirectories: false)
        chmod(sticky.path, 0o1777)
        let plugin = TestSupport.productsDirectory.appendingPathComponent("libInjectMCE.so").path
        let planted = sticky.appendingPathComponent("libplanted.so").path
        #expect(symlink(plugin, planted) == 0)
        #expect(FileTrust.problem(path: planted) == nil, "root's own link is trusted")
        #expect(lchown(planted, Self.nobody, Self.nobody) == 0)
        let problem = try #require(FileTrust.problem(path: planted))
        #expect(problem.contains("link \(planted) is owned by uid 65534"), "\(problem)")
    }

    @Test(.enabled(if: isRoot, "changing a file's owner needs root"))
    func aConfigFileOthersCouldWriteOrAnotherUsersIsNotApplied() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let config = directory.appendingPathComponent("inject/config.json")
        try FileManager.default.createDirectory(
            at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(#"{"backends": {"mce": {"cpu": 3}}}"#.utf8).write(to: config)
        #expect(try ConfigurationFile.load(config.path) != nil, "your own file is applied")
        chmod(config.path, 0o666)
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load(config.path) }
        chmod(config.path, 0o644)
        chown(config.path, Self.nobody, Self.nobody)
        do {
            _ = try InjectSession(InjectSession.Options(environment: ["XDG_CONFIG_HOME": directory.path]))
            Issue.record("another user's config file was applied")
        } catch {
            #expect(error.description.contains("not trusted") && error.description.contains("uid 65534"), "\(error)")
        }
    }

    @Test func aJournalIsNeverWrittenThroughALink() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let target = directory.appendingPathComponent("victim.txt")
        let link = directory.appendingPathComponent("journal.jsonl").path
        #expect(symlink(target.path, link) == 0)
        do {
            _ = try Journal(path: link)
            Issue.record("a journal was opened through a link")
        } catch {
            #expect(error.description.contains("symbolic link"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: target.path), "a dangling link's target is not created")
    }

    @Test(.enabled(if: isRoot, "changing a file's owner needs root"))
    func aJournalOfAnotherUserIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let path = directory.appendingPathComponent("journal.jsonl").path
        FileManager.default.createFile(atPath: path, contents: nil)
        chown(path, Self.nobody, Self.nobody)
        #expect(throws: JournalError.self) { _ = try Journal(path: path) }
    }

    @Test func theRegistryCacheReplacesOnlyACache() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let notes = directory.appendingPathComponent("notes.txt")
        try Data("my notes\n".utf8).write(to: notes)
        let cache = RegistryCache.standard(environment: ["INJECT_REGISTRY": notes.path])
        cache.clear()
        let problem = try #require(cache.save())
        #expect(problem.contains("is not a registry cache"), "\(problem)")
        #expect(try String(contentsOf: notes, encoding: .utf8) == "my notes\n", "the file is left as it was")
        let fresh = directory.appendingPathComponent("registry")
        let own = RegistryCache.standard(environment: ["INJECT_REGISTRY": fresh.path])
        own.clear()
        #expect(own.save() == nil)
        own.clear()
        #expect(own.save() == nil, "a cache replaces a cache")
    }
}
