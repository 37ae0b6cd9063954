import FirmwareFormats
import InjectPluginAPI

/// Machine checks through the kernel's mce-inject debugfs files or QEMU's HMP `mce` command.
public struct MCEBackend: InjectBackend {
    static let injectDirectory = "sys/kernel/debug/mce-inject"

    public static let descriptor = BackendDescriptor(
        name: "mce", version: "0.1.0",
        summary: "Machine checks through mce-inject (debugfs) or QEMU's virtual hardware (QMP)",
        families: ["mce", "memory", "cache", "bus"],
        parameters: MCEParameters.all,
        kernelModules: ["mce_inject", "hwpoison_inject"],
        traceEvents: ["mce:mce_record", "ras:memory_failure_event"],
        lossMarkers: [LossMarker(match: "*pool full*", reason: "the MCE record pool was full")],
        consumerTables: ["mce:mce_record": "mce_record", "ras:memory_failure_event": "memory_failure_event"],
        logMarkers: ["Machine Check", "Hardware Error", "Memory failure", "mce:"])

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        var found: [Capability] = []
        let inject = target.exists(Self.injectDirectory)
        found.append(
            Capability(
                "mce-inject", available: inject,
                inject ? "/\(Self.injectDirectory)" : "missing: modprobe mce-inject (and mount debugfs)"))
        if let online = target.value("sys/devices/system/cpu/online") {
            found.append(Capability("cpus", available: true, "online \(online)"))
        }
        let banks =
            (try? target.list("sys/devices/system/machinecheck/machinecheck0"))?.filter { $0.hasPrefix("bank") } ?? []
        found.append(
            Capability(
                "banks", available: !banks.isEmpty,
                banks.isEmpty ? "no machinecheck0 bank files" : "\(banks.count) banks (0...\(banks.count - 1))"))
        let vendor = CorrectedErrorCollector.vendor(target)
        found.append(
            Capability(
                "vendor", available: true, vendor + (vendor == "AuthenticAMD" ? " (SMCA: ipid and synd apply)" : "")))
        let hwpoison = target.exists("sys/kernel/debug/hwpoison")
        found.append(
            Capability(
                "hwpoison-inject", available: hwpoison,
                hwpoison ? "/sys/kernel/debug/hwpoison" : "missing: modprobe hwpoison-inject"))
        found.append(
            Capability(
                "qemu", available: target.hasQMP,
                target.hasQMP ? "QMP connected: via=qemu works" : "no --qmp socket given"))
        return found
    }

    /// `mce_record`: the bank, the status word and the kernel's severity reading of it.
    public func decode(event: String, fields: [String: String]) -> [String: String] {
        guard event == "mce:mce_record", let key = fields.keys.first(where: { $0.hasPrefix("MC") && $0 != "MCGc/s" }),
            let raw = UInt64(fields[key] ?? "", radix: 16)
        else { return [:] }
        let status = StatusWord(raw: raw)
        return [
            "bank": String(key.dropFirst(2)), "status": status.hex,
            "severity": String(status.severityName.split(separator: ":").first ?? ""),
        ]
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        if p.text("via") == "hwpoison" { return try HWPoisonPlan.plan(p) }
        if let files = p.files("file") { return try planFile(files, p, target: request.target) }
        let check = try MachineCheck(p, builtStatus: builtStatus(p))
        var plan = Plan()
        if check.status.isUncorrected {
            plan.requireConfirmation(
                "status \(check.status.hex) is uncorrected (UC set): the kernel may kill processes or panic")
        }
        if p.text("flags") == "hw" { plan.requireConfirmation("flags=hw writes the real MCA MSRs of this machine") }
        if p.text("via") == "qemu" {
            guard request.target.hasQMP else {
                throw BackendError.unsupported("via=qemu needs a QEMU monitor: pass --qmp SOCKET or --lab NAME")
            }
            planQEMU(check, p, &plan)
        } else {
            planDebugfs(check, p, &plan)
        }
        // A corrected memory error the kernel's collector takes is reported by the trace event alone
        // until its page reaches the collector's threshold.
        // (The target is read only for such an error: a campaign plans thousands of others.)
        let collected = check.status.collectedPage(addr: check.addr ?? 0, misc: check.misc ?? 0).flatMap { page in
            CorrectedErrorCollector(request.target)?.note(page: page)
        }
        plan.expect(
            .traceEvent("mce:mce_record", fields: "bank=\(check.bank) status=\(check.status.hex)", note: collected))
        if p.text("via") == "qemu",
            let page = check.status.actionOptionalPage(addr: check.addr ?? 0, misc: check.misc ?? 0)
        {
            plan.expect(
                .traceEvent(
                    "ras:memory_failure_event", fields: "pfn=\(hexNumber(page))",
                    note: "action optional: the kernel takes the page out of use instead of printing the record"))
        } else if collected == nil {
            plan.expect(.kernelLog("Bank \(check.bank): \(hexText(check.status.raw))"))
        }
        return plan
    }

    /// One machine check as the request describes it: given field by field, or replayed from a
    /// kernel log line.
    struct MachineCheck {
        var status: StatusWord
        var cpu: UInt64, bank: UInt64
        var addr: UInt64?, misc: UInt64?, synd: UInt64?, ipid: UInt64?
        var replay: KernelLogReplay?
        /// The status decoded, for the plan's notes.
        var decoded: String

        init(_ p: ParameterValues, builtStatus: @autoclosure () -> StatusWord) throws {
            let replay = try p.text("replay").map(KernelLogReplay.init)
            if replay != nil, let given = MCEParameters.replayed.first(where: { p.isSet($0) }) {
                throw BackendError.invalid(
                    "give either replay or \(given), not both: the replayed line sets \(MCEParameters.replayed.joined(separator: ", "))"
                )
            }
            self.replay = replay
            status =
                replay.map { StatusWord(raw: $0.status) } ?? p.number("status").map(StatusWord.init(raw:))
                ?? builtStatus()
            cpu = replay?.cpu ?? p.number("cpu") ?? 0
            bank = replay?.bank ?? p.number("bank") ?? 1
            addr = replay?.addr ?? p.number("addr")
            misc = replay?.misc ?? p.number("misc")
            synd = replay?.synd ?? p.number("synd")
            ipid = replay?.ipid ?? p.number("ipid")
            decoded = StatusDecoder.lines(status).joined(separator: "\n")
            if let replay {
                decoded =
                    "replayed from the kernel log: CPU \(replay.cpu), bank \(replay.bank)"
                    + (replay.addr.map { ", ADDR \(hexNumber($0))" } ?? "")
                    + (replay.misc.map { ", MISC \(hexNumber($0))" } ?? "") + "\n" + decoded
            }
        }
    }

    /// An mce-inject input file, record by record; what a record sets itself may not be given
    /// beside it (the defaults aside).
    private func planFile(_ files: [(path: String, text: String)], _ p: ParameterValues, target: Target) throws
        -> Plan
    {
        let conflicting =
            (MCEParameters.replayed + ["replay"]).filter(p.isSet)
            + (p.text("severity") != "corrected" ? ["severity"] : [])
            + ((p.number("count") ?? 1) != 1 ? ["count"] : [])
        if let given = conflicting.first {
            throw BackendError.invalid(
                "give either file or \(given), not both: each record in the file sets its own CPU, bank, status and addresses"
            )
        }
        return try RecordFilePlan.plan(
            files, via: p.text("via") ?? "debugfs", flags: p.text("flags") ?? "sw", target: target)
    }

    /// The machine check raised by QEMU in its virtual hardware (`count` of them, a storm).
    private func planQEMU(_ check: MachineCheck, _ p: ParameterValues, _ plan: inout Plan) {
        let mcg =
            check.replay?.mcgStatus ?? p.number("mcgstatus") ?? (check.status.isUncorrected ? MCGStatus.exception : 0)
        plan.qemuMachineCheck(
            cpu: check.cpu, bank: check.bank, status: check.status.raw, mcgStatus: mcg, addr: check.addr ?? 0,
            misc: check.misc ?? 0, broadcast: p.flag("broadcast"),
            note: "QEMU raises the machine check in virtual hardware\n" + check.decoded)
        let count = p.number("count") ?? 1
        if count > 1 {
            plan.repeatLast(
                1, times: count - 1, intervalMicroseconds: p.number("interval") ?? 0, note: "a storm of \(count)")
        }
    }

    /// The machine check through mce-inject's debugfs files, bank last (`count` of them, a storm).
    private func planDebugfs(_ check: MachineCheck, _ p: ParameterValues, _ plan: inout Plan) {
        let hint = "modprobe mce-inject; mount -t debugfs none /sys/kernel/debug"
        func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
            plan.write("\(Self.injectDirectory)/\(file)", value, note: note, hint: hint, trigger: trigger)
        }
        // flags_write() drops the last byte it is given (it expects echo's newline). The mode
        // persists; every other value is cleared by the kernel after each injection.
        set("flags", (p.text("flags") ?? "sw") + "\n")
        // One injection's writes, bank last. The first writes every file (stale values may be
        // left from others); repeats only what is not zero, since the kernel zeroed the rest.
        func injection(first: Bool) {
            func setUnlessCleared(_ file: String, _ value: UInt64, _ text: String) {
                if first || value != 0 { set(file, text) }
            }
            setUnlessCleared("cpu", check.cpu, String(check.cpu))
            set("status", check.status.hex, first ? check.decoded : nil)
            setUnlessCleared("misc", check.misc ?? 0, hexNumber(check.misc ?? 0))
            setUnlessCleared("addr", check.addr ?? 0, hexNumber(check.addr ?? 0))
            setUnlessCleared("synd", check.synd ?? 0, hexNumber(check.synd ?? 0))
            if let ipid = check.ipid { set("ipid", hexNumber(ipid)) }
            set("bank", String(check.bank), first ? "writing bank injects the machine check" : nil, trigger: true)
        }
        injection(first: true)
        let count = p.number("count") ?? 1
        let interval = p.number("interval") ?? 0
        guard count > 1 else { return }
        let before = plan.steps.count
        if interval > 0 { plan.sleep(microseconds: interval) }
        injection(first: false)
        if count > 2 {
            plan.repeatLast(
                plan.steps.count - before, times: count - 2,
                note: "a storm of \(count) machine checks, \(interval) us apart")
        }
    }

    /// The status word the description builds.
    private func builtStatus(_ p: ParameterValues) -> StatusWord {
        let code: UInt64
        if let raw = p.number("mca_code") {
            code = raw
        } else {
            let index = { (name: String, names: [String], fallback: Int) in
                names.firstIndex(of: p.text(name) ?? "") ?? fallback
            }
            switch p.text("error_class") ?? "memory" {
            case "cache":
                code = UInt64(
                    MCACode.cache(
                        request: index("request", MCACode.requests, 0),
                        type: index("cache_type", MCACode.cacheTypes, 2),
                        level: index("level", MCACode.levels, 3)
                    ).raw)
            case "bus":
                code = UInt64(
                    MCACode.bus(
                        participation: index("participation", MCACode.participations, 3), timeout: p.flag("timeout"),
                        request: index("request", MCACode.requests, 0), space: index("space", MCACode.spaces, 0),
                        level: index("level", MCACode.levels, 3)
                    ).raw)
            case "generic":
                code = 0x0001
            default:
                code = UInt64(
                    MCACode.memory(
                        transaction: index("transaction", MCACode.transactions, 0),
                        channel: Int(p.number("channel") ?? 15)
                    ).raw)
            }
        }
        return StatusWord(
            severity: p.text("severity") ?? "corrected", mcaCode: code, hasAddress: p.isSet("addr"),
            hasMisc: p.isSet("misc"), overflow: p.flag("overflow"))
    }

}
