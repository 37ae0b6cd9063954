import Foundation
import InjectTestSupport
import Testing

/// The Ansible collection with real ssh and real Ansible: three managed hosts that are Debian
/// servers without Swift (a minimal Debian root each, with its own sshd, in namespaces of its own,
/// and inject installed from the package), the example playbook, one fleet report.
@Suite(
    "fleet (Ansible)", .serialized,
    .enabled(
        if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/mmdebstrap")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/patchelf"),
        "needs root, openssh-client, mmdebstrap and patchelf (.ci/run installs them)"))
struct FleetTests {
    static let script = TestSupport.packageRoot.appendingPathComponent("ansible/tests/fleet-e2e.sh").path
    static let collections = TestSupport.packageRoot.appendingPathComponent("ansible").path
    /// ansible-core's virtual environment, made (once, cached) by the collection's own script.
    static func venv() throws -> String {
        let made = try TestSupport.run(
            "/bin/sh", [TestSupport.packageRoot.appendingPathComponent("ansible/tests/ansible-venv.sh").path])
        guard made.status == 0 else {
            throw NSError(
                domain: "ansible-venv", code: Int(made.status), userInfo: [NSLocalizedDescriptionKey: made.stderr])
        }
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file as node N left it (what the node changed sits in its overlay's upper layer).
    func nodeFile(_ out: URL, _ node: Int, _ path: String) -> String? {
        TestSupport.read(out, "nodes/node\(node)/upper/\(path)")
    }

    func bank(_ out: URL, _ node: Int) -> String? {
        nodeFile(out, node, "srv/inject-tree/sys/kernel/debug/mce-inject/bank")
    }

    /// Runs the fleet script on this build's package.
    func fleet(_ out: URL, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> (
        status: Int32, stderr: String
    ) {
        let run = try TestSupport.run(
            "/bin/sh", [Self.script, try BuiltPackage.get().deb, out.path] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return (run.status, run.stderr)
    }

    @Test func thePlaybookReportsEachHostAndTheHostWithoutMceInjectIsNotApplicable() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let run = try fleet(out)
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status == 0, "\(run.stderr)\n\(log.suffix(3000))")
        for node in 1...3 {
            #expect(
                TestSupport.read(out, "nodes/node\(node)/swift") == "",
                "node\(node) has no Swift runtime but the package's (no /opt/swift)")
        }
        let data = try #require(
            FileManager.default.contents(atPath: out.appendingPathComponent("fleet-report.json").path),
            "\(log.suffix(3000))")
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let hosts = try #require(report["hosts"] as? [String: [String: [String: String]]])
        #expect(hosts["node1"]?["mce"]?["state"] == "PASS" && hosts["node2"]?["mce"]?["state"] == "PASS", "\(hosts)")
        #expect(hosts["node3"]?["mce"]?["state"] == "N/A", "\(hosts)")
        #expect(hosts["node3"]?["mce"]?["reason"]?.contains("mce-inject: missing") == true, "\(hosts)")
        #expect((report["counts"] as? [String: Int]) == ["PASS": 2, "FAIL": 0, "N/A": 1])
        // What PASS means on these trees: the machine check was written and journaled, on those two only.
        #expect(bank(out, 1) == "1" && bank(out, 2) == "1", "\(String(describing: bank(out, 1)))")
        #expect(bank(out, 3) == nil)
        // Each node's own inject wrote its own journal: one host's connection is not shared with another's.
        for node in 1...2 {
            let journal = nodeFile(out, node, "var/lib/inject/fleet.journal") ?? ""
            #expect(
                journal.split(separator: "\n").count == 2 && journal.contains("\"outcome\":\"ok\""),
                "node\(node): \(journal)")
        }
        #expect(nodeFile(out, 3, "var/lib/inject/fleet.journal") == nil)
        let junit = TestSupport.read(out, "fleet-junit.xml") ?? ""
        #expect(
            junit.contains("<testcase classname=\"node3\" name=\"mce\"><skipped message=\"mce-inject: missing"),
            "\(junit)")
        #expect(junit.components(separatedBy: "<testcase ").count == 4)
    }

    /// A scenario written on the controller runs on each host (the hosts do not share its file
    /// system), and each host's campaign is a report row: PASS with its count, or FAIL with the reason.
    @Test func aCampaignFromTheControllerRunsOnEachHostAndIsAReportRow() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let scenario = out.appendingPathComponent("campaign.json")
        try Data(
            """
            {"name": "fleet", "seed": 1, "steps": [{"name": "corrected MCE", "backend": "mce", "count": 3,
              "verify": "none", "parameters": {"cpu": "0", "bank": "choice 1|2|3"}}]}
            """.utf8
        ).write(to: scenario)
        let run = try fleet(
            out,
            [
                "--limit", "node1,node3,localhost", "-e", "inject_scenario=\(scenario.path)", "-e",
                #"{"inject_requests": {}}"#,
            ])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status == 0, "\(run.stderr)\n\(log.suffix(3000))")
        let report = TestSupport.read(out, "fleet-report.txt") ?? ""
        #expect(report.contains("node1  campaign   PASS  1 step(s), 3 injection(s)"), "\(report)")
        #expect(
            report.contains("node3  campaign   FAIL  corrected MCE: injection 1: ")
                && report.contains("mce-inject/flags does not exist"), "\(report)")
        let journal = nodeFile(out, 1, "var/lib/inject/fleet.journal") ?? ""
        #expect(journal.split(separator: "\n").count == 6, "3 injections journaled on node1: \(journal)")
    }

    @Test func destructiveRequestsAreRefusedOnMoreHostsAtOnceThanAllowed() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let run = try fleet(
            out, ["-e", "inject_confirm=true", "-e", "inject_serial=3", "-e", "inject_max_destructive_hosts=1"])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status != 0)
        #expect(
            log.contains("would run destructive requests on 3 host(s) at once") && log.contains("at most 1 allowed"),
            "\(log.suffix(3000))")
        for node in 1...2 { #expect(bank(out, node) == "", "node\(node) was injected") }
    }

    /// The role on a bare node (no inject yet), installing and then removing: the package with
    /// apt, then the relocatable tarball under a prefix.
    func installThenRemove(_ out: URL, _ variables: [String]) throws -> String {
        let run = try fleet(
            out, ["--limit", "node1"] + variables.flatMap { ["-e", $0] },
            environment: [
                "FLEET_PREINSTALL": "0",
                "FLEET_PLAYBOOK": TestSupport.packageRoot.appendingPathComponent("ansible/tests/install.yml").path,
            ])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status == 0, "\(run.stderr)\n\(log.suffix(3000))")
        return log
    }

    @Test func theInstallRoleInstallsThePackageOnABareServerAndPurgesIt() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let log = try installThenRemove(
            out, ["install_package=\(try BuiltPackage.get().deb)", "install_remove_after=true"])
        #expect(log.contains("inject 0.1.0 (package 0.1.0-1"), "the role ran the installed inject: \(log.suffix(2000))")
        #expect(
            log.contains("'aer', 'cxl', 'edac', 'ghes', 'mce', 'nmi'"),
            "the role lists every installed backend: \(log.suffix(2000))")
        #expect(log.contains("Remove the package"), "\(log.suffix(2000))")
        let upper = out.appendingPathComponent("nodes/node1/upper").path
        for path in ["usr/bin/inject", "usr/lib/inject", "usr/share/doc/inject", "usr/include/inject"] {
            #expect(!FileManager.default.fileExists(atPath: upper + "/" + path), "\(path) is left after the purge")
        }
    }

    @Test func theInstallRoleUnpacksTheTarballUnderAPrefixAndRemovesExactlyIt() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let log = try installThenRemove(
            out,
            [
                "install_tarball=\(try BuiltPackage.get().tarball)", "install_prefix=/opt/inject",
                "install_remove_after=true",
            ])
        #expect(log.contains("inject 0.1.0 (package 0.1.0-1"), "\(log.suffix(2000))")
        #expect(log.contains("'aer', 'cxl', 'edac', 'ghes', 'mce', 'nmi'"), "\(log.suffix(2000))")
        let prefix = out.appendingPathComponent("nodes/node1/upper/opt/inject").path
        let left = (try? FileManager.default.subpathsOfDirectory(atPath: prefix)) ?? []
        #expect(left.isEmpty, "the removal leaves the prefix empty: \(left.prefix(10))")
        #expect(FileManager.default.fileExists(atPath: prefix), "the prefix itself is the user's and stays")
    }

    @Test func theInstallRoleRefusesTwoSourcesAtOnce() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let package = try BuiltPackage.get()
        let run = try fleet(
            out,
            ["--limit", "node1", "-e", "install_package=\(package.deb)", "-e", "install_tarball=\(package.tarball)"],
            environment: [
                "FLEET_PREINSTALL": "0",
                "FLEET_PLAYBOOK": TestSupport.packageRoot.appendingPathComponent("ansible/tests/install.yml").path,
            ])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status != 0)
        #expect(log.contains("give install_package or install_tarball, not both"), "\(log.suffix(2000))")
        #expect(nodeFile(out, 1, "usr/bin/inject") == nil, "nothing was installed")
    }

    @Test func theCollectionPassesAnsibleLint() throws {
        let venv = try Self.venv()
        let collection = Self.collections + "/ansible_collections/inject/ras"
        let lint = try TestSupport.run(
            "/bin/sh",
            ["-c", "cd \"$1\" && exec \"$2/bin/ansible-lint\" --offline --nocolor", "lint", collection, venv],
            environment: [
                "ANSIBLE_COLLECTIONS_PATH": Self.collections, "PATH": venv + "/bin:/usr/bin:/bin", "HOME": "/tmp",
            ])
        #expect(lint.status == 0, "\(lint.stdout.suffix(3000))\(lint.stderr.suffix(3000))")
        #expect((lint.stdout + lint.stderr).contains("Passed: 0 failure(s), 0 warning(s)"))
    }

    /// The module alone, on this machine (local connection): check mode, validation, confirmation.
    @Test func theModuleChecksRequestsAgainstTheToolsSchemaAndHonoursCheckMode() throws {
        let venv = try Self.venv()
        let tree = try TestSupport.temporaryDirectory("inject-fleet-tree")
        defer { TestSupport.remove(tree) }
        try TestSupport.makeTree(tree, files: HardeningTests.mceFiles)
        func module(_ arguments: String, check: Bool = false) throws -> (status: Int32, result: [String: Any]) {
            let words =
                [
                    "localhost", "-c", "local", "-m", "inject.ras.inject", "-a",
                    arguments
                        + " root=\(tree.path) executable=\(TestSupport.injectExecutable.path) journal=\(tree.path)/journal.jsonl",
                    "-e", "ansible_python_interpreter=/usr/bin/python3", "-o",
                ] + (check ? ["--check"] : [])
            let run = try TestSupport.run(
                venv + "/bin/ansible", words,
                environment: [
                    "ANSIBLE_COLLECTIONS_PATH": Self.collections, "ANSIBLE_NOCOLOR": "1",
                    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": tree.path,
                ])
            // -o prints "localhost | STATE => {json}" on one line.
            let json = run.stdout.range(of: "=> ").map { String(run.stdout[$0.upperBound...]) } ?? "{}"
            return (
                run.status,
                (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [
                    "raw": run.stdout + run.stderr
                ]
            )
        }
        let checked = try module("command=run backend=mce params={\"cpu\":0,\"bank\":1}", check: true)
        #expect(checked.status == 0 && checked.result["changed"] as? Bool == false, "\(checked.result)")
        #expect(((checked.result["cmd"] as? [String]) ?? []).contains("--dry-run"))
        #expect(TestSupport.read(tree, "sys/kernel/debug/mce-inject/bank") == "", "check mode injects nothing")

        let invalid = try module("command=run backend=mce params={\"cpu\":0,\"bank\":99999}")
        #expect(
            invalid.status != 0 && (invalid.result["msg"] as? String ?? "").contains("invalid request"),
            "\(invalid.result)")
        #expect((invalid.result["msg"] as? String ?? "").contains("bank"), "\(invalid.result)")
        #expect(
            TestSupport.read(tree, "sys/kernel/debug/mce-inject/bank") == "", "nothing is injected before validation")

        // A key that is a flag of the tool is refused: it would run unjournaled (issue 39, item 3).
        let flag = try module("command=run backend=mce params={\"cpu\":0,\"bank\":1,\"--no-journal\":\"\"}")
        #expect(
            flag.status != 0 && (flag.result["msg"] as? String ?? "").contains("'--no-journal'"), "\(flag.result)")
        #expect(TestSupport.read(tree, "sys/kernel/debug/mce-inject/bank") == "", "nothing is injected")

        let uncorrected = try module("command=run backend=mce params={\"cpu\":0,\"bank\":1,\"severity\":\"srar\"}")
        #expect(uncorrected.status != 0 && uncorrected.result["rc"] as? Int == 4, "\(uncorrected.result)")

        let done = try module("command=run backend=mce params={\"cpu\":0,\"bank\":1}")
        #expect(
            done.status == 0 && done.result["changed"] as? Bool == true && done.result["injected"] as? Int == 1,
            "\(done.result)")
        #expect((done.result["journal"] as? [String: Any])?["records"] as? Int == 2, "\(done.result)")
        #expect(TestSupport.read(tree, "sys/kernel/debug/mce-inject/bank") == "1")
    }
}
