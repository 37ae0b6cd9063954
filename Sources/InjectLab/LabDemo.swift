import InjectHost

/// The lab's demonstration: one injection per shipped backend, as a campaign scenario that the
/// campaign runner carries out with `verify: each`, so that every injection is checked against
/// its own plan's expectations (the kernel's trace events, log lines and counters).
public enum LabDemo {
    /// The scenario for `record`'s firmware: a corrected machine check through mce-inject, a
    /// firmware-first memory record through the polled GHES source, a DIMM error sent as a GHES
    /// record, an NMI from QEMU's virtual hardware, and a correctable PCIe error on the lab's first
    /// endpoint through the kernel's aer_inject.
    public static func scenario(_ record: LabRecord) -> Scenario {
        let polled = record.sources.first { $0.notification == .polled }.map { String($0.id) } ?? "0"
        func step(_ backend: String, _ title: String, _ values: KeyValuePairs<String, String>) -> Scenario.Step {
            Scenario.Step(
                name: backend, backend: backend, parameters: values.map { ($0.key, .fixed($0.value)) },
                verify: "each", title: title)
        }
        return Scenario(
            name: "lab demo",
            steps: [
                step(
                    "mce", "a corrected machine check on CPU 0, bank 1, through mce-inject in the guest",
                    ["severity": "corrected", "cpu": "0", "bank": "1", "addr": "0x1234000"]),
                step(
                    "ghes", "a firmware-first corrected memory error through the polled GHES source",
                    ["source": polled, "address": "0x2000"]),
                edacStep(record, polled: polled, step: step),
                step("nmi", "an NMI from QEMU's virtual hardware", ["signal": "nmi", "via": "qemu"]),
                step(
                    "aer",
                    "a correctable PCIe error (Receiver Error) on the endpoint ep0, through the kernel's aer_inject",
                    ["device": "ep0", "error": "RCVR"]),
            ], stopOnFailure: false)
    }

    /// With ghes_edac in the guest, an error on the DIMM that holds the address, checked on its own
    /// counter; without it (6.1), the GHES record the kernel reports.
    private static func edacStep(
        _ record: LabRecord, polled: String,
        step: (String, String, KeyValuePairs<String, String>) -> Scenario.Step
    ) -> Scenario.Step {
        guard record.edacCounters == true, let label = record.dimms?.first,
            let socket = label.split(separator: " ").last.map(String.init)
        else {
            return step(
                "edac",
                "a corrected DIMM error, sent as a GHES memory record (this kernel has no ghes_edac: no EDAC counter moves)",
                ["via": "ghes", "source": polled, "address": "0x3000"])
        }
        return step(
            "edac",
            "a corrected error on DIMM \(label), sent as a GHES memory record and counted by ghes_edac on that DIMM only",
            ["via": "ghes", "dimm": socket, "source": polled, "address": "0x3000"])
    }
}
