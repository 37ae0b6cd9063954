import FirmwareFormats
import InjectPluginAPI

/// PCI Express Advanced Error Reporting: correctable, non-fatal and fatal errors on a PCIe
/// device, through QEMU's monitor (`pcie_aer_inject_error`), the kernel's aer_inject
/// (`/dev/aer_inject`, accepting the aer-inject tool's files), or firmware first (a CPER PCIe
/// section through the ghes backend). The host finds the device; this backend knows the errors.
public struct AERBackend: InjectBackend {
    public static let descriptor = BackendDescriptor(
        name: "aer", version: "0.1.0",
        summary: "PCIe AER errors through QEMU, the kernel's aer_inject, or firmware first (CPER)",
        families: ["pcie", "aer"],
        parameters: [
            Parameter(
                "device", .string,
                help:
                    "the PCI device: [dddd:]bb:dd.f, or with a QEMU monitor (--lab, --qmp) its QEMU id such as ep0; `inject probe aer` lists them"
            ),
            Parameter(
                "error", .string,
                help:
                    "errors by name, comma-separated: correctable \(AERError.names(.correctable)); uncorrectable \(AERError.names(.uncorrectable)) (QEMU's and aer-inject's spellings work too)"
            ),
            Parameter(
                "severity", .choice(["correctable", "nonfatal", "fatal"]),
                help:
                    "without error=: the first unmasked error of that class on the device (correctable RCVR); with it: checked against the device's Uncorrectable Error Severity register"
            ),
            Parameter(
                "cor_status", .u64(0...0xFFFF_FFFF),
                help: "raw Correctable Error Status bits (with or instead of error=)"),
            Parameter("uncor_status", .u64(0...0xFFFF_FFFF), help: "raw Uncorrectable Error Status bits"),
            Parameter(
                "header", .string, help: "the TLP header log: four 32-bit words (0x40000001,0x0100000f,0xfe000000,0)"),
            Parameter("prefix", .string, help: "via=qemu: the TLP prefix log, four words (needs header=)"),
            Parameter(
                "via", .choice(["auto", "qemu", "aer-inject", "ghes"]), default: "auto",
                help:
                    "qemu: the monitor's pcie_aer_inject_error (one message per error; QEMU 7.2 delivers uncorrectable ones only); aer-inject: the kernel's /dev/aer_inject (any host with CONFIG_PCIEAER_INJECT); ghes: a firmware-first CPER PCIe record; auto: qemu for uncorrectable errors on a QEMU device, else aer-inject"
            ),
            Parameter(
                "file", .file,
                help:
                    "aer-inject input files (comma-separated, - for standard input): every AER block in them, in order; device= names the device of blocks without PCI_ID"
            ),
        ],
        kernelModules: ["aer_inject"],
        traceEvents: ["ras:aer_event"],
        consumerTables: ["ras:aer_event": "aer_event"],
        logMarkers: ["PCIe Bus Error", "AER:"])

    public init() {}

    /// The kernel's device node for aer_inject.
    static let injectDevice = "dev/aer_inject"

