import InjectPluginAPI

/// NMI, SCI and IRQ notifications: on their own, or as the notification step of another
/// backend's plan (GHES routes "notify nmi" here through the host).
public struct NMIBackend: InjectBackend {
    public static let descriptor = BackendDescriptor(
        name: "nmi", version: "0.1.0",
        summary: "NMI, SCI and IRQ notifications from QEMU, a BMC (IPMI) or the kernel",
        families: ["notification", "nmi", "sci", "irq"],
        parameters: [
            Parameter("signal", .choice(["nmi", "sci", "irq"]), default: "nmi", help: "what to raise"),
            Parameter(
                "via", .choice(["qemu", "ipmi", "sysrq", "debugfs"]), default: "qemu",
                help:
                    "qemu: QMP (inject-nmi; for sci a hotplug GPE or the power button); ipmi: the target's BMC (--lab, --bmc or in-band); sysrq: backtrace NMI; debugfs: irq trigger"
            ),
            Parameter(
                "method", .choice(["diag", "watchdog", "gpe", "powerbutton"]),
                help:
                    "via=ipmi: diag (default) pulses the diagnostic interrupt (chassis power diag); watchdog arms the BMC watchdog with an NMI pre-timeout, then stops it (the lab's simulated BMC has no diag). signal=sci: gpe (default) raises GPE 1 with a PCI hotplug that is undone at once (the GPE method runs, so the lab's HED device is notified: GHES SCI sources are read); powerbutton sends the power-button event (a fixed event: an SCI that runs no GPE method)"
            ),
            Parameter("irq", .u64(0...65535), help: "the interrupt for signal=irq via=debugfs"),
            Parameter(
                "bus", .string,
                help:
                    "method=gpe: the QEMU bus the hotplugged device goes on (default: pci.0 on QEMU's pc machine; on q35 the lab's free root port \(NMIBackend.labHotplugPort), which must be an empty pcie-root-port with ACPI hotplug)"
            ),
        ],
        logMarkers: ["NMI"])

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        [
            Capability(
                "qemu", available: target.hasQMP,
                target.hasQMP ? "inject-nmi and system_powerdown through QMP" : "no --qmp socket given"),
            Capability(
                "sysrq", available: target.exists("proc/sysrq-trigger"),
                "backtrace NMIs through /proc/sysrq-trigger (l)"),
            Capability(
                "irq-debugfs", available: target.exists("sys/kernel/debug/irq/irqs"),
                target.exists("sys/kernel/debug/irq/irqs")
                    ? "/sys/kernel/debug/irq/irqs/N/trigger"
                    : "missing: the kernel lacks GENERIC_IRQ_DEBUGFS (the stock Debian kernel does)"),
            Capability(
                "ipmi", available: target.hasIPMI,
                target.hasIPMI
                    ? "a BMC answers IPMI (chassis power diag, watchdog pre-timeout NMI)"
                    : "no BMC: use --lab NAME, --bmc HOST[:PORT], or load ipmi_si and ipmi_devintf for /dev/ipmi0"),
            Capability(
                "sci-counter", available: target.exists("sys/firmware/acpi/interrupts/sci"),
                "/sys/firmware/acpi/interrupts/sci"),
        ]
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let signal = p.text("signal") ?? "nmi"
        let via = p.text("via") ?? "qemu"
        var plan = Plan()
        switch (signal, via) {
        case ("nmi", "qemu"):
            plan.qmp("inject-nmi", note: "QEMU raises an NMI on every vCPU", trigger: true)
            plan.expect(.kernelLog("NMI"))
        case ("sci", "qemu"):
            try planSCI(request, &plan)
        case ("nmi", "ipmi"):
            guard request.target.hasIPMI else {
                throw BackendError.unsupported(
                    "via=ipmi needs a BMC: --lab NAME (its simulated BMC), --bmc HOST[:PORT] with IPMI_PASSWORD, or /dev/ipmi0 (modprobe ipmi_si ipmi_devintf)"
                )
            }
            if p.text("method") == "watchdog" {
                planWatchdogNMI(&plan)
            } else {
                plan.ipmi(
                    netFunction: 0x00, command: 0x02, data: [0x04],
                    note:
                        "Chassis Control, pulse diagnostic interrupt: the BMC raises an NMI (ipmitool chassis power diag);"
                        + " QEMU's simulated BMC lacks it: use method=watchdog in the lab", trigger: true)
            }
            plan.expect(.kernelLog("NMI"))
        case ("nmi", "sysrq"):
            plan.write("proc/sysrq-trigger", "l", note: "the kernel sends backtrace NMIs to all CPUs", trigger: true)
            plan.expect(.kernelLog("NMI backtrace"))
        case ("irq", "debugfs"):
            guard let irq = p.number("irq") else {
                throw BackendError.invalid("signal=irq via=debugfs needs irq=N (see /proc/interrupts)")
            }
            plan.write(
                "sys/kernel/debug/irq/irqs/\(irq)/trigger", "trigger", note: "re-inject interrupt \(irq)",
                hint: "the kernel needs GENERIC_IRQ_DEBUGFS", trigger: true)
        default:
            throw BackendError.invalid(
                "signal=\(signal) cannot be raised via=\(via); use nmi via qemu, ipmi or sysrq; sci via qemu; irq via debugfs"
            )
        }
        return plan
    }

    /// An SCI through QEMU: the power button (a fixed event), or a PCI hotplug that raises GPE 1.
    private func planSCI(_ request: PlanRequest, _ plan: inout Plan) throws {
        let p = request.parameters
        guard request.target.hasQMP else {
            throw BackendError.unsupported("signal=sci via=qemu needs a QEMU monitor: --qmp SOCKET or --lab NAME")
        }
        switch p.text("method") ?? "gpe" {
        case "powerbutton":
            plan.qmp(
                "system_powerdown",
                note: "the ACPI power button event arrives as an SCI (a fixed event: no GPE method runs)",
                trigger: true)
        case "gpe":
            // A device added to the PCI hotplug bus raises GPE 1, whose method the lab's DSDT
            // extends with Notify(HED, 0x80); removing it again leaves nothing behind.
            let id = "inject-gpe-" + String(request.target.realtimeNanoseconds % 0xFFFF_FFFF, radix: 16)
            let q35 = Self.isQ35(request.target)
            let bus = p.text("bus") ?? (q35 ? Self.labHotplugPort : "pci.0")
            guard bus.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
                throw BackendError.invalid(
                    "bus=\(bus) is not a QEMU bus id (letters, digits, '.', '_', '-'); see `info qtree` in QEMU's monitor"
                )
            }
            plan.qmp(
                "device_add",
                arguments: "{\"driver\": \"\(q35 ? "e1000e" : "e1000")\", \"bus\": \"\(bus)\", \"id\": \"\(id)\"}",
                note: "PCI hotplug into \(bus): QEMU raises GPE 1 (an SCI); the GPE method runs",
                hint:
                    "the machine needs ACPI PCI hotplug on \(bus): pci.0 on QEMU's pc machine, an empty pcie-root-port on q35 (bus=ID)",
                trigger: true)
            plan.sleep(
                microseconds: 1_000_000, note: "let the guest handle the GPE before the removal raises the next one"
            )
            plan.qmp(
                "device_del", arguments: "{\"id\": \"\(id)\"}",
                note: "unplug it again (the guest ejects it on the next GPE)")
            plan.expect(.counter("sys/firmware/acpi/interrupts/gpe01", delta: 1))
        default:
            throw BackendError.invalid(
                "method=\(p.text("method") ?? "") is for via=ipmi; signal=sci takes method=gpe or method=powerbutton"
            )
        }
        plan.expect(.counter("sys/firmware/acpi/interrupts/sci", delta: 1))
    }

    /// The empty root port the lab keeps for hotplugs on its q35 machine.
    public static let labHotplugPort = "hotplug0"

    /// Whether the target is QEMU's q35 machine (its host bridge is the Q35 MCH, 8086:29c0), whose
    /// root bus takes no hotplug.
    static func isQ35(_ target: Target) -> Bool {
        target.value("sys/bus/pci/devices/0000:00:00.0/vendor") == "0x8086"
            && target.value("sys/bus/pci/devices/0000:00:00.0/device") == "0x29c0"
    }

    /// An NMI from the BMC's watchdog: armed with an NMI pre-timeout 1 s out and a hard reset 60 s
    /// out (a watchdog without a timeout action never runs), started, and stopped after the NMI.
    private func planWatchdogNMI(_ plan: inout Plan) {
        let use: UInt8 = 0x04  // SMS/OS; "don't stop" clear, so Set Watchdog Timer stops it
        let countdown: UInt16 = 600  // 60.0 s, in 100 ms units
        plan.requireConfirmation("the BMC watchdog is armed to hard-reset the machine 60 s out; a later step stops it")
        plan.ipmi(
            netFunction: 0x06, command: 0x24,
            data: [use, 0x21, 59, 0x00, UInt8(countdown & 0xFF), UInt8(countdown >> 8)],
            note: "Set Watchdog Timer: NMI pre-timeout 59 s before a 60 s hard-reset timeout")
        plan.ipmi(
            netFunction: 0x06, command: 0x22,
            note: "Reset Watchdog Timer: the countdown starts; the NMI comes 1 s later",
            trigger: true)
        plan.sleep(microseconds: 1_500_000, note: "wait for the pre-timeout")
        plan.ipmi(
            netFunction: 0x06, command: 0x24, data: [use, 0x00, 0x00, 0x00, 0x0A, 0x00],
            note: "Set Watchdog Timer with no action: stops the countdown before the reset")
    }
}
