/// What the target kernel itself does with an error before any consumer sees it, for `inject
/// doctor` and `inject probe`: today its correctable-error collector (CEC, drivers/ras/cec.c),
/// which counts corrected memory errors per page instead of printing them and soft-offlines a page
/// at a threshold. Debian builds it into 6.12 and 7.x, not into 6.1.
enum KernelPolicyChecks {
    static let collectorDirectory = "sys/kernel/debug/ras/cec"

    /// Every kernel-policy check on `files`.
    static func checks(_ files: any TargetFiles) -> [Doctor.Check] {
        [correctedErrorCollector(files)]
    }

    /// The collector: present with its threshold and decay interval, turned off, absent, or
    /// unknown (debugfs not mounted).
    static func correctedErrorCollector(_ files: any TargetFiles) -> Doctor.Check {
        let name = "correctable-error collector"
        if let threshold = files.text(collectorDirectory + "/action_threshold")?.trimmed() {
            let decay = files.text(collectorDirectory + "/decay_interval")?.trimmed()
            return Doctor.Check(
                status: .ok, name: name,
                detail:
                    "present (CEC): action_threshold \(threshold)"
                    + (decay.map { ", decay_interval \($0) s" } ?? "")
                    + ": a corrected memory error with a usable address reaches the mce_record trace event but is not printed; "
                    + "at \(threshold) on one page the kernel prints 'Soft-offlining pfn', offlines the page and prints the record. "
                    + "To see every record: ras=cec_disable on the kernel command line")
        }
        let commandLine = files.text("proc/cmdline") ?? ""
        if commandLine.split(separator: " ").contains(where: { $0.trimmed() == "ras=cec_disable" }) {
            return Doctor.Check(
                status: .ok, name: name, detail: "turned off (ras=cec_disable): every corrected error is printed")
        }
        if files.exists("sys/kernel/debug/ras") {
            return Doctor.Check(
                status: .ok, name: name,
                detail: "not in this kernel (CONFIG_RAS_CEC unset): every corrected error is printed")
        }
        return Doctor.Check(
            status: .warn, name: name,
            detail:
                "unknown: debugfs is not mounted (mount -t debugfs none /sys/kernel/debug); where the kernel has it, "
                + "corrected memory errors are counted, not printed")
    }
}
