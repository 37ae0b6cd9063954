import InjectPluginAPI

/// Firmware-first errors: a CPER record written into a GHES error status block, then delivered by
/// its notification (routed by the host to the nmi backend) or found by the kernel's poller.
struct GHESBackend: InjectBackend {
    static let descriptor = BackendDescriptor(
        name: "ghes", version: "0.1.0",
        summary: "Firmware-first CPER records through GHES error sources (the lab's firmware memory)",
        families: ["firmware-first", "memory", "cper"],
        parameters: [
            Parameter("source", .u64(0...65535), default: "0", help: "the GHES source id (see inject probe ghes)"),
            Parameter("block_address", .address(), required: true,
                      help: "guest-physical address of the source's error status block"),
            Parameter("severity", .choice(CPERMemoryRecord.severities), default: "corrected", help: "CPER severity"),
            Parameter("address", .address(), help: "physical address of the memory error"),
            Parameter("notify", .choice(["poll", "nmi"]), default: "poll",
                      help: "poll: the kernel's poller finds it; nmi: raise an NMI through the nmi backend"),
        ])

    init() {}

    func probe(_ target: Target) throws -> [Capability] {
        let hest = target.exists("sys/firmware/acpi/tables/HEST")
        return [
            Capability("hest", available: hest, hest ? "HEST table present" : "no HEST table: the platform has no GHES sources"),
            Capability("firmware-memory", available: target.hasFirmwareMemory,
                       target.hasFirmwareMemory ? "guest memory writable" : "no --guest-memory given (the lab provides it)"),
        ]
    }

    func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let severity = UInt32(p.number("severity") ?? 2)
        guard let block = p.number("block_address") else { throw BackendError.invalid("block_address is required") }
        let record = CPERMemoryRecord(severity: severity, physicalAddress: p.number("address"))
        var plan = Plan()
        if severity == 1 { plan.requireConfirmation("a fatal GHES record makes the kernel panic") }
        plan.writeMemory(block, record.bytes,
                         note: "Generic Error Status Block + platform memory error section (\(CPERMemoryRecord.severities[Int(severity)]))")
        if p.text("notify") == "nmi" {
            plan.notify("nmi", ["signal": "nmi"], note: "deliver the record's NMI notification")
        }
        let source = p.number("source") ?? 0
        plan.expect(.kernelLog("Hardware error from APEI Generic Hardware Error Source: \(source)"))
        if let address = p.number("address") {
            plan.expect(.kernelLog("physical_address: 0x" + String(repeating: "0", count: max(0, 16 - String(address, radix: 16).count)) + String(address, radix: 16)))
        }
        return plan
    }
}
