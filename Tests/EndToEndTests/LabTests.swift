import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost
@testable import InjectLab

/// Injections through every backend into a real lab (QEMU under TCG, Debian's 6.12 from
/// bookworm-backports and the stock 6.1), each checked against the guest kernel's own report. Each
/// test starts its own lab, named after it, through the `inject` command line (restored from its
/// configuration's snapshot once a first boot saved one; the tests about booting say `--cold`), and
/// checks that `lab down` leaves nothing behind.
@Suite("Lab end to end", .serialized, .enabled(if: LabAvailability.qemuCanStart, LabAvailability.skipReason))
struct LabTests {
    /// The environment for `inject`: a real home, so that a non-root kernel cache works.
    /// The guest runs this build's package (made once per test process, ``BuiltPackage``).
    static let environment = [
        "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
        "INJECT_LAB_PACKAGE": (try? BuiltPackage.get().deb) ?? "/the-package-was-not-built.deb",
    ]

    /// Runs `inject` and requires success.
    @discardableResult
    func inject(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try TestSupport.inject(arguments, environment: Self.environment)
        #expect(
            result.status == 0, "inject \(arguments.joined(separator: " ")): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Runs a shell command in the lab's guest.
    @discardableResult
    func guest(_ lab: String, _ command: String) throws -> String {
        try inject(["lab", "exec", "-n", lab, "--", command])
    }

    /// Runs `inject watch ARGUMENTS`, collecting its output as it arrives; once it watches, runs
    /// `trigger`, then stops the watch as soon as `done` holds for its output (or after 27 s).
    func watching(
        _ arguments: [String], trigger: () throws -> Void, until done: (String) -> Bool
    ) async throws -> OutputCollector {
        let watch = Process()
        watch.executableURL = TestSupport.injectExecutable
        watch.arguments = ["watch"] + arguments
        watch.environment = ProcessInfo.processInfo.environment.merging(Self.environment) { $1 }
        let watched = Pipe()
        watch.standardOutput = watched
        let output = OutputCollector()
        watched.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        try watch.run()
        try await Task.sleep(for: .seconds(3))
        try trigger()
        for _ in 0..<270 where watch.isRunning && !done(output.text) {
            try await Task.sleep(for: .milliseconds(100))
        }
        if watch.isRunning { watch.terminate() }
        watch.waitUntilExit()
        watched.fileHandleForReading.readabilityHandler = nil
        return output
    }

    /// Boots the lab `name`, runs `body`, then stops it and checks that nothing is left; with
    /// `runsToTheEnd` false, `body` is allowed to leave the lab stopped.
    func withLab(
        _ name: String, kernel: String, _ arguments: [String] = [], runsToTheEnd: Bool = true,
        _ body: (String) async throws -> Void
    ) async throws {
        let paths = try LabPaths(name: name, environment: Self.environment)
        _ = try BuiltPackage.get()  // why not, when it was not built
        let up = try TestSupport.inject(
            ["lab", "up", "-n", name, "--kernel", kernel] + arguments, environment: Self.environment)
        try #require(up.status == 0, "lab up: \(up.stderr)")
        var failure: (any Error)?
        do { try await body(name) } catch { failure = error }
        let down = try TestSupport.inject(["lab", "down", "-n", name], environment: Self.environment)
        #expect(down.status == 0, "lab down: \(down.stderr)")
        #expect(down.stdout.contains(runsToTheEnd ? "stopped" : "was not running"), "\(down.stdout)")
        #expect(!FileManager.default.fileExists(atPath: paths.guestMemory.string), "guest RAM left in /dev/shm")
        #expect(!FileManager.default.fileExists(atPath: paths.stateDirectory.string), "state directory left")
        let processes = try TestSupport.run("/usr/bin/pgrep", ["-f", "inject-lab-\(name),"])
        #expect(processes.stdout.isEmpty, "QEMU left running: \(processes.stdout)")
        let firmware = try TestSupport.run("/usr/bin/pgrep", ["-f", "lab firmware -n \(name)$"])
        #expect(firmware.stdout.isEmpty, "the EINJ firmware left running: \(firmware.stdout)")
        if let failure { throw failure }
    }

    /// The first page frame at or after `start` that the guest's page allocator holds free (the
    /// buddy flag, bit 10, in /proc/kpageflags), found by the guest itself.
    func freePage(_ lab: String, from start: UInt64) throws -> UInt64 {
        let found = try guest(
            lab,
            "od -An -t u8 -v -j \(start * 8) /proc/kpageflags | "
                + "awk -v base=\(start) '{ for (i = 1; i <= NF; i++) { if (int($i / 1024) % 2 == 1) { print base + n; exit } n++ } }'"
        )
        return try #require(
            UInt64(found.trimmingCharacters(in: .whitespacesAndNewlines)), "no free page after \(start): '\(found)'")
    }

