import Foundation
import Testing
@testable import InjectHost

/// The registry cache's own file format: what is written is read back exactly, whatever the text
/// holds, and anything else is not taken for a cache.
@Suite("registry cache")
struct RegistryCacheTests {
    func entry(_ path: String, text: String) -> RegistryCache.Entry {
        var info = BackendInfo(name: "odd", version: "1\t2", summary: text, families: ["a", text, ""], parameters: [], path: path, abi: "1.2")
        info.kernelModules = ["m"]
        info.traceEvents = ["ras:mc_event"]
        info.logMarkers = [text]
        info.decodesEvents = true
        info.parameters = [
            ParameterSpec(name: "p", type: .int, help: text, unit: nil, defaultValue: "\\-", choices: [], isRequired: true,
                          bounds: .init(min: UInt64(bitPattern: -5), max: 5)),
            ParameterSpec(name: "q", type: .choice, help: "", unit: "ms", defaultValue: nil, choices: ["x", "y\u{1F}z"]),
        ]
        return RegistryCache.Entry(path: path, key: PluginFileKey(device: 1, inode: 2, size: 3, modified: -4, changed: 5),
                                   library: "lib\nx.so", libraryKey: PluginFileKey(device: 6, inode: 7, size: 8, modified: 9, changed: 10),
                                   digest: nil, info: info, refusal: nil)
    }

    @Test func everyFieldSurvivesTheRoundTrip() throws {
        let awkward = "tab\there, newline\nthere, back\\slash, \\-, separator \u{1F}, ünïcode, \\t literally"
        var refused = entry("/p/b.so", text: "x")
        refused.info = nil
        refused.refusal = awkward
        refused.digest = "ab12"
        refused.library = nil
        refused.libraryKey = nil
        let entries = [entry("/p/a\tb.so", text: awkward), refused]
        let bytes = RegistryCacheFormat.encode(host: "abi 1.2 exe 1:2:3:4", entries: entries)
        let decoded = try #require(RegistryCacheFormat.decode(bytes))
        #expect(decoded.host == "abi 1.2 exe 1:2:3:4")
        #expect(decoded.entries == entries)
    }

    @Test func otherFilesAreNotTakenForACache() {
        #expect(RegistryCacheFormat.decode(Array("{\"format\": 1}".utf8)) == nil)
        #expect(RegistryCacheFormat.decode(Array("inject-registry 1\th\nfile\t/x\n".utf8)) == nil, "a short line")
        #expect(RegistryCacheFormat.decode(Array("inject-registry 1\th\nparam\tp\tint\th\t\\-\t\\-\t\t0\t\\-\t\\-\n".utf8)) == nil,
                "a parameter without its file")
        #expect(RegistryCacheFormat.decode([]) == nil)
    }

    @Test func aCacheIsReadBackOnlyByTheSameExecutableAndForUnchangedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inject-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let plugin = directory.appendingPathComponent("libp.so")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data("x".utf8).write(to: plugin)
        let key = try #require(PluginFileKey(plugin.path))
        let path = directory.appendingPathComponent("cache/registry").path
        let cache = RegistryCache(path: path, alsoReading: [])
        var stored = entry(plugin.path, text: "t")
        stored.key = key
        stored.library = nil
        stored.libraryKey = nil
        cache.store(stored)
        #expect(cache.save() == nil)
        let again = RegistryCache(path: path, alsoReading: [])
        #expect(again.entry(plugin.path, key: key, libraryKey: nil) == stored)
        // Any write changes the key, and the entry no longer holds.
        try Data("xy".utf8).write(to: plugin)
        let changed = try #require(PluginFileKey(plugin.path))
        #expect(again.entry(plugin.path, key: changed, libraryKey: nil) == nil)
        // A cache others could write is ignored.
        chmod(path, 0o666)
        #expect(RegistryCache(path: path, alsoReading: []).entry(plugin.path, key: key, libraryKey: nil) == nil)
    }
}
