import InjectPluginAPI

/// NMI, SCI and IRQ notifications: on their own, or as the notification step of another
/// backend's plan (GHES routes "notify nmi" here through the host).
struct NMIBackend: InjectBackend {
    static let descriptor = BackendDescriptor(
        name: "nmi", version: "0.1.0",
        summary: "NMI, SCI and IRQ notifications from QEMU, a BMC (IPMI) or the kernel",
        families: ["notification", "nmi", "sci", "irq"],
        parameters: [
            Parameter("signal", .choice(["nmi", "sci", "irq"]), default: "nmi", help: "what to raise"),
            Parameter("via", .choice(["qemu", "ipmi", "sysrq", "debugfs"]), default: "qemu",
                      help: "qemu: QMP (inject-nmi, system_powerdown); ipmi: a BMC's chassis power diag; sysrq: backtrace NMI; debugfs: irq trigger"),
            Parameter("irq", .u64(0...65535), help: "the interrupt for signal=irq via=debugfs"),
            Parameter("bmc_host", .string, default: "127.0.0.1", help: "BMC address for via=ipmi"),
            Parameter("bmc_port", .u64(1...65535), default: "623", help: "BMC RMCP+ port for via=ipmi"),
            Parameter("bmc_user", .string, default: "admin", help: "BMC user for via=ipmi"),
            Parameter("bmc_password", .string, default: "", help: "BMC password for via=ipmi"),
        ])

    init() {}

    func probe(_ target: Target) throws -> [Capability] {
        [
            Capability("qemu", available: target.hasQMP, target.hasQMP ? "inject-nmi and system_powerdown through QMP" : "no --qmp socket given"),
            Capability("sysrq", available: target.exists("proc/sysrq-trigger"), "backtrace NMIs through /proc/sysrq-trigger (l)"),
            Capability("irq-debugfs", available: target.exists("sys/kernel/debug/irq/irqs"),
                       target.exists("sys/kernel/debug/irq/irqs") ? "/sys/kernel/debug/irq/irqs/N/trigger"
                       : "missing: the kernel lacks GENERIC_IRQ_DEBUGFS (the stock Debian kernel does)"),
            Capability("sci-counter", available: target.exists("sys/firmware/acpi/interrupts/sci"), "/sys/firmware/acpi/interrupts/sci"),
        ]
    }

    func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let signal = p.text("signal") ?? "nmi"
        let via = p.text("via") ?? "qemu"
        var plan = Plan()
        switch (signal, via) {
        case ("nmi", "qemu"):
            plan.qmp("inject-nmi", note: "QEMU raises an NMI on every vCPU", trigger: true)
            plan.expect(.kernelLog("NMI"))
        case ("sci", "qemu"):
            plan.qmp("system_powerdown", note: "the ACPI power button event arrives as an SCI", trigger: true)
            plan.expect(.counter("sys/firmware/acpi/interrupts/sci", delta: 1))
        case ("nmi", "ipmi"):
            plan.exec(["ipmitool", "-I", "lanplus", "-H", p.text("bmc_host") ?? "127.0.0.1", "-p", p.text("bmc_port") ?? "623",
                       "-U", p.text("bmc_user") ?? "admin", "-P", p.text("bmc_password") ?? "", "chassis", "power", "diag"],
                      note: "the BMC pulses the diagnostic interrupt (an NMI)", hint: "apt-get install ipmitool", trigger: true)
            plan.expect(.kernelLog("NMI"))
        case ("nmi", "sysrq"):
            plan.write("proc/sysrq-trigger", "l", note: "the kernel sends backtrace NMIs to all CPUs", trigger: true)
            plan.expect(.kernelLog("NMI backtrace"))
        case ("irq", "debugfs"):
            guard let irq = p.number("irq") else { throw BackendError.invalid("signal=irq via=debugfs needs irq=N (see /proc/interrupts)") }
            plan.write("sys/kernel/debug/irq/irqs/\(irq)/trigger", "trigger", note: "re-inject interrupt \(irq)",
                       hint: "the kernel needs GENERIC_IRQ_DEBUGFS", trigger: true)
        default:
            throw BackendError.invalid("signal=\(signal) cannot be raised via=\(via); use nmi via qemu, ipmi or sysrq; sci via qemu; irq via debugfs")
        }
        return plan
    }
}