    /// Polls the guest's kernel log until every text appears (10 s at most); returns the log.
    func waitForLog(_ lab: String, _ texts: [String]) throws -> String {
        var log = ""
        for _ in 0..<50 {
            log = try guest(lab, "dmesg")
            if texts.allSatisfy({ log.contains($0) }) { break }
            usleep(200_000)
        }
        for text in texts { #expect(log.contains(text), "guest kernel log lacks '\(text)'") }
        return log
    }

    /// The guest's NMI count (all CPUs).
    func nmiCount(_ lab: String) throws -> Int {
        let line = try guest(lab, "grep '^ *NMI:' /proc/interrupts")
        return line.split(separator: " ").compactMap { Int($0) }.reduce(0, +)
    }

    @Test(arguments: LabKernels.tested) func machineChecksThroughMceInjectAndThroughQEMU(kernel: String) async throws {
        try await withLab("e2e-mce", kernel: kernel) { lab in
            // --verify: the tracefs instance and the kernel log both see it.
            let verified = try inject([
                "run", "mce", "severity=corrected", "cpu=0", "bank=1", "addr=0x1234000", "--verify", "--lab", lab,
            ])
            #expect(verified.contains("verified: 2 of 2 expected kernel events"), "\(verified)")
            _ = try waitForLog(lab, ["Machine Check: 0 Bank 1: 940000000000009f", "ADDR 1234000"])
            let trace = try guest(lab, "cat /sys/kernel/tracing/trace")
            #expect(trace.contains("mce_record: CPU: 0") && trace.contains("MC1: 940000000000009f"))

            // A corrected memory error with a usable address (MISC: physical mode, LSB 12): on 6.12 the
            // kernel's correctable-error collector counts it without printing it (its threshold is
            // 2), so the trace event is the report; the second on the page offlines it. 6.1 has no
            // collector and prints both.
            let hasCollector = LabKernels.hasCollector(kernel)
            let doctor = try inject(["doctor", "--lab", lab])
            #expect(
                doctor.contains(
                    hasCollector ? "present (CEC): action_threshold 2" : "not in this kernel (CONFIG_RAS_CEC unset)"),
                "\(doctor)")
            let collected = ["run", "mce", "severity=corrected", "cpu=0", "bank=1", "addr=0x2345000", "misc=0x8c"]
            let first = try inject(collected + ["--verify", "--lab", lab])
            #expect(
                first.contains(
                    hasCollector ? "verified: 1 of 1 expected kernel events" : "verified: 2 of 2 expected kernel events"
                ),
                "\(first)")
            #expect(!first.contains("MISSING"), "\(first)")
            #expect(first.contains("correctable-error collector (CEC)") == hasCollector, "\(first)")
            try inject(collected + ["--lab", lab])
            let secondLog = try waitForLog(
                lab, ["Bank 1: 9c0000000000009f"] + (hasCollector ? ["Soft-offlining pfn: 0x2345"] : []))
            let printed = secondLog.components(separatedBy: "Bank 1: 9c0000000000009f").count - 1
            #expect(printed == (hasCollector ? 1 : 2), "records printed: \(printed)")

            // The shipped scenario of the collector's threshold: on 6.12 the first error on its page
            // leaves the page alone and the second offlines it (expect=offlined: HWPoison, the
            // kernel's count); on 6.1 no policy acts and its second step fails with what is missing.
            let scenario = TestSupport.packageRoot.appendingPathComponent("Examples/campaigns/cec-threshold.json").path
            func policies(_ arguments: [String]) throws -> (status: Int32, steps: [[String: Any]], text: String) {
                let run = try TestSupport.inject(
                    ["campaign"] + arguments + ["--lab", lab, "--json"], environment: Self.environment)
                let steps =
                    (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["steps"]
                    as? [[String: Any]] ?? []
                return (run.status, steps, run.stdout + run.stderr)
            }
            func acted(_ step: [String: Any]) -> [String] {
                (step["lastPolicies"] as? [[String: Any]] ?? []).map { "\($0["policy"] ?? ""): \($0["line"] ?? "")" }
            }
            let threshold = try policies([scenario])
            #expect(threshold.status == (hasCollector ? 0 : 5), "\(threshold.text)")
            #expect(threshold.steps.count == 2 && acted(threshold.steps[0]).isEmpty, "\(threshold.text)")
            #expect(
                threshold.steps.first?["lastPolicies"] != nil, "the first step's page was watched: \(threshold.text)")
            if hasCollector {
                // The collector acted, and nothing else did; the kernel's soft offline may report
                // how it took the page (7.2, a page-cache page: "Soft offline: 0x5b5b: invalidated").
                let second = acted(threshold.steps[1])
                #expect(
                    second.first?.hasPrefix("kernel CEC: ") == true
                        && second.first?.hasSuffix("RAS: Soft-offlining pfn: 0x5b5b") == true
                        && second.dropFirst().allSatisfy {
                            $0.hasPrefix("kernel soft offline: ") && $0.contains("Soft offline: 0x5b5b:")
                        },
                    "\(threshold.text)")
            } else {
                #expect(acted(threshold.steps[1]).isEmpty, "\(threshold.text)")
                let missing = (threshold.steps.last?["lastFindings"] as? [[String: Any]] ?? []).filter {
                    $0["matched"] as? Bool == false
                }.map { "\($0["expected"] ?? "")" }
                #expect(missing.contains("page 0x5b5b HWPoison"), "\(missing)")
            }
            // A campaign step declaring the kernel's policy (expect=policy:kernel) on another page.
            let page = try freePage(lab, from: 0x5c00)
            let directory = try TestSupport.temporaryDirectory("inject-cec")
            defer { TestSupport.remove(directory) }
            let declared = directory.appendingPathComponent("policy.json").path
            let request =
                #""severity": "corrected", "cpu": "0", "bank": "1", "misc": "0x8c", "addr": "0x"#
                + String(page << 12, radix: 16) + "\""
            try """
            { "name": "declared policy", "steps": [
              { "name": "first", "backend": "mce", "count": 1, "verify": "each", "parameters": { \(request) } },
              { "name": "second", "backend": "mce", "count": 1, "expect": "policy:kernel", "parameters": { \(request) } } ] }
            """.write(toFile: declared, atomically: true, encoding: .utf8)
            let policy = try policies([declared])
            #expect(policy.status == (hasCollector ? 0 : 5), "\(policy.text)")
            let outcome = (policy.steps.last?["lastFindings"] as? [[String: Any]] ?? []).first {
                $0["kind"] as? String == "outcome" && "\($0["expected"] ?? "")".contains("policy acts on page")
            }
            #expect(outcome?["matched"] as? Bool == hasCollector, "\(policy.text)")
            #expect(
                "\(outcome?["evidence"] ?? "")".contains(
                    hasCollector ? "kernel CEC: " : "no policy acted on the page"), "\(policy.text)")

            // QEMU's virtual hardware: a corrected error waits in its bank for the poller, which the
            // lab runs every second (the kernel's default is 5 minutes).
            #expect(
                try guest(lab, "cat /sys/devices/system/machinecheck/machinecheck0/check_interval").trimmingCharacters(
                    in: .whitespacesAndNewlines) == "1")
            let polled = try inject(["run", "mce", "via=qemu", "bank=4", "--verify", "--lab", lab])
            #expect(polled.contains("verified: 2 of 2 expected kernel events"), "\(polled)")
            try inject(["run", "mce", "via=qemu", "severity=corrected", "cpu=0", "bank=2", "addr=0x4000", "--lab", lab])
            _ = try waitForLog(lab, ["Machine Check: 0 Bank 2: 940000000000009f", "ADDR 4000"])

            // A storm: three machine checks, each logged with the full status.
            try inject(["run", "mce", "count=3", "interval=1000", "bank=3", "addr=0x5000", "--lab", lab])
            let storm = try waitForLog(lab, ["Machine Check: 0 Bank 3: 940000000000009f"])
            #expect(storm.components(separatedBy: "Machine Check: 0 Bank 3: 940000000000009f").count - 1 == 3)

            // Where an uncorrected memory error ends: a free page (the buddy flag in /proc/kpageflags)
            // poisoned and recovered.
            let pfn = "0x" + String(try freePage(lab, from: 0x8000), radix: 16)
            try inject(["run", "mce", "via=hwpoison", "pfn=\(pfn)", "--yes", "--lab", lab])
            _ = try waitForLog(lab, ["Memory failure: \(pfn): recovery action for free buddy page: Recovered"])
            #expect(try guest(lab, "cat /sys/kernel/tracing/trace").contains("memory_failure_event: pfn \(pfn)"))

            // A page the kernel itself uses cannot be recovered: the write fails, and says the kernel acted.
            let kernelPage = try inject(["lab", "exec", "-n", lab, "--", "grep -m1 'Kernel code' /proc/iomem"])
            let start =
                UInt64(kernelPage.trimmingCharacters(in: .whitespaces).split(separator: "-").first ?? "", radix: 16)
                ?? 0
            let busy = try TestSupport.inject(
                ["run", "mce", "via=hwpoison", "addr=0x\(String(start, radix: 16))", "--yes", "--lab", lab],
                environment: Self.environment)
            #expect(busy.status == 1 && busy.stderr.contains("the kernel received this trigger"), "\(busy.stderr)")
        }
    }

    @Test(arguments: LabKernels.tested) func firmwareFirstRecordsThroughThePolledAndTheNMISource(kernel: String)
        async throws
    {
        try await withLab("e2e-ghes", kernel: kernel) { lab in
            let layout = FirmwareLayout.lab
            let polled = try #require(layout.sources.first { $0.notification == .polled })
            let nmi = try #require(layout.sources.first { $0.notification == .nmi })
            // The HEST read from the guest, as probe shows it.
            let probe = try inject(["probe", "--lab", lab])
            #expect(
                probe.contains("source \(polled.id): GHES, notified by polled")
                    && probe.contains("source \(nmi.id): GHES, notified by NMI"))

            // `inject watch` streams what the kernel records while another process injects.
            let watch = Process()
            watch.executableURL = TestSupport.injectExecutable
            watch.arguments = ["watch", "--lab", lab, "--json", "--timeout", "6"]
            watch.environment = Self.environment.merging(["INJECT_JOURNAL": "off"]) { $1 }
            let stream = Pipe()
            watch.standardOutput = stream
            watch.standardError = Pipe()
            try watch.run()
            usleep(1_500_000)

            // A memory error aimed at a DIMM location, through the polled source: the block is
            // found through the HEST's status address register.
            try inject([
                "run", "ghes", "source=\(polled.id)", "address=0x2000", "node=1", "module=3", "rank=2", "row=100",
                "column=7", "fru_text=DIMM_A1", "--lab", lab,
            ])
            let watched = String(decoding: stream.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            watch.waitUntilExit()
            let events = watched.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            // The mce backend decodes its own event through the ABI (bank and severity from the status word).
            #expect(
                events.contains {
                    ($0["event"] as? String) == "mce_record" && (($0["decoded"] as? [String: String])?["bank"]) == "255"
                        && (($0["decoded"] as? [String: String])?["severity"]) == "corrected"
                        && ($0["decodedBy"] as? String) == "mce"
                },
                "watch saw no decoded bank-255 record:\n\(watched)")
            #expect(
                events.contains {
                    (($0["fields"] as? [String: String])?["message"] ?? "").contains(
                        "physical_address: 0x0000000000002000")
                })
            _ = try waitForLog(
                lab,
                [
                    "Generic Hardware Error Source: \(polled.id)", "fru_text: DIMM_A1",
                    "physical_address: 0x0000000000002000", "node:1 module:3 rank:2 row:100 column:7",
                ])
            let decoded = try inject([
                "decode", "cper", "--lab", lab, "--at", "0x\(String(polled.blockAddress, radix: 16))",
            ])
            #expect(decoded.contains("physical_address: 0x0000000000002000"), "\(decoded)")

            // A processor error through the NMI source: the nmi backend raises the NMI.
            try inject([
                "run", "ghes", "source=\(nmi.id)", "section=processor", "address=0x5000", "level=2", "--lab", lab,
            ])
            _ = try waitForLog(
                lab,
                [
                    "Generic Hardware Error Source: \(nmi.id)", "section_type: general processor error",
                    "target_address: 0x0000000000005000", "level: 2",
                ])
        }
    }

    @Test(arguments: LabKernels.tested) func aCampaignOfMachineChecksAndGHESRecordsIsVerifiedAndJournaled(
        kernel: String
    ) async throws {
        try await withLab("e2e-campaign", kernel: kernel) { lab in
            let directory = try TestSupport.temporaryDirectory("inject-campaign")
            defer { TestSupport.remove(directory) }
            let journal = directory.appendingPathComponent("journal.jsonl").path
            let junit = directory.appendingPathComponent("junit.xml").path
            let scenario = TestSupport.packageRoot.appendingPathComponent("Examples/campaigns/corrected-storm.json")
                .path
            let result = try TestSupport.inject(
                ["campaign", scenario, "--lab", lab, "--junit", junit, "--json"],
                environment: Self.environment.merging(["INJECT_JOURNAL": journal]) { $1 })
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let steps = try #require(report?["steps"] as? [[String: Any]])
            #expect(steps.map { $0["injected"] as? Int } == [1000, 100])
            // The guest kernel's own records: one mce_record per machine check, and one (bank 255) per
            // GHES memory record, counted in this run's tracefs instance.
            #expect(steps.map { $0["seenEvents"] as? Int } == [1000, 100])
            #expect(steps.map { $0["expectedEvents"] as? Int } == [1000, 100])
            let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
            #expect(lines.filter { $0.contains("\"kind\":\"intent\"") }.count == 1100)
            #expect(
                lines.filter { $0.contains("\"kind\":\"outcome\"") && $0.contains("\"outcome\":\"ok\"") }.count == 1100)
            let xml = try String(contentsOfFile: junit, encoding: .utf8)
            #expect(xml.contains("tests=\"2\" failures=\"0\"") && xml.contains("name=\"GHES memory\""), "\(xml)")

            // Ten thousand corrected machine checks, run in batches inside the guest, every one
            // recorded by the kernel and journaled (500 per second: below the MCE record pool's
            // limit under TCG, which loses records from about 1,000 per second). On the first
            // kernel only: the batching is the guest agent's, and the 1,100 above ran on each kernel.
            guard kernel == LabKernels.tested.first else { return }
            let big = directory.appendingPathComponent("big.json").path
            try """
            { "name": "ten thousand", "seed": 11, "steps": [ { "name": "corrected", "backend": "mce", "count": 10000, "rate": 500,
              "parameters": { "severity": "corrected", "bank": "choice 1|2|3", "addr": "random 0x100000..0x10000000 align 0x1000" } } ] }
            """.write(toFile: big, atomically: true, encoding: .utf8)
            let bigJournal = directory.appendingPathComponent("big.jsonl").path
            let tenThousand = try TestSupport.inject(
                ["campaign", big, "--lab", lab, "--json"],
                environment: Self.environment.merging(["INJECT_JOURNAL": bigJournal]) { $1 })
            #expect(tenThousand.status == 0, "\(tenThousand.stdout)\(tenThousand.stderr)")
            let bigStep = try #require(
                ((try JSONSerialization.jsonObject(with: Data(tenThousand.stdout.utf8)) as? [String: Any])?["steps"]
                    as? [[String: Any]])?.first)
            #expect(
                bigStep["injected"] as? Int == 10000 && bigStep["seenEvents"] as? Int == 10000
                    && bigStep["expectedEvents"] as? Int == 10000, "\(bigStep)")
            #expect((bigStep["batches"] as? Int ?? 0) >= 20 && bigStep["kernelDropped"] == nil, "\(bigStep)")
            let bigLines = try String(contentsOfFile: bigJournal, encoding: .utf8).split(separator: "\n")
            #expect(bigLines.filter { $0.contains("\"kind\":\"intent\"") }.count == 10000)
            #expect(
                bigLines.filter { $0.contains("\"kind\":\"outcome\"") && $0.contains("\"outcome\":\"ok\"") }.count
                    == 10000)
        }
    }

    @Test(arguments: LabKernels.tested) func notificationsRaiseTheGuestsCounters(kernel: String) async throws {
        try await withLab("e2e-nmi", kernel: kernel) { lab in
            // The feature matrix: probe rows, and each backend's default injection verified.
            let coverage = try TestSupport.inject(["coverage", "--run", "--lab", lab], environment: Self.environment)
            for row in [
                "mce      default injection  PASS", "nmi      default injection  PASS",
                "ghes     default injection  PASS",
                "nmi      irq-debugfs        N/A    missing: the kernel lacks GENERIC_IRQ_DEBUGFS",
            ] {
                #expect(coverage.stdout.contains(row), "coverage lacks '\(row)':\n\(coverage.stdout)")
            }
            let before = try nmiCount(lab)  // coverage raised one NMI itself
            let nmi = try inject(["run", "nmi", "signal=nmi", "via=qemu", "--verify", "--lab", lab])
            #expect(nmi.contains("verified: 1 of 1 expected kernel events"), "\(nmi)")
            #expect(try nmiCount(lab) == before + 1)
            _ = try waitForLog(lab, ["NMI received for unknown reason"])

            // The simulated BMC: its watchdog's pre-timeout raises the NMI; chassis power diag is refused.
            try inject(["run", "nmi", "signal=nmi", "via=ipmi", "method=watchdog", "--yes", "--lab", lab])
            #expect(try nmiCount(lab) == before + 2)
            let diag = try TestSupport.inject(["run", "nmi", "via=ipmi", "--lab", lab], environment: Self.environment)
            #expect(diag.status == 1 && diag.stderr.contains("completion code 0xd5"), "\(diag.stderr)")
            #expect(
                try guest(lab, "ipmitool -I open mc watchdog get").contains("Stopped"),
                "the BMC watchdog was left running")

            let sciBefore =
                Int(
                    try guest(lab, "cat /sys/firmware/acpi/interrupts/sci").split(whereSeparator: \.isWhitespace).first
                        ?? "") ?? -1
            try inject(["run", "nmi", "signal=sci", "via=qemu", "--lab", lab])
            usleep(1_000_000)
            let sciAfter =
                Int(
                    try guest(lab, "cat /sys/firmware/acpi/interrupts/sci").split(whereSeparator: \.isWhitespace).first
                        ?? "") ?? -1
            #expect(sciAfter > sciBefore, "SCI count \(sciBefore) -> \(sciAfter)")
            // The power button is an SCI too (a fixed event, no GPE method).
            let button = try inject(["run", "nmi", "signal=sci", "method=powerbutton", "--verify", "--lab", lab])
            #expect(button.contains("verified: 1 of 1"), "\(button)")
        }
    }

    /// PCIe AER on the lab's q35 topology: a correctable error on an endpoint through aer_inject
    /// counted on exactly that device; non-fatal ones through QEMU and through an aer-inject file;
    /// a firmware-first CPER PCIe record naming the device; a fatal one on a root port through
    /// QEMU; each matched by `--verify`. Uncorrectable ones need --yes and do nothing without it.
    @Test(arguments: LabKernels.tested) func pcieErrorsThroughQEMUAerInjectAndFirmware(kernel: String) async throws {
        try await withLab("e2e-aer", kernel: kernel) { lab in
            let probe = try inject(["probe", "aer", "--lab", lab])
            #expect(
                probe.contains("0000:01:00.0") && probe.contains("QEMU id ep0") && probe.contains("native AER"),
                "\(probe)")
            func counter(_ device: String, _ file: String, _ key: String) throws -> Int {
                let text = try guest(lab, "cat /sys/bus/pci/devices/\(device)/\(file)")
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    if words.count == 2, words[0] == key { return Int(words[1]) ?? -1 }
                }
                return -1
            }
            // QEMU's path first: once aer_inject has injected below a root port, the kernel reads
            // that port's AER registers from aer_inject's copy, not from QEMU's device.
            // Uncorrectable needs --yes; refused, nothing reaches the device.
            let refused = try TestSupport.inject(
                ["run", "aer", "device=ep1", "severity=nonfatal", "--lab", lab], environment: Self.environment)
            #expect(refused.status != 0 && refused.stderr.contains("--yes"), "\(refused.stderr)")
            #expect(try counter("0000:02:00.0", "aer_dev_nonfatal", "TOTAL_ERR_NONFATAL") == 0)
            // Non-fatal through QEMU's monitor, with a TLP header.
            let qemu = try inject([
                "run", "aer", "device=ep1", "error=POISON_TLP", "header=0x40000001,0x0100000f,0xfe000000,0", "--yes",
                "--verify", "--lab", lab,
            ])
            #expect(
                qemu.contains("pcie_aer_inject_error ep1 0x00001000") && qemu.contains("verified: 6 of 6"), "\(qemu)")
            #expect(try counter("0000:02:00.0", "aer_dev_nonfatal", "TLP") == 1)
            // Fatal, on a root port (whose registers the kernel reads after a fatal error).
            let fatal = try inject(["run", "aer", "device=rp1", "error=DLP", "--yes", "--verify", "--lab", lab])
            #expect(
                fatal.contains("pcie_aer_inject_error rp1 0x00000010") && !fatal.contains("MISSING")
                    && fatal.contains("verified:"), "\(fatal)")
            #expect(try counter("0000:00:05.0", "aer_dev_fatal", "DLP") == 1)

            // Correctable, on auto: the kernel's aer_inject (QEMU 7.2 drops correctable messages).
            let corrected = try inject(["run", "aer", "device=ep0", "error=RCVR", "--verify", "--lab", lab])
            #expect(
                corrected.contains("device /dev/aer_inject <- 32 bytes") && corrected.contains("verified: 6 of 6"),
                "\(corrected)")
            #expect(
                try counter("0000:01:00.0", "aer_dev_correctable", "RxErr") == 1
                    && counter("0000:01:00.0", "aer_dev_correctable", "TOTAL_ERR_COR") == 1)
            #expect(try counter("0000:02:00.0", "aer_dev_correctable", "TOTAL_ERR_COR") == 0)
            // The device's line of the error: "0000:01:00.0:    [ 0] RxErr" (6.12), "...:   [ 0] RxErr  | ..." (7.3).
            #expect(
                try guest(lab, "dmesg").split(separator: "\n").contains {
                    $0.contains("0000:01:00.0: ") && $0.contains("[ 0] RxErr")
                })
            // Non-fatal through the kernel's aer_inject, from an aer-inject file as the tool reads it.
            let directory = try TestSupport.temporaryDirectory()
            defer { TestSupport.remove(directory) }
            let file = directory.appendingPathComponent("nonfatal")
            try "# aer-inject's own syntax\nAER\nPCI_ID 0000:01:00.0\nUNCOR_STATUS COMP_ABORT\nHEADER_LOG 0 1 2 3\n"
                .write(to: file, atomically: true, encoding: .utf8)
            let fromFile = try inject([
                "run", "aer", "file=\(file.path)", "via=aer-inject", "--yes", "--verify", "--lab", lab,
            ])
            #expect(
                fromFile.contains("device /dev/aer_inject") && fromFile.contains("verified: 6 of 6")
                    && fromFile.contains("Completer Abort"), "\(fromFile)")
            #expect(
                try counter("0000:01:00.0", "aer_dev_nonfatal", "CmpltAbrt") == 1
                    && counter("0000:01:00.0", "aer_dev_nonfatal", "TOTAL_ERR_NONFATAL") == 1)
            // Both paths log the header as given: QEMU's words are byte-swapped to land the same
            // (7.3 prints each word with 0x).
            let headers = try guest(lab, "dmesg | grep 'TLP Header:'").replacingOccurrences(of: "0x", with: "")
            #expect(
                headers.contains("TLP Header: 40000001 0100000f fe000000 00000000")
                    && headers.contains("TLP Header: 00000000 00000001 00000002 00000003"), "\(headers)")

            // Firmware first: a CPER PCIe record through the GHES backend names the device.
            let firmware = try inject([
                "run", "aer", "device=ep0", "error=BAD_TLP", "via=ghes", "--verify", "--lab", lab,
            ])
            #expect(
                firmware.contains("seen     dmesg device_id: 0000:01:00.0") && !firmware.contains("MISSING"),
                "\(firmware)")
            #expect(try counter("0000:01:00.0", "aer_dev_correctable", "BadTLP") == 1)
        }
    }

    /// A lab on QEMU 10 with CXL memory: the kernel's CXL drivers find the device, each kind of
    /// event record, poison (through QEMU, read back from the poison list, cleared by the kernel)
    /// and protocol errors produce their tracepoints with the requested values; QEMU 10 delivers
    /// correctable AER errors that 7.2 dropped; the lab's other paths work on QEMU 10.
    ///
    /// On 6.12 and later, each with its own suite's rasdaemon (``LabKernels/guestSuite(for:)``:
    /// bookworm-backports' 0.8.1 cannot parse 7.3's cxl_general_media and cxl_dram). Protocol
    /// errors reach 7.3's kernel because the lab's platform clears the device's RAS masks, which
    /// 7.3 no longer does (docs/kernels.md).
    @Test(arguments: LabKernels.sixTwelveAndLater)
    func cxlEventsPoisonAndProtocolErrorsOnQEMU10(kernel: String) async throws {
        try await withLab(
            "e2e-cxl", kernel: kernel, ["--with", "cxl", "--with", "rasdaemon"] + LabKernels.guestSuite(for: kernel)
        ) { lab in
            let status = try inject(["lab", "status", "-n", lab])
            #expect(
                status.contains("QEMU emulator version 10") && status.contains(" mem0 ")
                    && status.contains("Internal Errors unmasked"), "\(status)")
            // The platform cleared the RAS masks before the drivers; a CXL lab is never restored.
            #expect(
                status.contains("masks cleared (uncorrectable was 0x0001CFFF, correctable 0x0000007F)")
                    && status.contains("none: the lab boots every time (cxl:"), "\(status)")
            let probe = try inject(["probe", "cxl", "--lab", lab])
            #expect(probe.contains("mem0") && probe.contains("QEMU /machine/peripheral/\(LabCXL.deviceID)"), "\(probe)")
            for (request, traced) in [
                (
                    ["event=general-media", "dpa=0x2000", "channel=1", "rank=2", "log=warning"],
                    "cxl_general_media: memdev=mem0"
                ),
                (["event=dram", "dpa=0x3000", "bank=4", "row=5"], "cxl_dram: memdev=mem0"),
                (["event=memory-module", "log=failure", "temperature=70"], "cxl_memory_module: memdev=mem0"),
                (["event=poison", "dpa=0x4000"], "trace_type=List"),
                (["event=clear-poison", "dpa=0x4000"], "trace_type=Clear"),
                (["event=correctable", "error=mem-data-ecc"], "cxl_aer_correctable_error: memdev=mem0"),
            ] {
                let output = try inject(["run", "cxl"] + request + ["--verify", "--lab", lab])
                #expect(output.contains(traced) && !output.contains("MISSING"), "\(request): \(output)")
                // rasdaemon 0.8 records CXL events in its cxl_* tables; --verify finds each row.
                if request.first == "event=poison" || request.first == "event=general-media" {
                    #expect(output.contains("seen     consumer rasdaemon cxl_"), "\(request): \(output)")
                }
            }
            let media = try inject(["run", "cxl", "event=general-media", "dpa=0x6000", "--verify", "--lab", lab])
            #expect(media.contains("dpa=6000"), "\(media)")
            // Firmware first: a CPER CXL component event through the GHES source reaches cxl_pci.
            let firmware = try inject([
                "run", "cxl", "event=dram", "via=ghes", "dpa=0x7000", "bank=4", "row=5", "log=warning", "--verify",
                "--lab", lab,
            ])
            #expect(
                firmware.contains("section_type: CXL DRAM Event") && firmware.contains("cxl_dram: memdev=mem0")
                    && !firmware.contains("MISSING"), "\(firmware)")
            // Firmware first: a CPER CXL protocol error section, printed with the device and its RAS
            // registers (uncorrectable: the kernel prints at most two corrected records in 5 s, and
            // the DRAM record above and the ghes check below are corrected ones).
            let protocolRecord = try inject([
                "run", "cxl", "event=uncorrectable", "error=internal", "via=ghes", "--yes", "--verify", "--lab", lab,
            ])
            #expect(
                protocolRecord.contains("section_type: CXL Protocol Error")
                    && protocolRecord.contains("cxl_ras_uncor_status: 0x00004000")
                    && !protocolRecord.contains("MISSING"), "\(protocolRecord)")
            // EINJ's CXL types: the kernel's einj asks the lab's firmware, which sets the error in the
            // device below the named port; the device reports it natively.
            for (error, status) in [
                ("mem-data-ecc", "Memory Data ECC Error"), ("cache-data-ecc", "Cache Data ECC Error"),
            ] {
                let einj = try inject([
                    "run", "cxl", "event=correctable", "error=\(error)", "via=einj", "--verify", "--lab", lab,
                ])
                #expect(
                    einj.contains("einj/param4 = \"0xc0000\"") && einj.contains("status: '\(status)'")
                        && einj.contains("verified: 2 of 2"), "\(einj)")
            }
            #expect(
                try inject(["lab", "status", "-n", lab]).contains(
                    "delivered CXL.cache correctable cache-data-ecc below 0000:0c:00.0"))
            // QEMU 10 delivers a correctable AER message (7.2 dropped it).
            let aer = try inject(["run", "aer", "device=ep0", "error=RCVR", "via=qemu", "--verify", "--lab", lab])
            #expect(aer.contains("pcie_aer_inject_error -c ep0") && aer.contains("verified: 7 of 7"), "\(aer)")
            // The rest of the lab on QEMU 10.
            #expect(
                try inject(["run", "mce", "severity=corrected", "--verify", "--lab", lab]).contains("verified: 2 of 2"))
            #expect(
                !(try inject(["run", "ghes", "source=0", "address=0x2000", "--verify", "--lab", lab]).contains(
                    "MISSING")))
            #expect(try inject(["run", "nmi", "signal=sci", "--verify", "--lab", lab]).contains("verified: 2 of 2"))
            let fatal = try inject([
                "run", "cxl", "event=uncorrectable", "error=mem-data-ecc", "--yes", "--verify", "--lab", lab,
            ])
            #expect(
                fatal.contains("cxl_aer_uncorrectable_error: memdev=mem0") && fatal.contains("verified: 1 of 1"),
                "\(fatal)")
        }
    }

    /// An mce-inject input file with two corrected records on CPUs 0 and 1 of a 2-vCPU lab: the guest
    /// logs each with the bank and status word mce-inject's grammar gives.
    @Test func anMceInjectFileIsInjectedRecordByRecord() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let file = directory.appendingPathComponent("corrected")
        try Data(
            "# two corrected machine checks\nCPU 0 BANK 1\nSTATUS CORRECTED\nADDR 0xabcd\n#\nCPU 1 BANK 2\nSTATUS CORRECTED\nADDR 0x1234\n"
                .utf8
        ).write(to: file)
        try await withLab("e2e-mcefile", kernel: LabKernels.tested.first!, ["--cpus", "2"]) { lab in
            let journalFile = directory.appendingPathComponent("journal.jsonl").path
            let run = try inject([
                "run", "mce", "file=\(file.path)", "--verify", "--journal", journalFile, "--lab", lab,
            ])
            #expect(run.contains("verified: 2 of 2 expected kernel events"), "\(run)")
            _ = try waitForLog(
                lab,
                [
                    "CPU 0: Machine Check: 0 Bank 1: 9400000000000000",
                    "CPU 1: Machine Check: 0 Bank 2: 9400000000000000",
                    "ADDR abcd", "ADDR 1234",
                ])
            let journal = try inject(["journal", "--journal", journalFile, "--json"])
            #expect(
                journal.contains("file=\(file.path)") && !journal.contains("STATUS CORRECTED"),
                "the journal names the file, not its text")
        }
    }

    /// A campaign of mce-inject case files in mce-test's shape, each with its declared outcome: an
    /// action-optional record takes its page out of use, a fatal one panics the guest (the panic
    /// line is the matched outcome, the lab boots again by itself), and the case after it is
    /// verified on the restarted guest; the journal and the JUnit report hold every case.
    @Test func aCampaignOfCaseFilesSurvivesAFatalOne() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        try await withLab("e2e-panic", kernel: LabKernels.tested.first!, runsToTheEnd: false) { lab in
            // expect=recovered: the kernel's memory-failure handling of that page says Recovered. (First:
            // after a hardware memory failure, such as the one below, the kernel refuses to unpoison.)
            let free = "0x" + String(try freePage(lab, from: 0x6000), radix: 16)
            let recovered = try inject([
                "run", "mce", "via=hwpoison", "pfn=\(free)", "expect=recovered", "--verify", "--yes", "--lab", lab,
            ])
            #expect(
                recovered.contains("seen     trace ras:memory_failure_event pfn=\(free) result=Recovered")
                    && recovered.contains("seen     counter proc/meminfo#HardwareCorrupted +4"), "\(recovered)")
            // Unpoisoning gives the page back: the kernel's count of corrupted memory drops by it.
            let unpoisoned = try inject([
                "run", "mce", "via=hwpoison", "pfn=\(free)", "unpoison=true", "--verify", "--lab", lab,
            ])
            #expect(
                unpoisoned.contains("seen     counter proc/meminfo#HardwareCorrupted -4 exactly")
                    && unpoisoned.contains("Unpoison: \(free): software-unpoisoned page"), "\(unpoisoned)")

            // expect=sigbus: a victim started in the guest gives the request its page; the
            // action-optional machine check takes the page, and the victim's next read kills it.
            let sigbus = try inject([
                "run", "mce", "via=qemu", "severity=srao", "mca_code=0xc0", "misc=0x8c", "expect=sigbus", "--verify",
                "--yes", "--lab", lab,
            ])
            #expect(
                sigbus.contains("MCE: Killing inject-victim:")
                    && sigbus.contains("due to hardware memory corruption fault at 10000000000"), "\(sigbus)")
            #expect(
                sigbus.contains("recovery action for dirty LRU page: Recovered") && sigbus.contains("verified: 6 of 6"),
                "\(sigbus)")
            // The signal as the victim got it (the kernel's si_code and the poisoned extent), and
            // the page in the kernel's count of corrupted memory.
            #expect(
                sigbus.contains("seen     outcome SIGBUS with BUS_MCEERR_AR or _AO at the victim's page")
                    && sigbus.contains("BUS_MCEERR_AR (4), si_addr 0x10000000000, si_addr_lsb 12"), "\(sigbus)")
            #expect(sigbus.contains("seen     counter proc/meminfo#HardwareCorrupted +4"), "\(sigbus)")
            // Killed (a zombie until the guest's init reaps it), not left running.
            let alive = try guest(
                lab,
                "for p in $(pgrep -x inject-victim); do grep -q '^State:.*Z' /proc/$p/status || echo alive $p; done; echo checked"
            )
            #expect(alive.contains("checked") && !alive.contains("alive"), "no victim is left running: \(alive)")

            let pfn = try freePage(lab, from: 0x7000)
            let cases = [
                (
                    "1-srao/data/srao_mem_scrub",
                    "# expect: offlined\nCPU 0 BANK 2\nSTATUS UNCORRECTED SRAO 0xc0\nMCGSTATUS RIPV MCIP\nADDR 0x\(String(pfn << 12, radix: 16))\nMISC 0x8c\n"
                ),
                ("2-fatal/data/fatal", "# expect: panic:machine check\nCPU 0 BANK 1\nSTATUS FATAL\nRIP 12343434\n"),
                ("3-after/data/corrected", "CPU 0 BANK 3\nSTATUS CORRECTED\nADDR 0x5678\n"),
            ]
            for (name, text) in cases {
                let file = directory.appendingPathComponent("soft-inj/\(name)")
                try FileManager.default.createDirectory(
                    at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file)
            }
            let scenario = directory.appendingPathComponent("campaign.json")
            try Data(
                #"{"name": "soft-inj", "steps": [{"backend": "mce", "cases": "soft-inj/*/data", "expect": "logged", "parameters": {"via": "qemu"}}]}"#
                    .utf8
            )
            .write(to: scenario)
            let journal = directory.appendingPathComponent("journal.jsonl").path
            let junit = directory.appendingPathComponent("junit.xml").path
            let run = try inject([
                "campaign", scenario.path, "--yes", "--junit", junit, "--journal", journal, "--lab", lab,
            ])
            #expect(run.components(separatedBy: "PASS").count - 1 == 3, "\(run)")

            // The guest that ran the first two cases is gone: the report and the journal keep the evidence.
            let report = try String(contentsOfFile: junit, encoding: .utf8)
            for (name, _) in cases { #expect(report.contains("name=\"soft-inj/\(name)\""), "\(report)") }
            #expect(report.contains("failures=\"0\""), "\(report)")
            #expect(
                report.contains(
                    "outcome kernel panic with &apos;machine check&apos;: seen (Kernel panic - not syncing: Fatal")
                    || report.contains(
                        "outcome kernel panic with 'machine check': seen (Kernel panic - not syncing: Fatal"),
                "\(report)")
            #expect(report.contains("outcome no kernel panic: seen"), "\(report)")

            let records = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(JournalRecord.self, from: Data($0.utf8)) }
            #expect(records.map(\.kind) == [.intent, .outcome, .intent, .outcome, .intent, .outcome], "\(records)")
            #expect(records.filter { $0.kind == .outcome }.map(\.outcome) == [.ok, .ok, .ok], "\(records)")
            #expect(
                records.map(\.expect) == [
                    "offlined", "offlined", "panic:machine check", "panic:machine check", "logged", "logged",
                ])
            let fatal = records[3]
            #expect(
                fatal.panic?.hasPrefix("Kernel panic - not syncing: Fatal") == true && fatal.restarted == true,
                "\(fatal)")

            let status = try JSONDecoder().decode(
                [LabRecord].self, from: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            #expect(status.first?.panics == 1 && status.first?.restarts == 1, "\(status)")
            #expect(status.first?.runState == "running")
            let kept = try #require(status.first?.lastPanicConsole)
            #expect(
                try String(contentsOfFile: kept, encoding: .utf8).contains("Machine Check Exception"),
                "the console of the run that ended is kept")

            // A restart that fails (here: the saved QEMU command line is broken) ends the run with
            // an error, not 0 (issue 39, item 20).
            let state = URL(fileURLWithPath: try #require(status.first?.qmpSocket)).deletingLastPathComponent()
            try Data("/nonexistent/qemu-system-x86_64\u{0}".utf8).write(to: state.appendingPathComponent("qemu.argv"))
            let lost = try TestSupport.inject(
                ["run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--yes", "--lab", lab],
                environment: Self.environment)
            #expect(lost.status == 2, "\(lost.status) \(lost.stdout)")
            #expect(lost.stderr.contains("did not come back after the panic"), "\(lost.stderr)")
        }
    }

    /// 6.12 and 7.3 with the lab's ghes_edac and four SMBIOS DIMMs: a record lands on exactly the DIMM named.
    @Test(arguments: LabKernels.sixTwelveAndLater)
    func edacCountersMoveOnExactlyTheDIMMNamed(kernel: String) async throws {
        try await withLab("e2e-edac", kernel: kernel, ["--with", "node_exporter"]) { lab in
            let status = try JSONDecoder().decode(
                [LabRecord].self, from: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            #expect(
                status.first?.edacCounters == true && status.first?.edac?.contains("ghes_edac") == true, "\(status)")
            // The guest's own exporter, started as its Debian unit starts it (as the prometheus user).
            let consumers = status.first?.consumers ?? []
            #expect(
                consumers.contains { $0.hasPrefix("prometheus-node-exporter 1.") && $0.contains("running, pid") }
                    && consumers.contains { $0.hasPrefix("rasdaemon 0.8.") && $0.hasSuffix("not running") }
                    && consumers.contains { $0.hasPrefix("sqlite3 3.") }, "\(consumers)")
            #expect(try guest(lab, "stat -c %U /proc/$(pidof prometheus-node-exporter)").contains("prometheus"))
            func exported() throws -> String {
                try guest(
                    lab,
                    "busybox wget -q -O - http://127.0.0.1:9100/metrics | grep '^node_edac_correctable_errors_total'")
            }
            #expect(try exported().contains("node_edac_correctable_errors_total{controller=\"0\"} 0"))
            let probe = try inject(["probe", "edac", "--lab", lab])
            for label in ["P0_CH_A DIMM_A1", "P0_CH_A DIMM_A2", "P0_CH_B DIMM_B1", "P0_CH_B DIMM_B2"] {
                #expect(probe.contains("'\(label)'"), "\(probe)")
            }
            func counts() throws -> [Int] {
                try guest(lab, "cat /sys/devices/system/edac/mc/mc0/dimm[0-3]/dimm_ce_count").split(separator: "\n")
                    .compactMap { Int($0) }
            }
            #expect(try counts() == [0, 0, 0, 0])
            let run = try inject(["run", "edac", "dimm=DIMM_B1", "count=3", "--verify", "--lab", lab])
            #expect(run.contains("verified: 10 of 10 expected kernel events"), "\(run)")
            #expect(run.contains("mc_event: 1 Corrected error: unknown error on P0_CH_B DIMM_B1"), "\(run)")
            #expect(try counts() == [0, 0, 3, 0], "only DIMM_B1 (dimm2) may move")
            // The exporter's controller total moved as the kernel's did; its per-csrow metric did not
            // (ghes_edac counts per DIMM only; 7.3 has no csrow files at all), and the report says so
            // and why.
            #expect(
                run.contains("seen     consumer node_exporter node_edac_correctable_errors_total{controller=\"0\"} +3")
                    && run.contains("0 -> 3; the kernel's mc0/ce_count +3"), "\(run)")
            let hasCsrows = try guest(lab, "ls /sys/devices/system/edac/mc/mc0").contains("csrow")
            #expect(
                (hasCsrows
                    ? run.contains("did not move on any csrow") && run.contains("mc0 is ghes_edac")
                    : run.contains("this kernel has no csrow files"))
                    && run.contains("the consumer (node_exporter) recorded 1 of 1"), "\(run)")
            #expect(run.contains("pipeline: kernel trace 1/1") && run.contains("-> node_exporter 1/1 ("), "\(run)")
            // By address: 0x9000000 is in DIMM_A2's SMBIOS range (128...256 MiB of 512).
            let byAddress = try inject(["run", "edac", "address=0x9000000", "--verify", "--lab", lab])
            #expect(byAddress.contains("label=\"P0_CH_A DIMM_A2\""), "\(byAddress)")
            #expect(try counts() == [0, 1, 3, 0])
            let mc = try guest(
                lab, "cat /sys/devices/system/edac/mc/mc0/ce_count /sys/devices/system/edac/mc/mc0/ce_noinfo_count")
            #expect(mc.split(separator: "\n").compactMap { Int($0) } == [4, 0], "\(mc)")
            #expect(try exported().contains("node_edac_correctable_errors_total{controller=\"0\"} 4"))
            // watch shows the exporter's metric as it changes.
            let output = try await watching(["--lab", lab, "--consumer", "node_exporter", "--timeout", "20"]) {
                try inject(["run", "edac", "dimm=DIMM_B1", "--lab", lab])
            } until: {
                $0.contains("node_exporter:node_edac_correctable")
            }
            #expect(
                output.text.contains("[recorded]  node_exporter:node_edac_correctable_errors_total")
                    && output.text.contains("controller=0 delta=1 value=5"), "\(output.text)")
            // A campaign's step gets the exporter's column: the errors it counted of the kernel's.
            let directory = try TestSupport.temporaryDirectory("inject-exporter")
            defer { TestSupport.remove(directory) }
            let scenario = directory.appendingPathComponent("dimms.json").path
            try
                #"{"name": "dimm errors", "seed": 5, "steps": [{"name": "DIMM_B1", "backend": "edac", "count": 3, "rate": 4, "parameters": {"dimm": "DIMM_B1"}}]}"#
                .write(toFile: scenario, atomically: true, encoding: .utf8)
            let junit = directory.appendingPathComponent("junit.xml").path
            let campaign = try TestSupport.inject(
                ["campaign", scenario, "--lab", lab, "--json", "--junit", junit], environment: Self.environment)
            #expect(campaign.status == 0, "\(campaign.stdout)\(campaign.stderr)")
            let step =
                ((try? JSONSerialization.jsonObject(with: Data(campaign.stdout.utf8)) as? [String: Any])?["steps"]
                as? [[String: Any]])?.first ?? [:]
            #expect(step["exporterExpected"] as? Int == 3 && step["exporterSeen"] as? Int == 3, "\(step)")
            #expect(
                (try String(contentsOfFile: junit, encoding: .utf8)).contains(
                    "<property name=\"exporter_expected\" value=\"3\"/><property name=\"exporter_seen\" value=\"3\"/>"))
            #expect(try counts() == [0, 1, 7, 0])
            // ras-mc-ctl (rasdaemon's report of the EDAC counters, by DIMM label) agrees with them.
            var reported: [String: Int] = [:]
            for line in try guest(lab, "ras-mc-ctl --error-count").split(separator: "\n").dropFirst() {
                let columns = line.split(separator: "\t")
                if columns.count == 3, let ce = Int(columns[1]) { reported[String(columns[0])] = ce }
            }
            #expect(
                reported == ["P0_CH_A DIMM_A1": 0, "P0_CH_A DIMM_A2": 1, "P0_CH_B DIMM_B1": 7, "P0_CH_B DIMM_B2": 0],
                "\(reported)")
        }
    }

    /// 6.1 has no ghes_edac to add: a DIMM cannot be targeted, and says why; a record still reaches
    /// the kernel's GHES report.
    @Test(.enabled(if: LabKernels.tested.contains("stock")))
    func edacOnTheStockKernelIsRefusedWithTheReasonAndGHESStillReports() async throws {
        try await withLab("e2e-edac", kernel: "stock") { lab in
            let status = try JSONDecoder().decode(
                [LabRecord].self, from: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            #expect(
                status.first?.edacCounters == false && status.first?.edac?.contains("part of ghes.c") == true,
                "\(status)")
            let refused = try TestSupport.inject(
                ["run", "edac", "dimm=DIMM_A1", "--lab", lab], environment: Self.environment)
            #expect(
                refused.status != 0 && refused.stderr.contains("no EDAC memory controller mc0 is registered")
                    && refused.stderr.contains("--kernel bookworm-backports"), "\(refused.stderr)")
            let polled = try #require(FirmwareLayout.lab.sources.first { $0.notification == .polled })
            // Without a controller the plan expects the GHES report (with the DIMM's location) and no counter.
            try inject([
                "run", "edac", "via=ghes", "source=\(polled.id)", "address=0x3000", "node=0", "card=1", "module=2",
                "rank=1",
                "--verify", "--lab", lab,
            ])
            _ = try waitForLog(
                lab,
                [
                    "Generic Hardware Error Source: \(polled.id)", "physical_address: 0x0000000000003000",
                    "node:0 card:1 module:2 rank:1",
                ])
        }
    }

    /// The kernel's own einj module against the lab's EINJ firmware: every path a server offers.
    @Test(arguments: LabKernels.tested) func einjInjectsThroughTheKernelsOwnModule(kernel: String) async throws {
        try await withLab("e2e-einj", kernel: kernel, ["--einj-types", "0x1,0x8,0x10,0x80"]) { lab in
            #expect(try guest(lab, "dmesg").contains("EINJ: Error INJection is initialized."))
            // The platform offers what this lab was told to, and the plugin refuses the rest.
            let offered = try guest(lab, "cat /sys/kernel/debug/apei/einj/available_error_type")
            #expect(
                offered.split(separator: "\n").map { $0.prefix(10) } == [
                    "0x00000001", "0x00000008", "0x00000010", "0x00000080",
                ], "\(offered)")
            let pcieCorrected = try TestSupport.inject(
                ["run", "ghes", "via=einj", "section=pcie", "bus=0", "--lab", lab], environment: Self.environment)
            #expect(
                pcieCorrected.status == 3 && pcieCorrected.stderr.contains("not offered by this platform"),
                "\(pcieCorrected.stderr)")

            // Corrected memory, and a processor error on CPU 0: each reported by the polled source.
            try inject(["run", "ghes", "via=einj", "address=0x3456000", "--verify", "--lab", lab])
            try inject(["run", "ghes", "via=einj", "section=processor", "param3=0", "--verify", "--lab", lab])
            // Uncorrected memory on a free page ends in memory_failure of that page; a PCIe error names the device.
            let page = try freePage(lab, from: 0x8000)
            try inject([
                "run", "ghes", "via=einj", "severity=recoverable", "address=0x\(String(page << 12, radix: 16))",
                "--yes", "--verify", "--lab", lab,
            ])
            try inject([
                "run", "ghes", "via=einj", "section=pcie", "severity=recoverable", "bus=0", "pcie_device=3", "--yes",
                "--verify", "--lab", lab,
            ])

            // An address outside RAM fails the write with EINVAL, and nothing is reported.
            let before = try guest(lab, "dmesg | grep -c 'Hardware error from APEI' || true")
            let outside = try TestSupport.inject(
                ["run", "ghes", "via=einj", "address=0x7ff00000000", "--lab", lab], environment: Self.environment)
            #expect(outside.status == 1 && outside.stderr.contains("Invalid argument"), "\(outside.stderr)")
            // The firmware refuses a CPU that does not exist (6.1 reports any refusal as EBUSY).
            let refused = try TestSupport.inject(
                ["run", "ghes", "via=einj", "section=processor", "param3=5", "--lab", lab],
                environment: Self.environment)
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(
                try inject(["lab", "status", "-n", lab]).contains("last: refused: APIC ID 5 is not one of the 1 CPU(s)")
            )
            usleep(1_000_000)
            #expect(
                try guest(lab, "dmesg | grep -c 'Hardware error from APEI' || true") == before,
                "a refused injection was reported")

            // notrigger: held until the trigger table's doorbell rings, by hand as a script would.
            sleep(5)  // the kernel prints 2 corrected records per 5 s
            try guest(
                lab,
                "cd /sys/kernel/debug/apei/einj && echo 0x8 > error_type && echo 0x2 > flags && echo 0x4444000 > param1 "
                    + "&& echo 0xfffffffffffff000 > param2 && echo 1 > notrigger && echo 1 > error_inject")
            usleep(1_500_000)
            #expect(
                !(try guest(lab, "dmesg")).contains("physical_address: 0x0000000004444000"),
                "reported before its trigger")
            #expect(try inject(["lab", "status", "-n", lab]).contains("one waiting for its trigger"))
            try guest(lab, "busybox devmem 0x100F2000 64 1")
            _ = try waitForLog(lab, ["physical_address: 0x0000000004444000"])
            #expect(
                try inject(["lab", "status", "-n", lab]).contains("5 accepted, 1 refused, 5 delivered"), "the counts")

            // The firmware emulator dies: status says so, and an EINJ run blames it, not the kernel.
            let status = try JSONSerialization.jsonObject(
                with: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            let firmware = try #require(((status as? [[String: Any]])?.first?["firmwarePid"] as? Int).map { pid_t($0) })
            #expect(kill(firmware, SIGKILL) == 0)
            usleep(300_000)
            #expect(try inject(["lab", "status", "-n", lab]).contains("firmware pid \(firmware): NOT RUNNING"))
            let orphaned = try TestSupport.inject(
                ["run", "ghes", "via=einj", "address=0x3457000", "--lab", lab], environment: Self.environment)
            #expect(orphaned.status != 0, "\(orphaned.stdout)")
            #expect(
                orphaned.stderr.contains("EINJ firmware emulator (pid \(firmware)) is not running")
                    && !orphaned.stderr.contains("the kernel received this trigger"), "\(orphaned.stderr)")
        }
    }

    /// GHES notified by SCI: the lab's DSDT gives the kernel a Hardware Error Device, and the host
    /// raises the SCI with a PCI hotplug it undoes.
    @Test(arguments: LabKernels.tested) func ghesRecordsThroughTheSCISource(kernel: String) async throws {
        try await withLab("e2e-sci", kernel: kernel) { lab in
            let sci = try #require(FirmwareLayout.lab.sources.first { $0.notification == .sci })
            #expect(try guest(lab, "dmesg").contains("ACPI: Table Upgrade: override [DSDT"))
            // Bound by hed.c: an ACPI driver on 6.1 and 6.12, a platform driver on 7.3.
            #expect(
                try guest(
                    lab,
                    "ls /sys/bus/acpi/drivers/hardware_error_device /sys/bus/platform/drivers/acpi-hardware-error-device 2>/dev/null || true"
                )
                .contains("PNP0C33:00"))
            #expect(
                try inject(["probe", "ghes", "--lab", lab]).contains(
                    "notified by SCI, status address register 0x\(String(sci.registerAddress, radix: 16)): can be raised"
                ))
            let before =
                Int(
                    try guest(lab, "cat /sys/firmware/acpi/interrupts/sci").trimmingCharacters(
                        in: .whitespacesAndNewlines)) ?? -1
            try inject(["run", "ghes", "source=\(sci.id)", "address=0x2345000", "--verify", "--lab", lab])
            _ = try waitForLog(
                lab,
                [
                    "Hardware error from APEI Generic Hardware Error Source: \(sci.id)",
                    "physical_address: 0x0000000002345000",
                ])
            let after =
                Int(
                    try guest(lab, "cat /sys/firmware/acpi/interrupts/sci").trimmingCharacters(
                        in: .whitespacesAndNewlines)) ?? -1
            #expect(after > before, "SCI count \(before) -> \(after)")

            // 20 in a row, each counted by its bank-255 machine check (the printed report is rate-limited).
            let directory = try TestSupport.temporaryDirectory()
            defer { TestSupport.remove(directory) }
            let scenario = directory.appendingPathComponent("sci.json")
            try
                #"{"name": "sci", "steps": [{"name": "SCI records", "backend": "ghes", "count": 20, "verify": "count", "parameters": {"source": "\#(sci.id)", "address": "random 0x1000000..0x2000000 align 0x1000"}}]}"#
                .write(to: scenario, atomically: true, encoding: .utf8)
            let campaign = try inject(["campaign", scenario.path, "--json", "--lab", lab])
            let report = try JSONSerialization.jsonObject(with: Data(campaign.utf8)) as? [String: Any]
            let step = (report?["steps"] as? [[String: Any]])?.first
            #expect(step?["injected"] as? Int == 20 && step?["seenEvents"] as? Int == 20, "\(campaign)")

            // The trigger leaves no device behind.
            sleep(3)
            #expect(
                try guest(lab, "grep -l 0x100e /sys/bus/pci/devices/*/device || true").trimmingCharacters(
                    in: .whitespacesAndNewlines
                ).isEmpty)
        }
    }

    /// The consumer SREs watch: rasdaemon started by the lab (buffer_percent 0 first) records an
    /// injected machine check in its database, and `--verify` finds the row; started with the
    /// pitfall (buffer_percent 50), `--verify` reports the consumer's miss with the reason and exit 5.
    @Test(arguments: LabKernels.tested) func rasdaemonStartedByTheLabRecordsAMachineCheck(kernel: String) async throws {
        try await withLab("e2e-rasd", kernel: kernel, ["--with", "rasdaemon"]) { lab in
            struct Report: Decodable {
                struct Status: Decodable {
                    struct Run: Decodable {
                        var trigger: String
                        var environment: [String: String]
                    }
                    var pid: Int?
                    var bufferPercent: Int?
                    var rows: [String: Int]
                    var triggerRuns: [Run]
                }
                var running: Bool
                var status: Status
            }
            func status() throws -> Report {
                try JSONDecoder().decode(
                    Report.self, from: Data(try inject(["lab", "rasdaemon", "status", "-n", lab, "--json"]).utf8))
            }
            let before = try status()
            #expect(before.running && before.status.bufferPercent == 0, "\(before)")
            #expect(before.status.rows["mce_record"] == 0, "\(before)")
            // Its triggers, pointed at scripts that record what they get: a memory failure runs
            // MEM_FAIL_TRIGGER with the page and the kernel's result (rasdaemon restarts to read them).
            try inject(["lab", "rasdaemon", "start", "-n", lab, "--record-triggers"])
            let poisoned = "0x" + String(try freePage(lab, from: 0x9000), radix: 16)
            try inject(["run", "mce", "via=hwpoison", "pfn=\(poisoned)", "--yes", "--lab", lab])
            var runs: [Report.Status.Run] = []
            for _ in 0..<20 where runs.isEmpty {
                runs = try status().status.triggerRuns
                if runs.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(runs.map(\.trigger) == ["MEM_FAIL_TRIGGER"], "\(runs)")
            #expect(
                runs.first?.environment["PFN"] == poisoned && runs.first?.environment["ACTION_RESULT"] == "Recovered"
                    && runs.first?.environment["TIMESTAMP"]?.isEmpty == false
                    && runs.first?.environment["PAGE_TYPE"]?.isEmpty == false, "\(runs)")
            let shown = try inject(["lab", "rasdaemon", "status", "-n", lab])
            #expect(shown.contains("MEM_FAIL_TRIGGER: ACTION_RESULT=Recovered PAGE_TYPE="), "\(shown)")
            // watch shows rasdaemon's row beside the kernel's event.
            // The watch is stopped once both lines are there (how soon is the consumer-latency
            // benchmark's business, not this test's).
            let output = try await watching(["--lab", lab, "--consumer", "rasdaemon", "--json", "--timeout", "30"]) {
                try inject(["run", "mce", "cpu=0", "bank=3", "--lab", lab])
            } until: { text in
                text.contains("\"event\":\"mce_record\"") && text.contains("\"event\":\"rasdaemon:mce_record\"")
            }
            let lines = output.text.split(separator: "\n")
            let kernelLine = lines.firstIndex { $0.contains("\"event\":\"mce_record\"") }
            let consumerLine = lines.firstIndex { $0.contains("\"event\":\"rasdaemon:mce_record\"") }
            #expect(kernelLine != nil && consumerLine != nil, "\(lines)")
            #expect(consumerLine.map { lines[$0].contains("\"bank\":\"3\"") } == true, "\(lines)")
            var rows = 0
            for _ in 0..<20 where rows == 0 {
                rows = try status().status.rows["mce_record"] ?? 0
                if rows == 0 { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(rows == 1, "rasdaemon recorded the machine check")
            // --verify looks the event up in rasdaemon's database too.
            let verified = try TestSupport.inject(
                ["run", "mce", "cpu=0", "bank=2", "--verify", "--lab", lab], environment: Self.environment)
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            #expect(
                verified.stdout.contains("seen     consumer rasdaemon mce_record row")
                    && verified.stdout.contains(
                        "MEMORY CONTROLLER RD_CHANNELunspecified_ERR Transaction: Memory read error"),
                "\(verified.stdout)")
            #expect(verified.stdout.contains("the consumer (rasdaemon) recorded 1 of 1"), "\(verified.stdout)")
            // A firmware-first memory record reaches rasdaemon too (the kernel turns a corrected
            // GHES memory error into a machine-check record, bank 255).
            let ghes = try TestSupport.inject(
                ["run", "ghes", "source=0", "address=0x5000", "--verify", "--lab", lab], environment: Self.environment)
            #expect(
                ghes.status == 0 && ghes.stdout.contains("seen     consumer rasdaemon mce_record row"),
                "\(ghes.stdout)\(ghes.stderr)")
            // A campaign counts what the kernel emitted and what rasdaemon recorded, separately.
            let directory = try TestSupport.temporaryDirectory("inject-rasd")
            defer { TestSupport.remove(directory) }
            let scenario = directory.appendingPathComponent("storm.json")
            try
                #"{"name": "consumer storm", "seed": 3, "steps": [{"name": "corrected MCE", "backend": "mce", "count": 20, "rate": 50, "parameters": {"cpu": "0", "bank": "choice 1|2|3|4"}}]}"#
                .write(to: scenario, atomically: true, encoding: .utf8)
            let junit = directory.appendingPathComponent("junit.xml").path
            let campaign = try TestSupport.inject(
                ["campaign", scenario.path, "--lab", lab, "--junit", junit, "--json"], environment: Self.environment)
            #expect(campaign.status == 0, "\(campaign.stdout)\(campaign.stderr)")
            let steps =
                ((try? JSONSerialization.jsonObject(with: Data(campaign.stdout.utf8)) as? [String: Any])?["steps"]
                    as? [[String: Any]]) ?? []
            #expect(
                steps.first?["seenEvents"] as? Int == 20 && steps.first?["consumerExpected"] as? Int == 20
                    && steps.first?["consumerSeen"] as? Int == 20, "\(steps)")
            let xml = (try? String(contentsOfFile: junit, encoding: .utf8)) ?? ""
            #expect(
                xml.contains("<property name=\"kernel_seen\" value=\"20\"/>")
                    && xml.contains("<property name=\"consumer_seen\" value=\"20\"/>"), "\(xml)")
            // The pitfall on purpose: its instance's buffer_percent at 50 (rasdaemon 0.6 leaves it there;
            // 0.8 writes 0 when it starts, so here it is raised under the running daemon).
            try guest(lab, "echo 50 > /sys/kernel/tracing/instances/rasdaemon/buffer_percent")
            let missed = try TestSupport.inject(
                ["run", "mce", "cpu=0", "bank=3", "--verify", "--verify-timeout", "3", "--lab", lab],
                environment: Self.environment)
            #expect(missed.status == 5, "the kernel saw it, the consumer did not: \(missed.stdout)\(missed.stderr)")
            #expect(missed.stdout.contains("seen     trace mce:mce_record bank=3"), "\(missed.stdout)")
            #expect(
                missed.stdout.contains("MISSING  consumer rasdaemon mce_record row")
                    && missed.stdout.contains("buffer_percent 50"), "\(missed.stdout)")
            // doctor names the pitfall and its fix, and what rasdaemon does not record.
            let doctor = try TestSupport.inject(["doctor", "--lab", lab], environment: Self.environment)
            #expect(
                doctor.stdout.contains("rasdaemon buffer_percent")
                    && doctor.stdout.contains("50: rasdaemon is woken only when")
                    && doctor.stdout.contains("echo 0 > /sys/kernel/tracing/instances/rasdaemon/buffer_percent"),
                "\(doctor.stdout)")
            // The guest's rasdaemon is bookworm-backports' 0.8, which records memory failures (0.6 did not).
            #expect(
                doctor.stdout.contains("rasdaemon events") && doctor.stdout.contains("ras:memory_failure_event")
                    && !doctor.stdout.contains("does not record"), "\(doctor.stdout)")
            #expect(try guest(lab, "rasdaemon --version").contains("rasdaemon 0.8."))
            let probe = try inject(["probe", "--lab", lab])
            #expect(
                probe.contains("consumer:") && probe.contains("rasdaemon buffer_percent")
                    && probe.contains("50: rasdaemon is woken only when"), "\(probe)")
            let stopped = try JSONDecoder().decode(
                Report.self, from: Data(try inject(["lab", "rasdaemon", "stop", "-n", lab, "--json"]).utf8))
            #expect(!stopped.running && stopped.status.rows["mce_record"] == 23, "\(stopped)")
        }
    }

    /// Two labs, on the first and the last tested kernel (6.12 and 6.1 by default), side by side.
    @Test func twoLabsOnDifferentKernelsRunSideBySideAndStayApart() async throws {
        try await withLab("e2e-left", kernel: LabKernels.tested.first!) { left in
            try await withLab("e2e-right", kernel: LabKernels.tested.last!) { right in
                let records = try JSONDecoder().decode(
                    [LabRecord].self, from: Data(try inject(["lab", "status", "--json"]).utf8))
                let kernels = Dictionary(
                    records.map { ($0.name, $0.kernelSpec ?? "") }, uniquingKeysWith: { a, _ in a })
                #expect(
                    kernels[left] == LabKernels.tested.first && kernels[right] == LabKernels.tested.last, "\(kernels)")
                let rightBefore = try nmiCount(right)
                let leftBefore = try nmiCount(left)
                try inject(["run", "nmi", "--lab", left])
                #expect(try nmiCount(left) == leftBefore + 1)
                #expect(try nmiCount(right) == rightBefore, "an NMI for one lab reached the other")
            }
        }
    }

    /// One lab per kernel, one column each: what the kernel changes stands out.
    @Test(.enabled(if: LabKernels.tested.count >= 2)) func coverageComparesKernelsInOneLabEach() throws {
        struct Column: Decodable {
            struct Row: Decodable {
                var backend: String
                var path: String
                var state: String
                var reason: String
            }
            var kernel: String
            var release: String?
            var rows: [Row]
            var error: String?
        }
        // The two tested kernels and the newest (7.3) beside them: the three of the docs' table.
        let kernels =
            Array(LabKernels.tested.prefix(2))
            + (LabKernels.newestRuns && !LabKernels.tested.prefix(2).contains(LabKernels.newest)
                ? [LabKernels.newest] : [])
        let result = try TestSupport.inject(
            ["coverage", "--run", "--kernel", kernels.joined(separator: ","), "--json"], environment: Self.environment)
        let columns = try JSONDecoder().decode([Column].self, from: Data(result.stdout.utf8))
        #expect(columns.map(\.kernel) == kernels && columns.allSatisfy { $0.error == nil }, "\(result.stderr)")
        func state(_ column: Column, _ backend: String, _ path: String) -> String? {
            column.rows.first { $0.backend == backend && $0.path == path }?.state
        }
        for column in columns {
            #expect(state(column, "mce", "default injection") == "PASS", "\(column.kernel): \(column.rows)")
            #expect(state(column, "ghes", "default injection") == "PASS", "\(column.kernel): \(column.rows)")
        }
        if let edac = columns.firstIndex(where: { $0.kernel == KernelSpec.defaultSpelling }),
            let stock = columns.firstIndex(where: { $0.kernel == "stock" })
        {
            #expect(state(columns[edac], "edac", "ghes") == "READY" && state(columns[stock], "edac", "ghes") == "N/A")
            #expect(
                state(columns[edac], "edac", "mc0/dimm3") == "READY"
                    && state(columns[stock], "edac", "mc0/dimm3") == nil)
        }
        if let newest = columns.first(where: { $0.kernel == LabKernels.newest }) {
            // 7.3: ghes_edac built with trixie's gcc-14 in the lab's toolchain root.
            #expect(state(newest, "edac", "ghes") == "READY", "\(newest.rows)")
        }
        let left = try TestSupport.run("/usr/bin/pgrep", ["-f", "inject-lab-coverage-"])
        #expect(left.stdout.isEmpty, "a coverage lab was left running: \(left.stdout)")
    }

    /// The guest is a Debian server of its own: its root is built from Debian's packages with this
    /// build's package installed,
    /// read-only under a tmpfs overlay, and no host directory is shared with it, so a file planted
    /// on the host cannot be read from inside; a file the user copies in (`lab exec --copy`) arrives
    /// whole, with its mode, in the exchange directory where the command runs.
    @Test func theGuestIsADebianServerThatCannotReadTheHost() async throws {
        let secret = "/root/inject-secret-\(UUID().uuidString)"
        try Data("host only\n".utf8).write(to: URL(fileURLWithPath: secret))
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let deb = URL(fileURLWithPath: try BuiltPackage.get().deb).lastPathComponent
        let version = deb.split(separator: "_").dropFirst().first.map(String.init) ?? "(no version in \(deb))"
        let given = try TestSupport.temporaryDirectory("copy-in").path
        defer { try? FileManager.default.removeItem(atPath: given) }
        let script = given + "/greet"
        try Data("#!/bin/sh\necho copied-$1 from $(pwd)\n".utf8).write(to: URL(fileURLWithPath: script))
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: script)
        let blob = given + "/blob.bin"
        try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(
            to: URL(fileURLWithPath: blob))
        let blobDigest = try TestSupport.run("/usr/bin/sha256sum", [blob]).stdout.prefix(64)
        try await withLab("e2e-server", kernel: KernelSpec.defaultSpelling) { lab in
            let copied = try TestSupport.inject(
                [
                    "lab", "exec", "-n", lab, "--copy", script, "--copy", blob, "--",
                    "./greet guest; stat -c %a greet; sha256sum blob.bin",
                ],
                environment: Self.environment)
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(
                copied.stdout.contains("copied-guest from /run/inject/exchange\n750\n\(blobDigest)"), "\(copied.stdout)"
            )
            // Nothing is copied when one of the files cannot be: a directory is refused by name.
            let refused = try TestSupport.inject(
                ["lab", "exec", "-n", lab, "--copy", secret, "--copy", given, "--", "true"],
                environment: Self.environment)
            #expect(refused.status != 0 && refused.stderr.contains("\(given): only regular files"), "\(refused.stderr)")
            #expect(try guest(lab, "ls /run/inject/exchange").split(separator: "\n").sorted() == ["blob.bin", "greet"])
            let read = try guest(lab, "cat \(secret) 2>&1; echo rc=$?")
            #expect(read.contains("rc=1") && !read.contains("host only"), "\(read)")
            let mounts = try guest(lab, "cat /proc/mounts")
            #expect(!mounts.contains(" 9p "), "\(mounts)")
            // The package's layer over Debian's root, both read-only images, under a tmpfs for state.
            #expect(mounts.contains(" / overlay ro") || mounts.contains(" / overlay rw"), "\(mounts)")
            #expect(mounts.contains("lowerdir=/layers/package:/layers/root"), "\(mounts)")
            #expect(try guest(lab, "dpkg-query -W -f '${Version}' inject") == version)
            #expect(
                try guest(lab, "command -v inject").trimmingCharacters(in: .whitespacesAndNewlines) == "/usr/bin/inject"
            )
            #expect(try guest(lab, "ls -d /opt/swift /host 2>&1; true").contains("No such file"))
        }
    }

    /// The first cold boot of a configuration saves its ready state; a later `lab up` of the same
    /// configuration restores it (agent answering, the clock set, rasdaemon running), two labs
    /// restored from one snapshot run side by side and stay apart, a panic's restart restores it,
    /// and `--cold` boots instead. The snapshot is the lab owner's alone. The guest's root is
    /// trixie's here (`--guest-suite`), the other tests' bookworm's.
    @Test func labsOfOneConfigurationRestoreItsSnapshot() async throws {
        func record(_ lab: String) throws -> LabRecord {
            let status = try JSONDecoder().decode(
                [LabRecord].self, from: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            return try #require(status.first)
        }
        // On trixie's root (`--guest-suite`): its rasdaemon 0.8.3 records what the labs inject.
        let arguments = ["--with", "rasdaemon", "--guest-suite", "trixie"]
        try await withLab("e2e-snap-a", kernel: KernelSpec.defaultSpelling, arguments + ["--cold"]) { first in
            #expect(try guest(first, "rasdaemon --version 2>&1").contains("0.8.3"))
            #expect(try guest(first, ". /etc/os-release; echo $VERSION_CODENAME").contains("trixie"))
            let saved = try record(first)
            #expect(saved.restored == false, "a cold boot is not a restore: \(saved)")
            let snapshot = try #require(saved.snapshot, "the cold boot saved no snapshot: \(saved)")
            // Every file of the lab (sockets, console, RAM, images) is its owner's alone.
            let state = try LabPaths(name: first, environment: Self.environment)
            for path in try FileManager.default.contentsOfDirectory(atPath: state.stateDirectory.string).map({
                state.stateDirectory.string + "/" + $0
            }) + [state.guestMemory.string] {
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0o777
                #expect(mode & 0o077 == 0, "\(path) has mode \(String(mode, radix: 8))")
            }
            // Another user reaches none of it: not the record, the sockets, the RAM or the snapshot.
            let outsider = try TestSupport.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c",
                    "for f in \(state.record) \(state.guestMemory) \(snapshot)/memory; do cat $f > /dev/null 2>&1 && echo READ $f; done; "
                        + "python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \(state.qmpSocket) 2>/dev/null && echo CONNECTED; echo ran-as-$(id -u)",
                ])
            #expect(
                outsider.stdout == "ran-as-65534\n",
                "another user reached the lab: \(outsider.stdout)\(outsider.stderr)")
            for (file, mode) in [("", 0o700), ("/memory", 0o600), ("/device-state", 0o600), ("/snapshot.json", 0o600)] {
                let attributes = try FileManager.default.attributesOfItem(atPath: snapshot + file)
                #expect((attributes[.posixPermissions] as? Int) == mode, "\(snapshot + file): \(attributes)")
            }
            try await withLab("e2e-snap-b", kernel: KernelSpec.defaultSpelling, arguments) { second in
                try await withLab("e2e-snap-c", kernel: KernelSpec.defaultSpelling, arguments) { third in
                    for lab in [second, third] {
                        let restored = try record(lab)
                        #expect(restored.restored == true && restored.snapshot == snapshot, "\(restored)")
                        let clock = Int(try guest(lab, "date +%s").trimmingCharacters(in: .whitespacesAndNewlines))
                        #expect(abs((clock ?? 0) - Int(Date().timeIntervalSince1970)) <= 5, "guest clock \(clock ?? 0)")
                        #expect(try inject(["lab", "rasdaemon", "status", "-n", lab]).contains("running, pid"))
                    }
                    // One lab's error is its own: the other's kernel never sees it.
                    let run = try inject([
                        "run", "mce", "severity=corrected", "cpu=0", "bank=4", "--verify", "--lab", second,
                    ])
                    #expect(run.contains("verified:") && run.contains("rasdaemon) recorded 1 of 1"), "\(run)")
                    #expect(!(try guest(third, "dmesg")).contains("Bank 4:"))
                    #expect(try guest(second, "dmesg").contains("Bank 4:"))
                }
                // A panic's restart restores the snapshot too: the guest is the ready one again.
                try inject(["run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--yes", "--lab", second])
                let after = try record(second)
                #expect(after.restarts == 1 && after.restored == true, "\(after)")
                #expect(!(try guest(second, "dmesg")).contains("Bank 4:"), "the restored guest is the saved one")
                #expect(try inject(["lab", "rasdaemon", "status", "-n", second]).contains("running, pid"))
                // A snapshot that no longer restores leaves a boot, with its consumers started again,
                // the reason in the record, and the damaged snapshot gone (`--cold` below saves afresh).
                try Data("damaged".utf8).write(to: URL(fileURLWithPath: snapshot + "/device-state"))
                try inject(["run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--yes", "--lab", second])
                let booted = try record(second)
                #expect(booted.restarts == 2 && booted.restored == false, "\(booted)")
                #expect(booted.lastRestoreFailure != nil && booted.snapshot == nil, "\(booted)")
                #expect(!FileManager.default.fileExists(atPath: snapshot), "the damaged snapshot was kept")
                #expect(try inject(["lab", "rasdaemon", "status", "-n", second]).contains("running, pid"))
                #expect(try inject(["lab", "status", "-n", second]).contains("could not restore the snapshot"))
            }
            try await withLab("e2e-snap-d", kernel: KernelSpec.defaultSpelling, arguments + ["--cold"]) { cold in
                let booted = try record(cold)
                #expect(booted.restored == false, "\(booted)")
            }
        }
    }

    /// Two policies on one page (6.12 and 7.3): with rasdaemon's page isolation at 3 errors
    /// (`lab rasdaemon start --set`), three corrected errors on one page: at the first none acts,
    /// at the second the kernel's collector (threshold 2; each GHES memory record reaches it as a
    /// bank-255 machine check) soft-offlines the page, at the third rasdaemon's isolation acts.
    @Test(arguments: LabKernels.sixTwelveAndLater)
    func twoPoliciesOnOnePageAreNamedAtTheErrorThatTriggeredEach(kernel: String) async throws {
        try await withLab("e2e-policy", kernel: kernel, ["--with", "rasdaemon"]) { lab in
            try inject([
                "lab", "rasdaemon", "start", "-n", lab, "--set", "PAGE_CE_THRESHOLD=3", "--set", "PAGE_CE_ACTION=soft",
                "--record-triggers",
            ])
            #expect(try guest(lab, "cat /etc/default/rasdaemon").contains("PAGE_CE_THRESHOLD=\"3\""))
            var outputs: [String] = []
            // Three records of one page (other offsets: the kernel prints a repeated record once in 10 s),
            // spaced for its limit of 2 corrected records printed per 5 s. The first declares that the
            // kernel's policy acts, which it does not yet: that run fails with the reason. (This test
            // found --verify's own reads of rasdaemon's database costing rasdaemon a row: its insert
            // failed with SQLITE_BUSY; the verifier now reads without a lock, RasdaemonReadTests.)
            var statuses: [Int32] = []
            for (address, expect) in [
                ("0x5a5a040", "policy:kernel"), ("0x5a5a080", "policy:kernel"), ("0x5a5a0c0", "policy:rasdaemon"),
            ] {
                let run = try TestSupport.inject(
                    [
                        "run", "edac", "address=\(address)", "expect=\(expect)", "--verify", "--verify-timeout", "10",
                        "--lab", lab,
                    ],
                    environment: Self.environment)
                outputs.append(run.stdout)
                statuses.append(run.status)
                try await Task.sleep(for: .milliseconds(2600))
            }
            #expect(statuses == [5, 0, 0], "\(outputs)")
            #expect(
                outputs[0].contains("MISSING  outcome a kernel policy acts on page 0x5a5a")
                    && outputs[0].contains("no policy acted on the page"), "\(outputs[0])")
            #expect(outputs[1].contains("seen     outcome a kernel policy acts on page 0x5a5a"), "\(outputs[1])")
            #expect(outputs[2].contains("seen     outcome a rasdaemon policy acts on page 0x5a5a"), "\(outputs[2])")
            #expect(outputs[0].contains("policy   none acted on the page"), "\(outputs[0])")
            #expect(
                outputs[1].contains("policy   kernel CEC") && outputs[1].contains("Soft-offlining pfn: 0x5a5a"),
                "\(outputs[1])")
            #expect(
                outputs[2].contains("policy   rasdaemon page isolation") && outputs[2].contains("page at 0x5a5a000"),
                "\(outputs[2])")
            #expect(!outputs[2].contains("policy   kernel CEC"), "the collector acted once: \(outputs[2])")
            // rasdaemon ran MC_CE_TRIGGER once per error, with the error as its documented variables.
            struct Report: Decodable {
                struct Status: Decodable {
                    struct Run: Decodable {
                        var trigger: String
                        var environment: [String: String]
                    }
                    var triggerRuns: [Run]
                }
                var status: Status
            }
            let runs = try JSONDecoder().decode(
                Report.self, from: Data(try inject(["lab", "rasdaemon", "status", "-n", lab, "--json"]).utf8)
            ).status.triggerRuns
            #expect(runs.filter { $0.trigger == "MC_CE_TRIGGER" }.count == 3, "\(runs)")
            let addresses = runs.filter { $0.trigger == "MC_CE_TRIGGER" }.compactMap { $0.environment["ADDRESS"] }
            #expect(addresses == ["5a5a040", "5a5a080", "5a5a0c0"], "\(runs)")
            #expect(
                runs.first { $0.trigger == "MC_CE_TRIGGER" }.map {
                    $0.environment["TYPE"] == "Corrected" && $0.environment["COUNT"] == "1"
                        && $0.environment["MC_INDEX"] == "0" && $0.environment["LABEL"]?.isEmpty == false
                } == true, "\(runs)")
        }
    }

    /// With the kernel's collector turned off (`ras=cec_disable`), rasdaemon's threshold alone
    /// decides: nothing acts at the first two errors on the page, rasdaemon's isolation at the third.
    @Test(arguments: LabKernels.sixTwelveAndLater)
    func withTheCollectorOffRasdaemonsThresholdAloneDecides(kernel: String) async throws {
        try await withLab(
            "e2e-nocec", kernel: kernel,
            ["--with", "rasdaemon", "--kernel-arg", "ras=cec_disable"]
        ) { lab in
            #expect(try inject(["doctor", "--lab", lab]).contains("ras=cec_disable"))
            try inject([
                "lab", "rasdaemon", "start", "-n", lab, "--set", "PAGE_CE_THRESHOLD=3", "--set", "PAGE_CE_ACTION=soft",
            ])
            var outputs: [String] = []
            for (address, expect) in [("0x5a5a040", ""), ("0x5a5a080", ""), ("0x5a5a0c0", "expect=policy:rasdaemon")] {
                let run = try TestSupport.inject(
                    ["run", "edac", "address=\(address)", "--verify", "--lab", lab] + (expect.isEmpty ? [] : [expect]),
                    environment: Self.environment)
                #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
                outputs.append(run.stdout)
                try await Task.sleep(for: .milliseconds(2600))
            }
            #expect(outputs[0].contains("policy   none acted on the page"), "\(outputs[0])")
            #expect(outputs[1].contains("policy   none acted on the page"), "no collector: \(outputs[1])")
            #expect(
                outputs[2].contains("seen     outcome a rasdaemon policy acts on page 0x5a5a")
                    && outputs[2].contains("policy   rasdaemon page isolation")
                    && !outputs[2].contains("policy   kernel CEC"), "\(outputs[2])")
        }
    }

    /// With the platform's error-record store (`--with erst`), a panic leaves its kernel log there:
    /// the guest booted after it finds the record in its pstore, `--verify` reports it, and the
    /// journal's outcome counts it.
    @Test(arguments: LabKernels.tested) func anERSTStoreKeepsThePanicsRecordForTheGuestBootedAfterIt(
        kernel: String
    ) async throws {
        try await withLab("e2e-erst", kernel: kernel, ["--with", "erst"]) { lab in
            #expect(try guest(lab, "cat /sys/module/pstore/parameters/backend").contains("erst"))
            let directory = try TestSupport.temporaryDirectory("inject-erst")
            defer { TestSupport.remove(directory) }
            let journal = directory.appendingPathComponent("journal.jsonl").path
            let result = try TestSupport.inject(
                ["run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--verify", "--yes", "--lab", lab],
                environment: Self.environment.merging(["INJECT_JOURNAL": journal]) { $1 })
            let run = result.stdout
            #expect(result.status == 0, "\(run)\(result.stderr)")
            #expect(
                run.contains("seen     stored pstore (erst) record of the panic")
                    && run.contains("Kernel panic - not syncing: Fatal machine check"), "\(run)")
            #expect(run.contains("-> pstore 1/1 ("), "\(run)")
            let records = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(JournalRecord.self, from: Data($0.utf8)) }
            let printed = run.split(separator: "\n").first { $0.hasPrefix("verified: ") }.map {
                String($0.dropFirst("verified: ".count).prefix { $0 != "e" })
            }
            #expect(
                records.last?.verified.map { "\($0.prefix { $0 != "e" })" } == printed && printed != nil,
                "the journal counts the stored record as the report does: \(records.last?.verified ?? "-") vs \(run)")
            let status = try JSONDecoder().decode(
                [LabRecord].self, from: Data(try inject(["lab", "status", "-n", lab, "--json"]).utf8))
            #expect(status.first?.restarts == 1 && status.first?.restored == false, "a restart with ERST boots")
            // The kernel kept the fatal machine check itself too, beside its log.
            #expect(try guest(lab, "ls /sys/fs/pstore").contains("mce-erst-"))
            // A second panic: the store holds both, and the finding is this panic's record.
            guard kernel == LabKernels.tested.first else { return }
            let again = try inject([
                "run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--verify", "--yes", "--lab", lab,
            ])
            func stored(_ text: String) -> String? {
                guard let line = text.split(separator: "\n").first(where: { $0.contains("seen     stored pstore") }),
                    let range = line.firstRange(of: "<0>[")
                else { return nil }
                return String(line[range.lowerBound...].prefix(20))
            }
            #expect(stored(again) != nil && stored(again) != stored(run), "\(run)\n\(again)")
        }
    }

    /// EINJv2 on Debian's 7.3 through the kernel's own einj, with the lab's firmware offering it
    /// (`--einj-types 0xdb,V2_0x3`): two components give two reports, each with its component (the
    /// FRU ID), its syndrome and its DIMM, whose EDAC counter moves (ghes_edac built with trixie's
    /// gcc-14); a component the platform lacks is refused by the firmware, the kernel's write fails,
    /// and nothing is reported.
    @Test(.enabled(if: LabKernels.newestRuns)) func einjV2ComponentsGiveOneReportEach() async throws {
        try await withLab("e2e-einjv2", kernel: LabKernels.newest, ["--einj-types", "0xdb,V2_0x3"]) { lab in
            let einj = "/sys/kernel/debug/apei/einj"
            let listed = try guest(lab, "cat \(einj)/available_error_type; ls \(einj)")
            #expect(
                listed.contains("V2_0x00000002\tEINJV2 Memory Error") && listed.contains("component_syndrome3")
                    && !listed.contains("component_id4"), "\(listed)")
            func dimmCounts() throws -> [Int] {
                try guest(lab, "cat /sys/devices/system/edac/mc/mc0/dimm*/dimm_ce_count").split(separator: "\n")
                    .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
            let before = try dimmCounts()
            #expect(before.count == 4, "ghes_edac registered the four DIMMs: \(before)")
            let run = try inject([
                "run", "ghes", "via=einj", "address=0x6b6b000", "components=0x1:0x4,0x3:0x1234", "--verify", "--lab",
                lab,
            ])
            #expect(run.contains("verified: 2 of 2"), "\(run)")
            let log = try waitForLog(lab, ["fru_text: synd 0x1234", "P0_CH_B DIMM_B1 page:0x6b6b"])
            for text in [
                "fru_id: 00000001-0000-0000-0000-000000000000", "fru_text: synd 0x4", "DIMM location: P0_CH_A DIMM_A1",
                "fru_id: 00000003-0000-0000-0000-000000000000", "DIMM location: P0_CH_B DIMM_B1",
            ] {
                #expect(log.contains(text), "\(text)")
            }
            let after = try dimmCounts()
            #expect(zip(after, before).map { $0 - $1 } == [1, 0, 1, 0], "\(before) -> \(after)")
            // 7.3 has no csrow files (EDAC_LEGACY_SYSFS is gone).
            #expect(try guest(lab, "ls /sys/devices/system/edac/mc/mc0").contains("csrow") == false)

            // A component the platform does not have: the kernel's write fails, nothing is reported.
            let lines = try guest(lab, "dmesg | wc -l")
            let refused = try TestSupport.inject(
                ["run", "ghes", "via=einj", "address=0x6c6c000", "components=0x1:0x4,0x9:0x1", "--lab", lab],
                environment: Self.environment)
            #expect(refused.status == 1 && refused.stderr.contains("Invalid argument"), "\(refused.stderr)")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try guest(lab, "dmesg | wc -l") == lines, "nothing was reported")
            #expect(try dimmCounts() == after)
            #expect(
                try inject(["lab", "status", "-n", lab]).contains(
                    "refused: component 0x9 is not one of this platform's memory components"))
        }
    }

    @Test func theDemoShowsAReportForEveryBackend() throws {
        let result = try TestSupport.inject(["lab", "demo", "-n", "e2e-demo"], environment: Self.environment)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("5 of 5 backends reported by the guest kernel."))
        for backend in ["mce", "ghes", "edac", "nmi", "aer"] { #expect(result.stdout.contains("] \(backend): ")) }
        #expect(result.stdout.contains("aer_dev_correctable#TOTAL_ERR_COR +1 exactly"), "\(result.stdout)")
        // Each injection is checked by its own plan's expectations, as `--verify` would.
        #expect(result.stdout.contains("seen     trace mce:mce_record bank=1 status=0x940000000000009f"))
        #expect(result.stdout.contains("seen     dmesg physical_address: 0x0000000000003000"))
        // The default kernel counts the EDAC error on the DIMM that holds 0x3000, and on no other.
        #expect(
            result.stdout.contains("dimm0/dimm_ce_count +1 exactly")
                && result.stdout.contains("dimm1/dimm_ce_count unchanged"), "\(result.stdout)")
        #expect(!result.stdout.contains("MISSING"))
        #expect(result.stdout.contains("lab e2e-demo: stopped, files removed."))
    }
}

