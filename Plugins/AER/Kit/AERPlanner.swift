import FirmwareFormats
import InjectPluginAPI

/// Turns one ``AERRequest`` into steps and expectations on a target: finds the device through the
/// host, checks the errors against its registers (masked errors are never reported; the severity
/// register decides fatal or not), picks the path and says what the kernel will report.
struct AERPlanner {
    let request: AERRequest
    let target: Target
    let via: String
    let severity: String?

    /// The classes the kernel reports separately, with the names its reports use.
    enum Class: CaseIterable {
        case correctable, nonFatal, fatal

        /// The device's counter file of this class (one `Name count` line per error).
        var counterPrefix: String {
            switch self {
            case .correctable: "aer_dev_correctable"
            case .nonFatal: "aer_dev_nonfatal"
            case .fatal: "aer_dev_fatal"
            }
        }
        /// The line of that file that totals the class.
        var totalKey: String {
            switch self {
            case .correctable: "TOTAL_ERR_COR"
            case .nonFatal: "TOTAL_ERR_NONFATAL"
            case .fatal: "TOTAL_ERR_FATAL"
            }
        }
        /// The total as a keyed counter source (`aer_dev_correctable#TOTAL_ERR_COR`).
        var counterFile: String { "\(counterPrefix)#\(totalKey)" }
        /// The aer_event tracepoint's severity text.
        var traceSeverity: String {
            switch self {
            case .correctable: "Corrected"
            case .nonFatal: "Uncorrected, non-fatal"
            case .fatal: "Fatal"
            }
        }
        /// The CPER severity of a firmware-first record of this class.
        var cperSeverity: String {
            switch self {
            case .correctable: "corrected"
            case .nonFatal: "recoverable"
            case .fatal: "fatal"
            }
        }
    }

    func add(to plan: inout Plan) throws {
        guard let spec = request.device else { throw BackendError.invalid("\(request.origin): no device named") }
        let device = try target.pciDevice(spec)
        let registers = AERRegisters.read(device.address, on: target)
        var aer = request
        if aer.correctable == 0 && aer.uncorrectable == 0 {
            aer = try withDefaultError(aer, registers)
        }
        let unknownCorrectable = AERError.decode(aer.correctable, .correctable).unknown
        let unknownUncorrectable = AERError.decode(aer.uncorrectable, .uncorrectable).unknown
        guard unknownCorrectable == 0, unknownUncorrectable == 0 else {
            throw BackendError.invalid(
                "\(aer.origin): status bits \(hexNumber(unknownCorrectable | unknownUncorrectable)) are reserved in the AER status registers; name errors (error=) or use defined bits"
            )
        }
        let severityRegister = registers?.severity ?? AERError.defaultSeverity
        let classes = split(aer, severityRegister: severityRegister)
        try checkSeverity(classes, severityRegister: severityRegister, registers: registers, device: device.address)
        let route = try chooseRoute(aer, device: device)
        // A firmware-first record carries its own registers: the device's masks do not apply to it.
        if let registers, route != "ghes" {
            let masked = (aer.correctable & registers.correctableMask, aer.uncorrectable & registers.uncorrectableMask)
            if masked.0 != 0 || masked.1 != 0 {
                let names =
                    (AERError.decode(masked.0, .correctable).errors + AERError.decode(masked.1, .uncorrectable).errors)
                    .map(\.name)
                throw BackendError.invalid(
                    "\(aer.origin): \(names.joined(separator: ", ")) \(names.count == 1 ? "is" : "are") masked on \(device.address) (Correctable Error Mask \(hexNumber(registers.correctableMask)), Uncorrectable \(hexNumber(registers.uncorrectableMask))): the device would record but never report \(names.count == 1 ? "it" : "them"); choose another error, or clear the mask bit in its AER capability first"
                )
            }
        }
        if classes.nonFatal != 0 || classes.fatal != 0 {
            plan.requireConfirmation(
                "an uncorrectable PCIe error on \(device.address) makes the kernel recover the link: the device is reset and its driver may lose it"
            )
        }
        switch route {
        case "qemu": planQEMU(aer, id: device.qemuID!, &plan)
        case "aer-inject": try planAERInject(aer, device: device, &plan)
        default: try planFirmwareFirst(aer, device: device, classes: classes, severityRegister: severityRegister, &plan)
        }
        expect(
            aer, address: device.address, classes: classes, route: route,
            readAfterFatal: registers?.readAfterFatal ?? false, &plan)
    }

