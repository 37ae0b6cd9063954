import Foundation
import InjectSystem
import InjectTestSupport
import Testing

/// Settings are named by the front end that takes them: the host, the lab and the system layer
/// carry the setting, never a command line's words.
@Suite struct SettingTests {
    @Test func withoutAFrontEndASettingIsNamedByItself() {
        #expect(Setting.qmpSocket.named("PATH") == "qmpSocket=PATH")
        #expect(Setting.confirmation.description == "confirmation")
        #expect(!TargetError.noQMP(command: "inject-nmi").description.contains("--"))
        #expect(TargetError.noQMP(command: "inject-nmi").description.contains("qmpSocket=PATH"))
    }

    /// No string literal of the host, the lab or the system layer spells one of the command
    /// line's flags; commands run as tools (apt-get, tar, a binary's --version) are theirs.
    @Test func noCommandLineFlagIsSpelledBelowTheCommandLine() throws {
        let flag = try Regex(#""[^"\n]*--[a-z][a-z-]*[^"\n]*""#)
        // apt-get, tar, a binary's --version, mmdebstrap, tar2sqfs, dpkg-deb, dpkg-query and unshare.
        let tools = [
            "--no-install-recommends", "--wildcards", "--version", "--quiet", "--variant=", "--include=",
            "--customize-hook=", "--force --compressor", "--field", "--fsys-tarfile", "--status", "--no-recursion",
            "--build-dir", "--aptopt=", "--no-collector.", "--mount",
        ]
        var offenders: [String] = []
        for target in ["InjectHost", "InjectLab", "InjectSystem", "InjectText"] {
            let directory = TestSupport.packageRoot.appendingPathComponent("Sources/\(target)")
            let files =
                FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
            for file in files {
                for (number, line) in try String(contentsOf: file, encoding: .utf8).split(separator: "\n").enumerated()
                {
                    guard !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") else { continue }
                    for match in line.matches(of: flag)
                    where !tools.contains(where: { String(line[match.range]).contains($0) }) {
                        offenders.append("\(file.lastPathComponent):\(number + 1): \(line[match.range])")
                    }
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }
}