/// Bytes a pipe's handler delivers, gathered under a lock.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The guest kernels the lab tests run on: `INJECT_TEST_LAB_KERNELS` (comma-separated `--kernel`
/// specs), else the lab's default (6.12 from bookworm-backports, with ghes_edac) and the machine's
/// stock Debian kernel (6.1 on bookworm).
enum LabKernels {
    static let tested: [String] = {
        let list =
            ProcessInfo.processInfo.environment["INJECT_TEST_LAB_KERNELS"].map {
                $0.split(separator: ",").map(String.init)
            } ?? []
        return list.isEmpty ? [KernelSpec.defaultSpelling, "stock"] : list
    }()
    /// Whether Debian's kernel of `spec` has the correctable-error collector (CONFIG_RAS_CEC: 6.12 and
    /// later; bookworm's 6.1, `stock` here, has not).
    static func hasCollector(_ spec: String) -> Bool { !["stock", "bookworm"].contains(spec) }
    /// The tested kernels from Debian's 6.12 on: the lab builds their ghes_edac, they have the
    /// collector and CXL's tracepoints.
    static var sixTwelveAndLater: [String] { tested.filter(hasCollector) }
    /// `lab up`'s guest suite for `spec`: Debian's userspace of the kernel's own release (a
    /// trixie-backports kernel on trixie, with its rasdaemon 0.8.3), or the default (bookworm).
    static func guestSuite(for spec: String) -> [String] {
        let suite = ["trixie-backports": "trixie", "trixie": "trixie", "forky": "forky", "sid": "sid"][spec]
        return suite.map { ["--guest-suite", $0] } ?? []
    }
    /// The newest kernel the lab runs (Debian's 7.3 from trixie-backports): the whole suite runs on
    /// it with `INJECT_TEST_LAB_KERNELS=trixie-backports`; by default only what needs it (EINJv2).
    static let newest = "trixie-backports"
    /// Whether the tests of what only the newest kernel has run: named, or by default.
    static var newestRuns: Bool {
        tested.contains(newest) || ProcessInfo.processInfo.environment["INJECT_TEST_LAB_KERNELS"]?.isEmpty != false
    }
}

/// Whether the lab tests can run here.
enum LabAvailability {
    /// QEMU is installed, or `lab up` can install it (as root).
    static var qemuCanStart: Bool { getuid() == 0 || LabPrerequisites.missing().isEmpty }
    /// Printed when the suite is skipped.
    static var skipReason: Comment {
        "QEMU cannot start here: \(LabPrerequisites.missing().joined(separator: ", ")) missing and not root to install them"
    }
}