    /// The request with the first error of the chosen class the device reports.
    private func withDefaultError(_ aer: AERRequest, _ registers: AERRegisters?) throws -> AERRequest {
        var aer = aer
        let severityRegister = registers?.severity ?? AERError.defaultSeverity
        let mask = (registers?.correctableMask ?? 0, registers?.uncorrectableMask ?? 0)
        switch severity ?? "correctable" {
        case "correctable":
            guard let error = AERError.all.first(where: { $0.register == .correctable && $0.mask & mask.0 == 0 }) else {
                throw BackendError.invalid("every correctable error is masked on this device")
            }
            aer.correctable = error.mask
        case let wanted:
            let fatal = wanted == "fatal"
            // Poisoned TLP and Data Link Protocol are the classic non-fatal and fatal ones.
            let preferred = AERError.named(fatal ? "DLP" : "POISON_TLP")!
            let candidates = [preferred] + AERError.all.filter { $0.register == .uncorrectable }
            guard
                let error = candidates.first(where: {
                    ($0.mask & severityRegister != 0) == fatal && $0.mask & mask.1 == 0
                })
            else {
                throw BackendError.invalid(
                    "no unmasked \(fatal ? "fatal" : "non-fatal") error on this device (Uncorrectable Error Severity \(hexNumber(severityRegister)))"
                )
            }
            aer.uncorrectable = error.mask
        }
        return aer
    }

    /// The bits of each class: uncorrectable ones are fatal where the severity register says so.
    private func split(_ aer: AERRequest, severityRegister: UInt32) -> (
        correctable: UInt32, nonFatal: UInt32, fatal: UInt32
    ) {
        (aer.correctable, aer.uncorrectable & ~severityRegister, aer.uncorrectable & severityRegister)
    }

    /// `severity=` given with errors must agree with what the device will make of them.
    private func checkSeverity(
        _ classes: (correctable: UInt32, nonFatal: UInt32, fatal: UInt32), severityRegister: UInt32,
        registers: AERRegisters?, device: String
    ) throws {
        guard let severity, request.correctable != 0 || request.uncorrectable != 0 else { return }
        let wanted: UInt32 =
            severity == "correctable" ? classes.correctable : severity == "fatal" ? classes.fatal : classes.nonFatal
        let all = classes.correctable | classes.nonFatal | classes.fatal
        guard wanted == all, classes.correctable == 0 || severity == "correctable",
            classes.nonFatal == 0 || severity == "nonfatal",
            classes.fatal == 0 || severity == "fatal"
        else {
            let source =
                registers == nil ? "the PCIe default severities" : "\(device)'s Uncorrectable Error Severity register"
            throw BackendError.invalid(
                "severity=\(severity) does not match the errors: by \(source) (\(hexNumber(severityRegister))), "
                    + Self.describe(classes) + "; leave severity= out, or choose errors of that class")
        }
    }

    static func describe(_ classes: (correctable: UInt32, nonFatal: UInt32, fatal: UInt32)) -> String {
        [
            ("correctable", AERError.decode(classes.correctable, .correctable).errors),
            ("non-fatal", AERError.decode(classes.nonFatal, .uncorrectable).errors),
            ("fatal", AERError.decode(classes.fatal, .uncorrectable).errors),
        ]
        .filter { !$0.1.isEmpty }.map {
            "\($0.1.map(\.name).joined(separator: ", ")) \($0.1.count == 1 ? "is" : "are") \($0.0)"
        }
        .joined(separator: "; ")
    }

