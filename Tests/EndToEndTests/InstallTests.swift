import Foundation
import InjectTestSupport
import Testing

/// The SDK install: the tool, plugins, header and pkg-config file under a prefix, usable by a C
/// plugin author and by the installed tool itself.
@Suite("SDK install")
struct InstallTests {
    @Test func theHeaderIsFoundThroughPkgConfigAndTheInstalledToolLoadsPlugins() throws {
        let prefix = try TestSupport.temporaryDirectory("inject-prefix")
        defer { TestSupport.remove(prefix) }
        let build = TestSupport.injectExecutable.deletingLastPathComponent().path
        let install = try TestSupport.run(
            "/bin/sh",
            [
                TestSupport.packageRoot.appendingPathComponent("Scripts/install.sh").path,
                "--prefix", prefix.path, "--build-dir", build,
            ])
        try #require(install.status == 0, "\(install.stderr)")

        let environment = [
            "PKG_CONFIG_PATH": prefix.appendingPathComponent("lib/pkgconfig").path, "PATH": "/usr/bin:/bin",
        ]
        let cflags = try TestSupport.run(
            "/usr/bin/pkg-config", ["--cflags", "inject-plugin"], environment: environment)
        #expect(
            cflags.status == 0 && cflags.stdout.contains(prefix.appendingPathComponent("include/inject").path),
            "\(cflags.stdout)\(cflags.stderr)")
        let plugindir = try TestSupport.run(
            "/usr/bin/pkg-config", ["--variable=plugindir", "inject-plugin"], environment: environment)
        let directory = plugindir.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(directory == prefix.appendingPathComponent("lib/inject/plugins").path)

        // A plugin author's build: the header from pkg-config alone.
        let source = TestSupport.packageRoot.appendingPathComponent("Examples/CPlugin/example_hwpoison.c").path
        let compile = try TestSupport.run(
            "/usr/bin/cc",
            cflags.stdout.split(separator: " ").map(String.init).filter { !$0.isEmpty && $0 != "\n" }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                + ["-shared", "-fPIC", "-Wall", "-Werror", "-o", directory + "/libexample.so", source])
        #expect(compile.status == 0, "\(compile.stderr)")

        // The installed tool finds its plugins and the author's under <prefix>/lib/inject/plugins.
        let list = try TestSupport.run(
            prefix.appendingPathComponent("bin/inject").path, ["list"], environment: ["HOME": "/nonexistent"])
        for name in ["mce", "ghes", "edac", "nmi", "example-hwpoison"] {
            #expect(
                list.stdout.split(separator: "\n").contains { $0.hasPrefix(name + " ") },
                "\(name) missing from\n\(list.stdout)")
        }
    }
}