    public func probe(_ target: Target) throws -> [Capability] {
        var found: [Capability] = []
        let names = (try? target.list("sys/bus/pci/devices")) ?? []
        let capable = names.filter { target.exists("sys/bus/pci/devices/\($0)/aer_dev_correctable") }
        let services = (try? target.list("sys/bus/pci_express/devices")) ?? []
        let nativePorts = services.filter { $0.hasSuffix(":pcie002") }.map { String($0.dropLast(8)) }
        for address in capable {
            let base = "sys/bus/pci/devices/\(address)"
            let isPort = target.exists("\(base)/aer_rootport_total_err_cor")
            let totals = AERPlanner.Class.allCases.map {
                Self.keyed(target.value("\(base)/\($0.counterPrefix)"), $0.totalKey) ?? "?"
            }
            var detail =
                (isPort ? "root port" : "device")
                + " \(target.value("\(base)/vendor") ?? "?"):\(target.value("\(base)/device") ?? "?")"
            if let id = (try? target.pciDevice(address))?.qemuID { detail += ", QEMU id \(id)" }
            detail += "; errors so far: correctable \(totals[0]), non-fatal \(totals[1]), fatal \(totals[2])"
            if isPort {
                let port = ["cor", "nonfatal", "fatal"].map {
                    target.value("\(base)/aer_rootport_total_err_\($0)") ?? "?"
                }
                detail += "; received as root port: \(port.joined(separator: "/"))"
                detail +=
                    nativePorts.contains(address)
                    ? "; native AER (the OS owns it)"
                    : "; no AER service: firmware first, or the OS was not granted AER (_OSC)"
            } else if let registers = AERRegisters.read(address, on: target) {
                detail +=
                    registers.deviceControl & 7 == 7
                    ? "; reports all classes"
                    : "; error reporting disabled in Device Control (\(hexNumber(registers.deviceControl))): its messages are not sent"
                detail +=
                    "; masked: correctable \(hexNumber(registers.correctableMask)), uncorrectable \(hexNumber(registers.uncorrectableMask)); fatal: \(hexNumber(registers.severity))"
            }
            found.append(Capability(address, available: true, detail))
        }
        if capable.isEmpty {
            found.append(
                Capability(
                    "devices", available: false,
                    "no AER-capable PCI device (no aer_dev_correctable under sys/bus/pci/devices); in a lab, its PCIe endpoints have AER"
                ))
        }
        found.append(
            Capability(
                "aer-inject", available: target.exists(Self.injectDevice),
                target.exists(Self.injectDevice)
                    ? "/dev/aer_inject: the kernel's software injector (via=aer-inject, aer-inject files)"
                    : "no /dev/aer_inject: modprobe aer_inject (the kernel needs CONFIG_PCIEAER_INJECT; Debian's has it as a module)"
            ))
        found.append(
            Capability(
                "qemu", available: target.hasQMP,
                target.hasQMP
                    ? "QEMU's pcie_aer_inject_error on devices with a QEMU id (QEMU 7.2 delivers only uncorrectable errors: its error-message routing drops correctable ones)"
                    : "no QEMU monitor (--lab NAME or --qmp SOCKET)"))
        found.append(
            Capability(
                "ghes", available: target.hasFirmwareMemory,
                target.hasFirmwareMemory
                    ? "firmware-first CPER PCIe records through the ghes backend"
                    : "no firmware memory (via=ghes needs --lab or --guest-memory)"))
        return found
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        var requests: [AERRequest]
        if let files = p.files("file") {
            guard
                !p.isSet("error") && !p.isSet("cor_status") && !p.isSet("uncor_status") && !p.isSet("severity")
                    && !p.isSet("header")
            else {
                throw BackendError.invalid(
                    "file= carries its own errors and header; give only device= (for blocks without PCI_ID) and via= beside it"
                )
            }
            requests = []
            for file in files { requests += try AERInjectFile.parse(file.text, path: file.path) }
            for index in requests.indices where requests[index].device == nil {
                guard let device = p.text("device") else {
                    throw BackendError.invalid(
                        "\(requests[index].origin): the block names no device (PCI_ID or BUS/DEV/FN); add one or give device="
                    )
                }
                requests[index].device = device
            }
        } else {
            requests = [try Self.request(p)]
        }
        var plan = Plan()
        for aer in requests {
            try AERPlanner(
                request: aer, target: request.target, via: p.text("via") ?? "auto",
                severity: p.text("severity")
            ).add(to: &plan)
        }
        return plan
    }

    /// The request of `name=value` parameters (the errors not yet checked against a device).
    public static func request(_ p: ParameterValues) throws -> AERRequest {
        guard let device = p.text("device") else {
            throw BackendError.invalid(
                "device= is required: a PCI address ([dddd:]bb:dd.f) or, in a lab, a QEMU id such as ep0 (`inject probe aer` lists them)"
            )
        }
        var aer = AERRequest(device: AERInjectFile.address(device) ?? device)
        if let names = p.text("error") {
            for name in names.split(separator: ",").map({ String($0).trimmingWhitespace }) where !name.isEmpty {
                guard let error = AERError.named(name) else {
                    throw BackendError.invalid(
                        "error=\(name) is not an AER error; correctable: \(AERError.names(.correctable)); uncorrectable: \(AERError.names(.uncorrectable))"
                    )
                }
                if error.register == .correctable {
                    aer.correctable |= error.mask
                } else {
                    aer.uncorrectable |= error.mask
                }
            }
        }
        aer.correctable |= UInt32(p.number("cor_status") ?? 0)
        aer.uncorrectable |= UInt32(p.number("uncor_status") ?? 0)
        if let header = p.text("header") { aer.header = try LogWords.parse(header, name: "header") }
        if let prefix = p.text("prefix") {
            guard aer.header != nil else {
                throw BackendError.invalid("prefix= needs header= (QEMU logs a prefix only with a header)")
            }
            aer.prefix = try LogWords.parse(prefix, name: "prefix")
        }
        return aer
    }

    /// The number on the line `key value` of a keyed counter file's text.
    static func keyed(_ text: String?, _ key: String) -> String? {
        guard let text else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == key { return String(words[1]) }
        }
        return nil
    }
}
