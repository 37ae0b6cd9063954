import Foundation
import InjectTestSupport
import Testing

/// A vendor library with its own names and no inject header, driven through its manifest and
/// libffi; and manifests that must be refused before anything is called.
@Suite("vendor manifests")
struct VendorManifestTests {
    /// A directory holding the example vendor's library (built here) and manifest.
    func vendorDirectory() throws -> URL {
        let directory = try TestSupport.temporaryDirectory("inject-vendor")
        let example = TestSupport.packageRoot.appendingPathComponent("Examples/VendorACME")
        let build = try TestSupport.run(
            "/usr/bin/cc",
            [
                "-shared", "-fPIC", "-Wall", "-Werror", "-o",
                directory.appendingPathComponent("libacme_ras.so").path,
                example.appendingPathComponent("acme_ras.c").path,
            ])
        try #require(build.status == 0, "\(build.stderr)")
        try FileManager.default.copyItem(
            at: example.appendingPathComponent("acme.inject.json"),
            to: directory.appendingPathComponent("acme.inject.json"))
        return directory
    }

    @Test func theExampleVendorIsCalledWithItsOutParameterAndErrorMessage() throws {
        let directory = try vendorDirectory()
        defer { TestSupport.remove(directory) }
        let log = directory.appendingPathComponent("calls.log").path
        let environment = ["ACME_RAS_LOG": log]
        let done = try TestSupport.inject(
            ["run", "acme", "address=0x12345000", "kind=uce", "socket=1", "--plugin-path", directory.path],
            environment: environment)
        #expect(done.status == 0, "\(done.stderr)")
        let ticket = (0x1234_5000 >> 12) ^ 0xace
        #expect(done.stdout.contains("returned 0, ticket=\(ticket)"), "\(done.stdout)")
        #expect(
            (try? String(contentsOfFile: log, encoding: .utf8))
                == "poison socket=1 addr=0x12345000 kind=uce ticket=\(ticket)\n")

        let refused = try TestSupport.inject(
            ["run", "acme", "address=0x1000", "socket=7", "--plugin-path", directory.path],
            environment: environment)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "acme_ras_poison: returned -19: socket 7 does not exist (this board has sockets 0 to 1)"),
            "\(refused.stderr)")

        // The host validates parameters before the library is called.
        let invalid = try TestSupport.inject(
            ["run", "acme", "address=0x1000", "kind=maybe", "--plugin-path", directory.path],
            environment: environment)
        #expect(invalid.status == 64 && invalid.stderr.contains("kind"), "\(invalid.stderr)")
        #expect(
            (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count == 1,
            "only the first call reached the library")
    }

    @Test func malformedManifestsAreRefusedNamingFileKeyAndReason() throws {
        let directory = try vendorDirectory()
        defer { TestSupport.remove(directory) }
        let manifest = try String(contentsOf: directory.appendingPathComponent("acme.inject.json"), encoding: .utf8)
        let cases: [(file: String, text: String, expected: String)] = [
            (
                "nocall",
                manifest.replacingOccurrences(of: "\"call\"", with: "\"cal\"").replacingOccurrences(
                    of: "\"name\": \"acme\"", with: "\"name\": \"nocall\""),
                "invalid manifest: call: is required"
            ),
            (
                "structure",
                manifest.replacingOccurrences(of: "uint64_t phys_addr", with: "struct acme_addr phys_addr")
                    .replacingOccurrences(of: "\"name\": \"acme\"", with: "\"name\": \"structure\""),
                "call.function: cannot be called: argument 2 'struct acme_addr phys_addr' uses struct"
            ),
            (
                "unbound",
                manifest.replacingOccurrences(of: "\"phys_addr\": \"address\"", with: "\"phys_addr\": \"adress\"")
                    .replacingOccurrences(of: "\"name\": \"acme\"", with: "\"name\": \"unbound\""),
                "call.arguments.phys_addr: 'adress' is neither a declared parameter"
            ),
            (
                "variadic",
                manifest.replacingOccurrences(of: "size_t why_len)", with: "size_t why_len, ...)")
                    .replacingOccurrences(of: "\"name\": \"acme\"", with: "\"name\": \"variadic\""),
                "variadic functions are not supported"
            ),
        ]
        for item in cases {
            try item.text.write(
                to: directory.appendingPathComponent("\(item.file).inject.json"), atomically: true, encoding: .utf8)
        }
        let list = try TestSupport.inject(["list", "--plugin-path", directory.path])
        #expect(list.status == 0)
        #expect(list.stdout.hasPrefix("acme ") || list.stdout.contains("\nacme "), "the good manifest still loads")
        for item in cases {
            let line = list.stdout.split(separator: "\n").first { $0.contains("\(item.file).inject.json") }
            #expect(line?.contains(item.expected) == true, "\(item.file): \(line ?? "no refusal listed")")
        }
        // The vendor's library beside its manifest is the manifest's, not a plugin that lacks an entry.
        #expect(
            !list.stdout.contains("libacme_ras.so: refused") && !list.stdout.contains("no entry point"),
            "\(list.stdout)")
        // A manifest whose library is missing says so.
        let orphan = manifest.replacingOccurrences(of: "libacme_ras.so", with: "libgone.so").replacingOccurrences(
            of: "\"name\": \"acme\"", with: "\"name\": \"orphan\"")
        try orphan.write(to: directory.appendingPathComponent("orphan.inject.json"), atomically: true, encoding: .utf8)
        let again = try TestSupport.inject(["list", "--plugin-path", directory.path])
        let line = again.stdout.split(separator: "\n").first { $0.contains("orphan.inject.json") }
        #expect(line?.contains("libgone.so does not exist") == true, "\(line ?? "no refusal listed")")
    }
}

