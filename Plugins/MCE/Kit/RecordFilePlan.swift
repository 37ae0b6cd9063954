import FirmwareFormats
import InjectPluginAPI

/// The plan for mce-inject input files: every record, in order, through the transport the target
/// has. The debugfs injector takes one record at a time (cpu, status, misc, addr, then bank); QEMU
/// takes each as its HMP `mce` command (with `-b` where mce-inject would broadcast), raising an
/// uncorrected one as a real #MC and leaving a corrected one for the poller. What a transport
/// cannot carry is said in the record's note, and each record's note starts with its canonical
/// form (`mce-inject --dump`).
enum RecordFilePlan {
    /// At most this many records in one request.
    static let maximumRecords = 10_000

    static func plan(_ files: [(path: String, text: String)], via: String, flags: String, target: Target)
        throws(BackendError) -> Plan
    {
        var records: [MCEInjectFile.Record] = []
        for file in files { records += try MCEInjectFile.parse(file.text, source: file.path) }
        guard !records.isEmpty else {
            throw BackendError.invalid(
                "\(files.map(\.path).joined(separator: ", ")) hold no records (a record starts with CPU n, MCE, or a kernel panic line)"
            )
        }
        guard records.count <= maximumRecords else {
            throw BackendError.invalid(
                "\(records.count) records is more than \(maximumRecords) in one request: split the files, or run them as a campaign"
            )
        }
        for record in records {
            guard MCEParameters.cpus.contains(record.cpu) else {
                throw BackendError.invalid(
                    "\(record.source):\(record.line): CPU \(record.cpu) is outside \(MCEParameters.cpus.lowerBound)...\(MCEParameters.cpus.upperBound)"
                )
            }
            guard MCEParameters.banks.contains(record.bank) else {
                throw BackendError.invalid(
                    "\(record.source):\(record.line): bank \(record.bank) is outside \(MCEParameters.banks.lowerBound)...\(MCEParameters.banks.upperBound)"
                )
            }
        }
        var plan = Plan()
        if let uncorrected = records.first(where: \.isUncorrected) {
            plan.requireConfirmation(
                "\(uncorrected.source):\(uncorrected.line) is uncorrected (UC set): the kernel may kill processes or panic"
            )
        }
        switch via {
        case "qemu":
            guard target.hasQMP else {
                throw BackendError.unsupported("via=qemu needs a QEMU monitor: pass --qmp SOCKET or --lab NAME")
            }
            for (index, record) in records.enumerated() { qemu(&plan, record, index: index, of: records.count) }
        case "debugfs":
            if flags == "hw" { plan.requireConfirmation("flags=hw writes the real MCA MSRs of this machine") }
            plan.write("\(MCEBackend.injectDirectory)/flags", flags + "\n", hint: hint)
            for (index, record) in records.enumerated() { debugfs(&plan, record, index: index, of: records.count) }
        default:
            throw BackendError.invalid("file= runs through via=debugfs or via=qemu, not via=\(via)")
        }
        for record in records {
            plan.expect(.traceEvent("mce:mce_record", fields: "bank=\(record.bank) status=\(hexNumber(record.status))"))
            if via == "qemu",
                let page = StatusWord(raw: record.status).actionOptionalPage(addr: record.addr, misc: record.misc)
            {
                plan.expect(
                    .traceEvent(
                        "ras:memory_failure_event", fields: "pfn=\(hexNumber(page))",
                        note: "\(record.source):\(record.line) is action optional: the kernel takes the page out of use"
                    ))
            }
        }
        return plan
    }

    private static let hint = "modprobe mce-inject; mount -t debugfs none /sys/kernel/debug"

    /// The record's fields neither transport writes (the processor's own state at the error).
    private static func processorFields(_ record: MCEInjectFile.Record) -> [String] {
        [
            ("TSC", record.tsc), ("TIME", record.time), ("SOCKETID", record.socketID), ("APICID", record.apicID),
            ("MCGCAP", record.mcgCap), ("PROCESSOR", record.cpuVendor | record.cpuID),
        ].filter { $0.1 != 0 }.map(\.0)
    }

