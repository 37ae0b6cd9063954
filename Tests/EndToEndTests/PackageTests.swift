import Foundation
import InjectTestSupport
import Testing

/// The Debian package and the tarball on a server that has no Swift (issue 36): a minimal Debian
/// 12 root made by mmdebstrap (Scripts/server-root.sh, cached under the lab cache), entered with
/// unshare and chroot; inside it Tests/Fixtures/package/check-in-server.sh installs, uses and
/// removes the package.
@Suite("package", .serialized)
struct PackageTests {
    static let usable =
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mmdebstrap")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/patchelf")

    @Test(.enabled(if: usable, "needs root, mmdebstrap and patchelf (.ci/run installs them)"))
    func thePackageInstallsRunsAndLeavesNothingOnAServerWithoutSwift() throws {
        let work = try TestSupport.temporaryDirectory("inject-package")
        defer { TestSupport.remove(work) }
        let scripts = TestSupport.packageRoot.appendingPathComponent("Scripts")
        let package = try BuiltPackage.get()
        #expect(package.report.contains("Depends: libc6"), "\(package.report)")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian") {
            let lintian = try TestSupport.run("/usr/bin/lintian", ["--no-tag-display-limit", package.deb])
            let errors = lintian.stdout.split(separator: "\n").filter { $0.hasPrefix("E: ") }
            #expect(errors.isEmpty, "lintian: \(errors)")
        }

        let image = try TestSupport.run("/bin/sh", [scripts.appendingPathComponent("server-root.sh").path])
        try #require(image.status == 0, "server-root.sh: \(image.stderr)")
        let root = work.appendingPathComponent("server").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let unpack = try TestSupport.run(
            "/bin/tar", ["-C", root, "-xf", image.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        try #require(unpack.status == 0, "\(unpack.stderr)")
        for (from, to) in [
            ("/etc/resolv.conf", "etc/resolv.conf"), (package.deb, "inject.deb"), (package.tarball, "inject.tar.gz"),
            (TestSupport.packageRoot.path + "/Examples/CPlugin/example_hwpoison.c", "example_hwpoison.c"),
            (TestSupport.packageRoot.path + "/Tests/Fixtures/package/check-in-server.sh", "check.sh"),
        ] {
            try? FileManager.default.removeItem(atPath: root + "/" + to)
            try FileManager.default.copyItem(atPath: from, toPath: root + "/" + to)
        }
        let checked = try TestSupport.run(
            "/usr/bin/unshare",
            ["-m", "-p", "-f", "--mount-proc=\(root)/proc", "/usr/sbin/chroot", root, "/bin/sh", "/check.sh"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"])
        let lines = checked.stdout.split(separator: "\n").map(String.init)
        func value(_ name: String) -> String {
            lines.first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
                ?? "(no \(name) line)"
        }
        let report = "\(checked.stdout)\n\(checked.stderr)"
        #expect(value("swift before") == "0", "the root has no Swift of its own: \(report)")
        #expect(value("apt install") == "0", "\(report)")
        #expect(value("version").hasPrefix("inject 0.1.0 (package 0.1.0-1, commit "), "\(report)")
        #expect(value("version").hasSuffix("plugin ABI 1.5"), "\(report)")
        #expect(value("ldd not found") == "0", "\(report)")
        #expect(value("runtime from") == "/usr/bin/../lib/inject/swift/libswiftCore.so", "\(report)")
        #expect(value("list") == "aer cxl edac ghes mce nmi ", "every shipped backend, nothing refused: \(report)")
        #expect(value("info").hasPrefix("0 "), "\(report)")
        #expect(value("doctor").hasPrefix("0 "), "\(report)")
        #expect(value("dry run") == "0 plan for mce: 7 step(s)", "\(report)")
        #expect(value("c plugin built") == "0" && value("c plugin listed") == "1", "\(report)")
        #expect(value("c plugin dry run") == "0 plan for example-hwpoison: 1 step(s)", "\(report)")
        #expect(value("tarball list") == "6", "the tarball unpacked elsewhere finds its own plugins: \(report)")
        #expect(value("tarball version").contains("(package 0.1.0-1"), "\(report)")
        #expect(value("apt remove") == "0" && value("left behind") == "0", "\(report)")
    }
}