/// SHA-256 pinning: pin, verify, and a tampered plugin refused.
@Suite("plugin pins")
struct PluginPinTests {
    @Test func aTamperedPinnedPluginIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory("inject-pins")
        defer { TestSupport.remove(directory) }
        let plugin = directory.appendingPathComponent("libfixture.so")
        try TestSupport.compileCPlugin("Tests/Fixtures/plugins/fixture.c", to: plugin)
        let config = directory.appendingPathComponent("config.json").path
        try "{\"backends\": {\"fixture\": {\"level\": 2}, \"other\": {\"big\": 18446744073709551615}}}".write(
            toFile: config, atomically: true, encoding: .utf8)
        let common = ["--config", config, "--plugin-path", directory.path]

        let pin = try TestSupport.inject(["plugins", "pin", "--write"] + common)
        #expect(pin.status == 0, "\(pin.stderr)")
        let written = try String(contentsOfFile: config, encoding: .utf8)
        #expect(
            written.contains(plugin.path) && written.contains("18446744073709551615")
                && written.contains("\"level\" : 2"),
            "the other keys keep their values:\n\(written)")
        let verified = try TestSupport.inject(["plugins", "verify"] + common)
        #expect(
            verified.status == 0 && verified.stdout.contains("OK") && !verified.stdout.contains("MISMATCH"),
            "\(verified.stdout)")

        // Tampering: the same ELF with one byte appended.
        let handle = try FileHandle(forWritingTo: plugin)
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        handle.closeFile()
        let list = try TestSupport.inject(["list"] + common)
        let refusal = list.stdout.split(separator: "\n").first {
            $0.contains("libfixture.so") && $0.contains("differs from the pinned")
        }
        #expect(refusal != nil, "\(list.stdout)")
        #expect(
            try TestSupport.inject(["run", "fixture"] + common).status == 64, "a refused plugin is not there to run")
        let mismatch = try TestSupport.inject(["plugins", "verify"] + common)
        #expect(mismatch.status == 1 && mismatch.stdout.contains("MISMATCH"), "\(mismatch.stdout)")
    }
}
