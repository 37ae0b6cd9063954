import Foundation
import InjectTestSupport

/// The .deb and the tarball that `Scripts/package.sh` makes from this test run's build, made once
/// per test process (under the build directory, so nothing is left in /tmp) and shared by every
/// test that installs inject on a server stand-in.
struct BuiltPackage: Sendable {
    let deb: String
    let tarball: String
    /// package.sh's own report (the Depends line, the installed size).
    let report: String

    /// Why packaging failed, as a test failure names it.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let shared: Result<BuiltPackage, Failure> = make()

    /// The shared package, or the reason it could not be made.
    static func get() throws -> BuiltPackage { try shared.get() }

    private static func make() -> Result<BuiltPackage, Failure> {
        let build = TestSupport.injectExecutable.deletingLastPathComponent()
        let dist = build.appendingPathComponent("test-package").path
        try? FileManager.default.removeItem(atPath: dist)
        let script = TestSupport.packageRoot.appendingPathComponent("Scripts/package.sh").path
        guard let made = try? TestSupport.run("/bin/sh", [script, "--build-dir", build.path, "--output", dist]) else {
            return .failure(Failure(description: "package.sh did not start"))
        }
        guard made.status == 0 else { return .failure(Failure(description: "package.sh: \(made.stderr)")) }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dist)) ?? []
        guard let deb = files.first(where: { $0.hasSuffix("_amd64.deb") }),
            let tarball = files.first(where: { $0.hasSuffix(".tar.gz") })
        else { return .failure(Failure(description: "package.sh made \(files), not a .deb and a tarball")) }
        return .success(BuiltPackage(deb: dist + "/" + deb, tarball: dist + "/" + tarball, report: made.stdout))
    }
}