    /// The path: as asked, or on `auto` QEMU for uncorrectable errors of a QEMU device (its
    /// routing drops correctable messages), else the kernel's aer_inject.
    private func chooseRoute(_ aer: AERRequest, device: PCIDevice) throws -> String {
        let hasInjector = target.exists(AERBackend.injectDevice)
        switch via {
        case "qemu":
            guard target.hasQMP else {
                throw BackendError.unsupported("via=qemu needs a QEMU monitor: --lab NAME or --qmp SOCKET")
            }
            guard device.qemuID != nil else {
                throw BackendError.unsupported(
                    "\(device.address) has no QEMU device id, so QEMU's monitor cannot name it; give it an id (-device ...,id=NAME) or use via=aer-inject"
                )
            }
            return "qemu"
        case "aer-inject":
            guard aer.prefix == nil else {
                throw BackendError.invalid("the kernel's aer_inject has no TLP prefix; prefix= needs via=qemu")
            }
            guard hasInjector else {
                throw BackendError.unsupported(
                    "no /dev/aer_inject on the target: modprobe aer_inject (CONFIG_PCIEAER_INJECT; Debian builds it as a module)"
                )
            }
            return "aer-inject"
        case "ghes":
            guard target.hasFirmwareMemory else {
                throw BackendError.unsupported(
                    "via=ghes writes a firmware-first record: it needs --lab NAME or --guest-memory")
            }
            return "ghes"
        default:
            if target.hasQMP, device.qemuID != nil, aer.correctable == 0 { return "qemu" }
            if hasInjector && aer.prefix == nil { return "aer-inject" }
            if target.hasQMP, device.qemuID != nil { return "qemu" }
            throw BackendError.unsupported(
                "no way to inject on \(device.address): load the kernel's injector (modprobe aer_inject), or use a QEMU guest (--lab, --qmp) whose device has an id, or via=ghes in a lab"
            )
        }
    }

    /// One HMP `pcie_aer_inject_error` per error: QEMU takes one status bit at a time. QEMU takes
    /// header and prefix words as TLP bytes (it stores each big-endian, as the specification
    /// places byte 0 in bits 31:24); `header=` gives register values, as the kernel prints them
    /// and aer_inject takes them, so each word is byte-swapped here and every path logs the same.
    private func planQEMU(_ aer: AERRequest, id: String, _ plan: inout Plan) {
        let logs = ((aer.header ?? []) + (aer.prefix ?? [])).map { hexText($0.byteSwapped, digits: 8) }
        for error in aer.errors {
            let words =
                ["pcie_aer_inject_error"] + (error.register == .correctable ? ["-c"] : []) + [
                    id, "0x" + hexText(error.mask, digits: 8),
                ] + logs.map { "0x" + $0 }
            let note =
                "QEMU sets \(error.name) (bit \(error.bit)) in \(id)'s \(error.register.rawValue) status and sends the error message to its root port"
                + (error.register == .correctable
                    ? " (QEMU 7.2 drops correctable messages: use via=aer-inject there)" : "")
            plan.qmp(
                "human-monitor-command", arguments: "{\"command-line\": \"\(words.joined(separator: " "))\"}",
                note: note,
                hint: "QEMU's pcie_aer_inject_error needs the device's id and a PCIe device with AER", trigger: true)
        }
    }

