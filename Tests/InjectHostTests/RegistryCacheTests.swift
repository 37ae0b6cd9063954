import Foundation
import Testing

@testable import InjectHost

/// The registry cache's own file format: what is written is read back exactly, whatever the text
/// holds, and anything else is not taken for a cache.
@Suite("registry cache")
struct RegistryCacheTests {
    func entry(_ path: String, text: String) -> RegistryCache.Entry {
        var info = BackendInfo(
            name: "odd", version: "1\t2", summary: text, families: ["a", text, ""], parameters: [], path: path,
            abi: "1.2")
        info.kernelModules = ["m"]
        info.traceEvents = ["ras:mc_event"]
        info.logMarkers = [text]
        info.decodesEvents = true
        info.parameters = [
            ParameterSpec(
                name: "p", type: .int, help: text, unit: nil, defaultValue: "\\-", choices: [], isRequired: true,
                bounds: .init(min: UInt64(bitPattern: -5), max: 5)),
            ParameterSpec(
                name: "q", type: .choice, help: "", unit: "ms", defaultValue: nil, choices: ["x", "y\u{1F}z"]),
        ]
        return RegistryCache.Entry(
            path: path, key: PluginFileKey(device: 1, inode: 2, size: 3, modified: -4, changed: 5),
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
        let sections = [
            RegistryCache.Section(host: "abi 1.2 exe /a b/inject 1:2:3:4", entries: entries),
            RegistryCache.Section(host: "abi 1.2 exe /other 5:6:7:8", entries: []),
            RegistryCache.Section(host: "abi 1.2 exe /third 9:9:9:9", entries: [refused]),
        ]
        let decoded = try #require(RegistryCacheFormat.decode(RegistryCacheFormat.encode(sections)))
        #expect(decoded == sections)
    }

    /// The decoder reads borrowed bytes by index: no cut, flipped or stray byte may make it read
    /// past a line or trap; it decodes or says "not a cache".
    @Test func cutAndDamagedFilesDecodeOrAreRefusedNeverTrap() throws {
        let awkward = "tab\there \\ \u{1F} ü"
        let bytes = RegistryCacheFormat.encode([
            RegistryCache.Section(host: "abi 1.5 exe /x 1:2:3:4", entries: [entry("/p/a.so", text: awkward)])
        ])
        var decodedPrefixes = 0
        for length in 0...bytes.count {
            if RegistryCacheFormat.decode(Array(bytes.prefix(length))) != nil { decodedPrefixes += 1 }
        }
        // The magic line alone, each whole line (with or without its newline) is a file; a cut
        // inside a field is refused unless it leaves a well-formed line.
        #expect(decodedPrefixes >= 2 && decodedPrefixes < bytes.count / 4, "\(decodedPrefixes) of \(bytes.count)")
        var generator = SeededGenerator(seed: 39)
        var refused = 0
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<damaged.count, using: &generator)
                damaged[index] = [9, 10, 0x1F, 0x5C, 0x2D, 0xFF, 0][Int.random(in: 0..<7, using: &generator)]
            }
            if RegistryCacheFormat.decode(damaged) == nil { refused += 1 }
        }
        #expect(refused > 0, "some damage is noticed")
        #expect(RegistryCacheFormat.decode(bytes + [10, 10]) != nil, "blank lines at the end are nothing")
    }

    @Test func otherFilesAreNotTakenForACache() {
        #expect(RegistryCacheFormat.decode(Array("{\"format\": 1}".utf8)) == nil)
        #expect(RegistryCacheFormat.decode(Array("inject-registry 2\nhost\th\nfile\t/x\n".utf8)) == nil, "a short line")
        #expect(
            RegistryCacheFormat.decode(
                Array("inject-registry 2\nhost\th\nparam\tp\tint\th\t\\-\t\\-\t\t0\t\\-\t\\-\n".utf8)) == nil,
            "a parameter without its file")
        #expect(
            RegistryCacheFormat.decode(Array("inject-registry 2\nrefusal\tx\n".utf8)) == nil, "a line before any host")
        #expect(RegistryCacheFormat.decode(Array("inject-registry 1\th\n".utf8)) == nil, "the format before sections")
        #expect(RegistryCacheFormat.decode([]) == nil)
    }

    @Test func aCacheIsReadBackOnlyByTheSameExecutableAndForUnchangedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inject-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let plugin = directory.appendingPathComponent("libp.so")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
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

    /// A directory with plugin files `names` (one byte each) and the path of a cache beside them.
    func tree(_ names: [String]) throws -> (directory: URL, plugins: [String], cache: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inject-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let plugins = try names.map { name -> String in
            let url = directory.appendingPathComponent(name)
            try Data("x".utf8).write(to: url)
            return url.path
        }
        return (directory, plugins, directory.appendingPathComponent("cache/registry").path)
    }

    func storedEntry(_ plugin: String) throws -> RegistryCache.Entry {
        var stored = entry(plugin, text: plugin)
        stored.key = try #require(PluginFileKey(plugin))
        stored.library = nil
        stored.libraryKey = nil
        return stored
    }

    /// Two executables (an installed `inject` and a build) alternating on one cache each keep
    /// their entries: neither one's save throws the other's away.
    @Test func executablesAlternatingKeepTheirOwnSections() throws {
        let (directory, plugins, path) = try tree(["liba.so", "other-inject"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let installed = RegistryCache.hostIdentity()
        let build = RegistryCache.hostIdentity(executable: plugins[1])
        #expect(installed != build)
        let first = RegistryCache(path: path, alsoReading: [], host: installed)
        let stored = try storedEntry(plugins[0])
        first.store(stored)
        #expect(first.save() == nil)
        let second = RegistryCache(path: path, alsoReading: [], host: build)
        #expect(
            second.entry(plugins[0], key: stored.key, libraryKey: nil) == nil,
            "another executable's entries are not taken")
        var its = stored
        its.refusal = "refused by the build"
        its.info = nil
        second.store(its)
        #expect(second.save() == nil)
        #expect(
            RegistryCache(path: path, alsoReading: [], host: installed).entry(
                plugins[0], key: stored.key, libraryKey: nil) == stored)
        #expect(
            RegistryCache(path: path, alsoReading: [], host: build).entry(plugins[0], key: stored.key, libraryKey: nil)
                == its)
    }

    /// Two processes of one executable that scanned different plugins and save one after the
    /// other both find both entries: the second save merges with the first instead of replacing it.
    @Test func concurrentWritersLoseNoEntries() throws {
        let (directory, plugins, path) = try tree(["liba.so", "libb.so"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = RegistryCache(path: path, alsoReading: [])
        let two = RegistryCache(path: path, alsoReading: [])
        let a = try storedEntry(plugins[0])
        let b = try storedEntry(plugins[1])
        one.store(a)
        two.store(b)
        #expect(one.save() == nil)
        #expect(two.save() == nil)
        let merged = RegistryCache(path: path, alsoReading: [])
        #expect(merged.entry(a.path, key: a.key, libraryKey: nil) == a)
        #expect(merged.entry(b.path, key: b.key, libraryKey: nil) == b)
        // Many writers at once, each with its own entry: every entry survives.
        let many = try (0..<16).map { index -> String in
            let url = directory.appendingPathComponent("libmany\(index).so")
            try Data("x".utf8).write(to: url)
            return url.path
        }
        let entries = try many.map(storedEntry)
        DispatchQueue.concurrentPerform(iterations: entries.count) { index in
            let cache = RegistryCache(path: path, alsoReading: [])
            cache.store(entries[index])
            _ = cache.save()
        }
        let all = RegistryCache(path: path, alsoReading: [])
        for entry in entries + [a, b] {
            #expect(all.entry(entry.path, key: entry.key, libraryKey: nil) == entry, "\(entry.path)")
        }
    }

    /// Sections of executables that are gone or were rebuilt are dropped at the next save, and
    /// `plugins rescan` (clear) forgets this executable's entries but not the others'.
    @Test func staleSectionsGoAndClearingKeepsOthers() throws {
        let (directory, plugins, path) = try tree(["liba.so", "other-inject"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let gone = "abi 1.9 exe /nonexistent/inject 1:2:3:4"
        let other = RegistryCache.hostIdentity(executable: plugins[1])
        let stored = try storedEntry(plugins[0])
        for host in [gone, other] {
            let cache = RegistryCache(path: path, alsoReading: [], host: host)
            cache.store(stored)
            #expect(cache.save() == nil)
        }
        let mine = RegistryCache(path: path, alsoReading: [])
        mine.store(stored)
        #expect(mine.save() == nil)
        let hosts = try #require(RegistryCacheFormat.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
            .map(\.host)
        #expect(hosts == [RegistryCache.hostIdentity(), other])
        mine.clear()
        #expect(mine.save() == nil)
        #expect(RegistryCache(path: path, alsoReading: []).entry(stored.path, key: stored.key, libraryKey: nil) == nil)
        #expect(
            RegistryCache(path: path, alsoReading: [], host: other).entry(stored.path, key: stored.key, libraryKey: nil)
                == stored)
    }
}