    /// One record through the debugfs injector: the kernel logs it as given (a software record;
    /// an uncorrected one is not raised as #MC there).
    private static func debugfs(_ plan: inout Plan, _ record: MCEInjectFile.Record, index: Int, of count: Int) {
        var lost: [String] = []
        if record.mcgStatus != 0 { lost.append("MCGSTATUS \(hexNumber(record.mcgStatus))") }
        if record.ip != 0 || record.cs != 0 { lost.append("RIP") }
        lost += processorFields(record) + record.flags
        var note =
            header(record, index: index, of: count)
            + "\nbecomes: the debugfs injector's cpu, status, misc, addr and bank (the kernel logs it as a software record"
            + (record.raisesException ? "; it does not raise #MC here: via=qemu does)" : ")")
        if !lost.isEmpty { note += "\nnot carried by debugfs: " + lost.joined(separator: ", ") }
        func set(_ file: String, _ value: String, _ note: String? = nil, trigger: Bool = false) {
            plan.write("\(MCEBackend.injectDirectory)/\(file)", value, note: note, hint: hint, trigger: trigger)
        }
        set("cpu", String(record.cpu), note)
        set("status", hexNumber(record.status))
        set("misc", hexNumber(record.misc))
        set("addr", hexNumber(record.addr))
        set("bank", String(record.bank), "writing bank injects record \(index + 1)", trigger: true)
    }

    /// One record through QEMU's virtual machine-check hardware.
    private static func qemu(_ plan: inout Plan, _ record: MCEInjectFile.Record, index: Int, of count: Int) {
        var lost: [String] = []
        if record.ip != 0 || record.cs != 0 { lost.append("RIP (the vCPU's own)") }
        lost += processorFields(record) + record.flags.filter { ["IN_IRQ", "IN_PROC", "IRQBROADCAST"].contains($0) }
        let uncorrected = record.isUncorrected
        if record.flags.contains("POLL") && uncorrected {
            lost.append("POLL (QEMU raises an uncorrected status as #MC)")
        }
        if record.flags.contains("EXCP") && !uncorrected {
            lost.append("EXCP (QEMU leaves a corrected status to the poller)")
        }
        // A record without MCGSTATUS gets what a request without mcgstatus gets.
        let mcg = record.mcgStatus != 0 ? record.mcgStatus : (uncorrected ? MCGStatus.exception : 0)
        var note =
            header(record, index: index, of: count)
            + "\nbecomes: QEMU HMP mce"
            + (record.broadcasts ? " -b (every vCPU, as mce-inject broadcasts an exception)" : "")
            + (uncorrected
                ? ": a #MC on CPU \(record.cpu)" : ": a corrected error in bank \(record.bank) for the poller")
            + (record.isHeld ? "; HOLD: raised right before the next record, not at once with it" : "")
        if record.mcgStatus == 0 && uncorrected { note += "\nMCGSTATUS 0 given: using MCIP|RIPV (\(hexNumber(mcg)))" }
        if !lost.isEmpty { note += "\nnot carried by QEMU: " + lost.joined(separator: ", ") }
        plan.qemuMachineCheck(
            cpu: record.cpu, bank: record.bank, status: record.status, mcgStatus: mcg, addr: record.addr,
            misc: record.misc,
            broadcast: record.broadcasts, note: note)
    }

    /// The record's place, origin and canonical form.
    private static func header(_ record: MCEInjectFile.Record, index: Int, of count: Int) -> String {
        "record \(index + 1) of \(count) (\(record.source):\(record.line)):\n" + record.dump
            + (record.flags.isEmpty ? "" : "\n" + record.flags.joined(separator: " "))
    }

}
