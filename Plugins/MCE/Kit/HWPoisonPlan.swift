import FirmwareFormats
import InjectPluginAPI

/// Page poisoning through hwpoison-inject (`/sys/kernel/debug/hwpoison`): where an uncorrected
/// memory machine check ends, as the kernel's memory-failure handling of one page.
enum HWPoisonPlan {
    static let directory = "sys/kernel/debug/hwpoison"

    static func plan(_ p: ParameterValues) throws -> Plan {
        guard let pfn = p.number("pfn") ?? p.number("addr").map({ $0 >> 12 }) else {
            throw BackendError.invalid("via=hwpoison needs pfn=N or addr=ADDR (the page to poison)")
        }
        let hint = "modprobe hwpoison-inject; mount -t debugfs none /sys/kernel/debug"
        let pfnHex = hexNumber(pfn)
        var plan = Plan()
        if p.flag("unpoison") {
            plan.write(
                "\(directory)/unpoison-pfn", pfnHex, note: "return page \(pfnHex) to use", hint: hint, trigger: true)
            plan.expect(.kernelLog("Unpoison: Software-unpoisoned page \(pfnHex)"))
        } else {
            plan.requireConfirmation("poisoning page \(pfnHex) takes it offline and kills the processes that map it")
            plan.write(
                "\(directory)/corrupt-pfn", pfnHex, note: "the kernel handles page \(pfnHex) as a memory failure",
                hint: hint, trigger: true)
            plan.expect(.kernelLog("Memory failure: \(pfnHex)"))
            plan.expect(.traceEvent("ras:memory_failure_event", fields: "pfn=\(pfnHex)"))
        }
        return plan
    }
}
