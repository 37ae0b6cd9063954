import InjectPluginAPI

/// Machine checks through the kernel's mce-inject debugfs files or QEMU's HMP `mce` command.
struct MCEBackend: InjectBackend {
    static let injectDirectory = "sys/kernel/debug/mce-inject"

    static let descriptor = BackendDescriptor(
        name: "mce", version: "0.1.0",
        summary: "Machine checks through mce-inject (debugfs) or QEMU's virtual hardware (QMP)",
        families: ["mce", "memory", "cache", "bus"],
        parameters: [
            Parameter("via", .choice(["debugfs", "qemu"]), default: "debugfs",
                      help: "debugfs: the kernel's mce-inject; qemu: a machine check from the VM's virtual CPU (needs --qmp)"),
            Parameter("cpu", .cpu(0...8191), default: "0", help: "the CPU that sees the machine check"),
            Parameter("bank", .u64(0...63), default: "1", help: "the MCA bank"),
            Parameter("severity", .choice(StatusWord.severities.map(\.name)), default: "corrected",
                      help: "builds the status word when status is not given"),
            Parameter("mca_code", .u64(0...0xFFFF), default: "0x009f",
                      help: "MCA error code (bits 15:0); 0x009f = memory controller read error, channel unspecified"),
            Parameter("status", .u64(), help: "raw MCi_STATUS; overrides severity and mca_code"),
            Parameter("addr", .address(), help: "MCi_ADDR; sets ADDRV when status is built"),
            Parameter("misc", .u64(), help: "MCi_MISC; sets MISCV when status is built"),
            Parameter("synd", .u64(), help: "MCi_SYND (AMD)"),
            Parameter("ipid", .u64(), help: "MCi_IPID (AMD SMCA)"),
            Parameter("overflow", .bool, default: "false", help: "set OVER in a built status"),
            Parameter("mcgstatus", .u64(), help: "MCG_STATUS for the qemu path; derived from the severity when not given"),
            Parameter("flags", .choice(["sw", "hw", "df", "th"]), default: "sw",
                      help: "mce-inject mode: sw software only, hw also real MSRs, df deferred, th threshold"),
            Parameter("broadcast", .bool, default: "false", help: "qemu path: raise it on every CPU"),
        ])

    init() {}

    func probe(_ target: Target) throws -> [Capability] {
        var found: [Capability] = []
        let inject = target.exists(Self.injectDirectory)
        found.append(Capability("mce-inject", available: inject,
                                inject ? "/\(Self.injectDirectory)" : "missing: modprobe mce-inject (and mount debugfs)"))
        if let online = target.value("sys/devices/system/cpu/online") {
            found.append(Capability("cpus", available: true, "online \(online)"))
        }
        let banks = (try? target.list("sys/devices/system/machinecheck/machinecheck0"))?.filter { $0.hasPrefix("bank") } ?? []
        found.append(Capability("banks", available: !banks.isEmpty, banks.isEmpty ? "no machinecheck0 bank files" : "\(banks.count) banks (0...\(banks.count - 1))"))
        let vendor = target.value("proc/cpuinfo")?.split(separator: "\n").first { $0.hasPrefix("vendor_id") }?
            .split(separator: ":").last.map { String($0).trimmingWhitespace } ?? "unknown"
        found.append(Capability("vendor", available: true, vendor + (vendor == "AuthenticAMD" ? " (SMCA: ipid and synd apply)" : "")))
        let hwpoison = target.exists("sys/kernel/debug/hwpoison")
        found.append(Capability("hwpoison-inject", available: hwpoison, hwpoison ? "/sys/kernel/debug/hwpoison" : "missing: modprobe hwpoison-inject"))
        found.append(Capability("qemu", available: target.hasQMP, target.hasQMP ? "QMP connected: via=qemu works" : "no --qmp socket given"))
        return found
    }

    func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let severity = p.text("severity") ?? "corrected"
        let status = p.number("status").map(StatusWord.init(raw:))
            ?? StatusWord(severity: severity, mcaCode: p.number("mca_code") ?? 0x9F, hasAddress: p.isSet("addr"),
                          hasMisc: p.isSet("misc"), overflow: p.flag("overflow"))
        let cpu = p.number("cpu") ?? 0
        let bank = p.number("bank") ?? 1
        var plan = Plan()
        if status.isUncorrected { plan.requireConfirmation("status \(status.hex) is uncorrected (UC set): the kernel may kill processes or panic") }
        if p.text("flags") == "hw" { plan.requireConfirmation("flags=hw writes the real MCA MSRs of this machine") }

        if p.text("via") == "qemu" {
            guard request.target.hasQMP else {
                throw BackendError.unsupported("via=qemu needs a QEMU monitor: pass --qmp SOCKET")
            }
            let mcg = p.number("mcgstatus") ?? (status.isUncorrected ? 0x5 : 0x0)
            let words = ["mce"] + (p.flag("broadcast") ? ["-b"] : []) + [String(cpu), String(bank), status.hex,
                        "0x" + String(mcg, radix: 16), hex(p.number("addr") ?? 0), hex(p.number("misc") ?? 0)]
            plan.qmp("human-monitor-command", arguments: "{\"command-line\": \"\(words.joined(separator: " "))\"}",
                     note: "QEMU raises the machine check in virtual hardware: \(status.summary)", trigger: true)
        } else {
            let hint = "modprobe mce-inject; mount -t debugfs none /sys/kernel/debug"
            func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
                plan.write("\(Self.injectDirectory)/\(file)", value, note: note, hint: hint, trigger: trigger)
            }
            // flags_write() drops the last byte it is given (it expects echo's newline).
            set("flags", (p.text("flags") ?? "sw") + "\n")
            set("cpu", String(cpu))
            set("status", status.hex, status.summary)
            set("misc", hex(p.number("misc") ?? 0))
            set("addr", hex(p.number("addr") ?? 0))
            set("synd", hex(p.number("synd") ?? 0))
            if let ipid = p.number("ipid") { set("ipid", hex(ipid)) }
            set("bank", String(bank), "writing bank injects the machine check", trigger: true)
        }
        plan.expect(.traceEvent("mce:mce_record", fields: "bank=\(bank) status=\(status.hex)"))
        plan.expect(.kernelLog("Bank \(bank): \(String(status.raw, radix: 16))"))
        return plan
    }

    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
