import Foundation
import InjectTestSupport
import Testing

/// The Ansible collection with real ssh and real Ansible: three managed hosts (sshd in network
/// namespaces of their own), the example playbook, one fleet report.
@Suite(
    "fleet (Ansible)", .serialized,
    .enabled(
        if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"),
        "needs root and openssh-server (.ci/run installs it)"))
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

    func bank(_ out: URL, _ node: Int) -> String? {
        TestSupport.read(out, "trees/node\(node)/sys/kernel/debug/mce-inject/bank")
    }

    @Test func thePlaybookReportsEachHostAndTheHostWithoutMceInjectIsNotApplicable() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let run = try TestSupport.run("/bin/sh", [Self.script, TestSupport.injectExecutable.path, out.path])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status == 0, "\(run.stderr)\n\(log.suffix(3000))")
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
        let journal = TestSupport.read(out, "trees/node1.journal") ?? ""
        #expect(journal.split(separator: "\n").count == 2 && journal.contains("\"outcome\":\"ok\""), "\(journal)")
        let junit = TestSupport.read(out, "fleet-junit.xml") ?? ""
        #expect(
            junit.contains("<testcase classname=\"node3\" name=\"mce\"><skipped message=\"mce-inject: missing"),
            "\(junit)")
        #expect(junit.components(separatedBy: "<testcase ").count == 4)
    }

    @Test func destructiveRequestsAreRefusedOnMoreHostsAtOnceThanAllowed() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        defer { TestSupport.remove(out) }
        let run = try TestSupport.run(
            "/bin/sh",
            [
                Self.script, TestSupport.injectExecutable.path, out.path,
                "-e", "inject_confirm=true", "-e", "inject_serial=3", "-e", "inject_max_destructive_hosts=1",
            ])
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status != 0)
        #expect(
            log.contains("would run destructive requests on 3 host(s) at once") && log.contains("at most 1 allowed"),
            "\(log.suffix(3000))")
        for node in 1...2 { #expect(bank(out, node) == "", "node\(node) was injected") }
    }

    @Test func theInstallRoleInstallsTheReleaseTarballAndChecksThatPluginsLoad() throws {
        let out = try TestSupport.temporaryDirectory("inject-fleet-out")
        let prefix = "/tmp/inject-role-\(UUID().uuidString)"
        defer {
            TestSupport.remove(out)
            TestSupport.remove(URL(fileURLWithPath: prefix))
        }
        let tarball = out.appendingPathComponent("inject.tar.gz").path
        let build = TestSupport.injectExecutable.deletingLastPathComponent().path
        let made = try TestSupport.run(
            "/bin/sh",
            [
                TestSupport.packageRoot.appendingPathComponent("Scripts/install.sh").path,
                "--prefix", prefix, "--build-dir", build, "--tarball", tarball,
            ])
        try #require(made.status == 0, "\(made.stderr)")
        let listing = try TestSupport.run("/bin/tar", ["-tzf", tarball])
        #expect(
            listing.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix(String(prefix.dropFirst())) },
            "no entry outside the prefix")
        let run = try TestSupport.run(
            "/bin/sh",
            [
                Self.script, TestSupport.injectExecutable.path, out.path, "--limit", "node1",
                "-e", "install_tarball=\(tarball)", "-e", "install_prefix=\(prefix)",
            ],
            environment: ProcessInfo.processInfo.environment.merging(
                ["FLEET_PLAYBOOK": TestSupport.packageRoot.appendingPathComponent("ansible/tests/install.yml").path]) {
                    $1
                })
        let log = TestSupport.read(out, "playbook.log") ?? ""
        #expect(run.status == 0, "\(log.suffix(3000))")
        #expect(FileManager.default.isExecutableFile(atPath: prefix + "/bin/inject"))
        #expect(
            log.contains("\"mce\"") && log.contains("\"ghes\""),
            "the role lists the installed backends: \(log.suffix(2000))")
        var info = stat()
        #expect(stat("/tmp", &info) == 0 && info.st_mode & 0o7777 == 0o1777, "unpacking left /tmp as it was")
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