    /// One `struct aer_error_inj` written to /dev/aer_inject: the kernel fakes the device's and its
    /// root port's AER registers and raises the root port's interrupt.
    private func planAERInject(_ aer: AERRequest, device: PCIDevice, _ plan: inout Plan) throws {
        let at = try device.requireLocation()
        let address = device.address
        var record: [UInt8] = [at.bus, at.device, at.function, 0]
        for word in [aer.uncorrectable, aer.correctable] + (aer.header ?? [0, 0, 0, 0]) + [UInt32(at.segment)] {
            record += (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) }
        }
        plan.writeDevice(
            AERBackend.injectDevice, record,
            note:
                "struct aer_error_inj for \(address): uncorrectable 0x\(hexText(aer.uncorrectable, digits: 8)), correctable 0x\(hexText(aer.correctable, digits: 8))"
                + (aer.header.map { ", header " + $0.map { hexText($0, digits: 8) }.joined(separator: " ") } ?? ""),
            hint:
                "aer_inject: ENODEV no such device; EPROTONOSUPPORT the device or its root port lacks AER, or the OS does not own AER (firmware first); EINVAL the error is masked on the device",
            trigger: true)
    }

    /// One CPER PCIe record per class, composed by the ghes backend (which writes it, notifies
    /// the OS and expects its own report).
    private func planFirmwareFirst(
        _ aer: AERRequest, device: PCIDevice, classes: (correctable: UInt32, nonFatal: UInt32, fatal: UInt32),
        severityRegister: UInt32, _ plan: inout Plan
    ) throws {
        let at = try device.requireLocation()
        let address = device.address
        for (cls, bits) in [
            (Class.correctable, classes.correctable), (.nonFatal, classes.nonFatal), (.fatal, classes.fatal),
        ] where bits != 0 {
            var arguments = [
                "section": "pcie", "severity": cls.cperSeverity, "segment": String(at.segment), "bus": String(at.bus),
                "pcie_device": String(at.device), "pcie_function": String(at.function),
            ]
            if let vendor = target.value("sys/bus/pci/devices/\(address)/vendor") { arguments["vendor_id"] = vendor }
            if cls == .correctable {
                arguments["aer_cor_status"] = "0x" + hexText(bits, digits: 8)
            } else {
                arguments["aer_uncor_status"] = "0x" + hexText(bits, digits: 8)
                arguments["aer_uncor_severity"] = "0x" + hexText(severityRegister, digits: 8)
            }
            plan.notify("ghes", arguments, note: "a firmware-first \(cls.cperSeverity) CPER PCIe record for \(address)")
        }
    }

    /// What the kernel reports: the device's error lines, the aer_event tracepoint, its counters
    /// (exactly, when one message carries the errors), and no other device's.
    private func expect(
        _ aer: AERRequest, address: String, classes: (correctable: UInt32, nonFatal: UInt32, fatal: UInt32),
        route: String, readAfterFatal: Bool, _ plan: inout Plan
    ) {
        let base = "sys/bus/pci/devices/\(address)"
        let others = ((try? target.list("sys/bus/pci/devices")) ?? []).filter { other in
            // Bridges see their links' errors.
            other != address && target.exists("sys/bus/pci/devices/\(other)/aer_dev_correctable")
                && !(target.value("sys/bus/pci/devices/\(other)/class") ?? "").hasPrefix("0x0604")
        }.prefix(16)
        for (cls, bits) in [
            (Class.correctable, classes.correctable), (.nonFatal, classes.nonFatal), (.fatal, classes.fatal),
        ] where bits != 0 {
            // A fatal firmware-first record makes the kernel panic: nothing more is reported.
            if route == "ghes" && cls == .fatal { continue }
            let errors = AERError.decode(bits, cls == .correctable ? .correctable : .uncorrectable).errors
            if cls == .fatal && route != "ghes" && !readAfterFatal {
                // The kernel does not read an endpoint's registers after a fatal message (its link
                // may be down): it reports the source as "Inaccessible", counts it on the root port
                // and resets the link.
                plan.expect(
                    .kernelLog(
                        "PCIe Bus Error: severity=Uncorrect", note: "the kernel prints the endpoint as Inaccessible"))
                plan.expect(.traceEvent("ras:aer_event", fields: "dev_name=\(address) severity=\"Fatal\""))
                continue
            }
            // The firmware path prints the record's status ("aer_status:" to 6.12, "aer_cor_status:" or
            // "aer_uncor_status:" on 7.3).
            plan.expect(
                .kernelLog(route == "ghes" ? "_status: 0x\(hexText(bits, digits: 8))" : "PCIe Bus Error: severity="))
            // One line per error after the device's name, indented by 4 spaces to 6.12 and 3 on 7.3
            // (which adds the agent and layer columns): the line from "[" on is the kernel's in both.
            for error in errors {
                plan.expect(.kernelLog("[\(error.bit < 10 ? " " : "")\(error.bit)] \(error.kernelName)"))
            }
            let names = errors.compactMap(\.traceName).enumerated().map { " error\($0.offset)=\"\($0.element)\"" }
                .joined()
            // The kernel prints the header words in hex without leading zeros: four to 6.12, fourteen
            // on 7.3 (room for a flit-mode header), so the expectation is the first four.
            let header =
                aer.header.map { " header=\"{" + $0.map { hexNumber($0) }.joined(separator: ",") + "\"" } ?? ""
            plan.expect(
                .traceEvent(
                    "ras:aer_event",
                    fields: "dev_name=\(address) severity=\"\(cls.traceSeverity)\"" + names
                        + (route == "ghes" ? "" : header)))
            // QEMU sends one message per error; the root port may fold them into one report.
            let messages = route == "qemu" ? errors.count : 1
            let total = "\(base)/\(cls.counterFile)"
            plan.expect(messages == 1 ? .counterExact(total, delta: 1) : .counter(total, delta: 1))
            for error in errors {
                plan.expect(.counterExact("\(base)/\(cls.counterPrefix)#\(error.kernelName)", delta: 1))
            }
            for other in others {
                plan.expect(
                    .counterExact(
                        "sys/bus/pci/devices/\(other)/\(cls.counterFile)", delta: 0, note: "another device: unchanged"))
            }
        }
    }
}
