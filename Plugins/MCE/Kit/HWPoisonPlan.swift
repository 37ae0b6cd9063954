import FirmwareFormats
import InjectPluginAPI

/// Page poisoning through hwpoison-inject (`/sys/kernel/debug/hwpoison`): where an uncorrected
/// memory machine check ends, as the kernel's memory-failure handling of one page.
enum HWPoisonPlan {
    static let directory = "sys/kernel/debug/hwpoison"
    /// The kernel's count of poisoned memory, in kB (`HardwareCorrupted:` of /proc/meminfo).
    static let corrupted = "proc/meminfo#HardwareCorrupted"

    static func plan(_ p: ParameterValues) throws -> Plan {
        guard let pfn = p.number("pfn") ?? p.number("addr").map({ $0 >> 12 }) else {
            throw BackendError.invalid("via=hwpoison needs pfn=N or addr=ADDR (the page to poison)")
        }
        let hint = "modprobe hwpoison-inject; mount -t debugfs none /sys/kernel/debug"
        let pfnHex = hexNumber(pfn)
        var plan = Plan()
        if p.flag("unpoison") {
            plan.write(
                "\(directory)/unpoison-pfn", pfnHex, note: "return page \(pfnHex) to use",
                hint: hint
                    + "; since 6.0 the kernel refuses (Operation not supported) once any hardware memory failure happened: its log then says the page's unpoisoning is disabled after HW memory failure",
                trigger: true)
            // Since 6.0 (pr_fmt "Unpoison: "): "Unpoison: 0x6100: software-unpoisoned page".
            plan.expect(.kernelLog("\(pfnHex): software-unpoisoned page"))
            plan.expect(
                .counterExact(
                    Self.corrupted, delta: -4,
                    note: "the kernel no longer counts the page among its corrupted memory (kB)"))
        } else {
            plan.requireConfirmation("poisoning page \(pfnHex) takes it offline and kills the processes that map it")
            plan.write(
                "\(directory)/corrupt-pfn", pfnHex, note: "the kernel handles page \(pfnHex) as a memory failure",
                hint: hint, trigger: true)
            plan.expect(.kernelLog("Memory failure: \(pfnHex)"))
            plan.expect(.traceEvent("ras:memory_failure_event", fields: "pfn=\(pfnHex)"))
            plan.expect(
                .counter(Self.corrupted, delta: 4, note: "the kernel counts the page among its corrupted memory (kB)"))
        }
        return plan
    }
}
