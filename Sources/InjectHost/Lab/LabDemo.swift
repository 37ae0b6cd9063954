#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One demonstration injection per shipped backend into a running lab, each followed by what the
/// guest kernel reported (new kernel log lines, trace records, counters), checked against the
/// lines the injection must produce.
public struct LabDemo {
    /// One demonstration.
    public struct Case: Sendable {
        /// The backend.
        public var backend: String
        /// What it shows.
        public var title: String
        /// `name=value` arguments.
        public var arguments: [String]
        /// Kernel log text that proves the injection arrived.
        public var expectedLog: [String]
    }

    /// How one demonstration went.
    public struct Outcome: Sendable, Encodable {
        public var backend: String
        public var command: String
        /// New kernel log lines about the event.
        public var kernelLog: [String]
        /// Other evidence (trace records, counters).
        public var evidence: [String]
        /// Expected text that never appeared.
        public var missing: [String]
        /// Why the injection itself failed, if it did.
        public var error: String?

        public var succeeded: Bool { error == nil && missing.isEmpty }
    }

    /// The lab.
    public let lab: Lab
    /// A host session whose target is the lab.
    public let session: InjectSession

    /// The demonstrations for `record`'s firmware layout.
    public static func cases(_ record: LabRecord) -> [Case] {
        let polled = record.sources.first { $0.notification == .polled }
        let block = polled.map { "0x" + String($0.blockAddress, radix: 16) } ?? "0"
        let source = polled.map { String($0.id) } ?? "0"
        return [
            Case(backend: "mce", title: "a corrected machine check on CPU 0, bank 1, through mce-inject in the guest",
                 arguments: ["severity=corrected", "cpu=0", "bank=1", "addr=0x1234000"],
                 expectedLog: ["Machine Check: 0 Bank 1: 940000000000009f", "ADDR 1234000"]),
            Case(backend: "ghes", title: "a firmware-first corrected memory error through the polled GHES source",
                 arguments: ["source=\(source)", "block_address=\(block)", "address=0x2000"],
                 expectedLog: ["Hardware error from APEI Generic Hardware Error Source: \(source)", "physical_address: 0x0000000000002000"]),
            Case(backend: "edac", title: "a corrected DIMM error, sent as a GHES memory record (the guest has no EDAC fake_inject)",
                 arguments: ["via=ghes", "block_address=\(block)", "address=0x3000"],
                 expectedLog: ["Hardware error from APEI Generic Hardware Error Source: \(source)", "physical_address: 0x0000000000003000"]),
            Case(backend: "nmi", title: "an NMI from QEMU's virtual hardware",
                 arguments: ["signal=nmi", "via=qemu"],
                 expectedLog: ["NMI received for unknown reason"]),
        ]
    }

    /// Creates a demo for a running lab, loading plugins like `inject` does.
    public init(lab: Lab, environment: [String: String], executableDirectory: String?) throws(InjectError) {
        self.lab = lab
        var options = InjectSession.Options(environment: environment)
        options.executableDirectory = executableDirectory
        do throws(LabError) { options.target = try lab.target() } catch { throw .lab(error) }
        session = try InjectSession(options)
    }

    /// Runs every case in order, telling `report` about each as it finishes.
    public func run(_ cases: [Case], report: (Case, Outcome) -> Void) async -> [Outcome] {
        var outcomes: [Outcome] = []
        for demo in cases {
            let outcome = await run(demo)
            report(demo, outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// Runs one case.
    public func run(_ demo: Case) async -> Outcome {
        let command = "inject run \(demo.backend) \(demo.arguments.joined(separator: " ")) --lab \(lab.paths.name)"
        var outcome = Outcome(backend: demo.backend, command: command, kernelLog: [], evidence: [], missing: [], error: nil)
        let before = (try? guestLog())?.count ?? 0
        let nmiBefore = nmiCount()
        let edacBefore = edacCounters()
        do {
            let plan = try session.plan(backend: demo.backend, arguments: demo.arguments)
            _ = try await Executor(target: session.options.target, files: session.targetFiles()).run(plan, confirmed: false)
        } catch {
            outcome.error = error.description
            return outcome
        }
        // Wait up to 10 s for every expected line (the GHES poller runs every 100 ms).
        var fresh: [String] = []
        for _ in 0..<50 {
            fresh = Array(((try? guestLog()) ?? []).dropFirst(before))
            if demo.expectedLog.allSatisfy({ text in fresh.contains { $0.contains(text) } }) { break }
            usleep(200_000)
        }
        outcome.kernelLog = fresh.filter { line in
            ["Hardware Error", "Machine Check", "NMI", "Dazed", "APEI", "EDAC", "Memory failure"].contains { line.contains($0) }
        }
        outcome.missing = demo.expectedLog.filter { text in !fresh.contains { $0.contains(text) } }
        switch demo.backend {
        case "mce":
            if let trace = try? lab.exec("grep mce_record /sys/kernel/tracing/trace | tail -n 1").text, !trace.isEmpty {
                outcome.evidence.append("trace: " + trace.trimmed())
            } else {
                outcome.missing.append("mce:mce_record trace event")
            }
        case "nmi":
            let after = nmiCount()
            outcome.evidence.append("NMI count on CPU 0: \(nmiBefore.map(String.init) ?? "?") -> \(after.map(String.init) ?? "?")")
            if let nmiBefore, let after, after <= nmiBefore { outcome.missing.append("NMI count growth") }
        case "edac":
            let after = edacCounters()
            outcome.evidence.append(after.isEmpty
                ? "EDAC: no memory controller is registered: the Debian kernel is built without CONFIG_EDAC_GHES, so ghes_edac cannot count this record"
                : "EDAC counters: \(edacBefore) -> \(after)")
        default:
            break
        }
        return outcome
    }

    private func guestLog() throws(LabError) -> [String] {
        try lab.exec("dmesg").text.split(separator: "\n").map(String.init)
    }

    private func nmiCount() -> Int? {
        guard let line = try? lab.exec("grep '^ *NMI:' /proc/interrupts").text else { return nil }
        return line.split(separator: " ").dropFirst().compactMap { Int($0) }.reduce(0, +)
    }

    private func edacCounters() -> String {
        (try? lab.exec("cd /sys/devices/system/edac/mc 2>/dev/null && for m in mc*; do [ -d \"$m\" ] && echo \"$m ce=$(cat $m/ce_count) ue=$(cat $m/ue_count)\"; done").text.trimmed()) ?? ""
    }
}
