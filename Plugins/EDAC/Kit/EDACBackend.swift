import InjectPluginAPI

/// Memory-controller errors aimed at a DIMM: EDAC's fake injection where the kernel has it,
/// otherwise a GHES memory record that ghes_edac counts (composed by the host).
public struct EDACBackend: InjectBackend {
    public static let descriptor = BackendDescriptor(
        name: "edac", version: "0.1.0",
        summary: "Memory-controller errors aimed at a DIMM, checked against EDAC counters",
        families: ["memory", "edac"],
        parameters: [
            Parameter("mc", .u64(0...255), default: "0", help: "the memory controller (mcN)"),
            Parameter("layer0", .u64(0...255), default: "0", help: "first layer index (csrow, channel or slot)"),
            Parameter("layer1", .u64(0...255), default: "0", help: "second layer index"),
            Parameter("layer2", .u64(0...255), default: "0", help: "third layer index"),
            Parameter("error", .choice(["ce", "ue"]), default: "ce", help: "corrected or uncorrected"),
            Parameter("count", .u64(1...65535), default: "1", help: "how many errors to report"),
            Parameter("via", .choice(["auto", "fake_inject", "ghes"]), default: "auto",
                      help: "auto: fake_inject when the kernel has EDAC debugging, otherwise a GHES record"),
            Parameter("address", .address(), help: "physical address, for the ghes path"),
            Parameter("source", .u64(0...65535), default: "0", help: "the GHES source, for the ghes path"),
            Parameter("block_address", .address(), help: "GHES error status block, for the ghes path (found through the HEST when not given)"),
            Parameter("node", .u64(0...0xFFFF), help: "ghes path: the DIMM's node"),
            Parameter("card", .u64(0...0xFFFF), help: "ghes path: the DIMM's card (memory controller)"),
            Parameter("module", .u64(0...0xFFFF), help: "ghes path: the DIMM (module)"),
            Parameter("rank", .u64(0...0xFFFF), help: "ghes path: the rank"),
        ],
        traceEvents: ["ras:mc_event"],
        logMarkers: ["EDAC"])

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        let controllers = (try? target.list("sys/devices/system/edac/mc"))?.filter { $0.hasPrefix("mc") } ?? []
        let fake = target.exists("sys/kernel/debug/edac/mc0/fake_inject")
        return [
            Capability("controllers", available: !controllers.isEmpty,
                       controllers.isEmpty ? "no EDAC memory controllers (ghes_edac.force_load=1 registers one on GHES platforms)" : controllers.joined(separator: ", ")),
            Capability("fake_inject", available: fake, fake ? "EDAC debugfs fake injection" : "missing: the kernel lacks EDAC_DEBUG (the stock Debian kernel does)"),
        ]
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let mc = p.number("mc") ?? 0
        let directory = "sys/kernel/debug/edac/mc\(mc)"
        let via = p.text("via") ?? "auto"
        let useFake = via == "fake_inject" || (via == "auto" && request.target.exists("\(directory)/fake_inject"))
        let uncorrected = p.text("error") == "ue"
        let count = p.number("count") ?? 1
        var plan = Plan()
        if uncorrected { plan.requireConfirmation("an uncorrected memory error can make the kernel kill processes or panic") }
        if useFake {
            let hint = "the kernel needs CONFIG_EDAC_DEBUG and a registered mc\(mc)"
            for layer in 0...2 {
                plan.write("\(directory)/fake_inject_layer\(layer)", String(p.number("layer\(layer)") ?? 0), hint: hint)
            }
            plan.write("\(directory)/fake_inject_ue", uncorrected ? "1" : "0", hint: hint)
            plan.write("\(directory)/fake_inject_count", String(count), hint: hint)
            plan.write("\(directory)/fake_inject", "1", note: "report the errors", hint: hint, trigger: true)
        } else {
            // The DIMM's location travels in the CPER memory section; the ghes backend finds the
            // source's block through the target's HEST unless block_address is given.
            // The FRU text names the controller: a record the kernel saw within 10 s with the same
            // bytes (a ghes backend default, say) would be dropped as a repeat.
            var arguments = ["source": String(p.number("source") ?? 0), "severity": uncorrected ? "recoverable" : "corrected",
                             "fru_text": "EDAC mc\(mc)"]
            for name in ["block_address", "address"] {
                if let value = p.number(name) { arguments[name] = "0x" + String(value, radix: 16) }
            }
            for name in ["node", "card", "module", "rank"] {
                if let value = p.number(name) { arguments[name] = String(value) }
            }
            let registered = request.target.exists("sys/devices/system/edac/mc/mc\(mc)")
            let note = registered ? "a GHES memory record that ghes_edac counts"
                : "a GHES memory record; no EDAC memory controller mc\(mc) is registered on this target (its kernel has no ghes_edac), so the GHES report is the evidence and no EDAC counter moves"
            // One record, then a repeat of it: a storm of 65535 is a few steps, not 65535 plans.
            plan.notify("ghes", arguments, note: note)
            if count > 1 { plan.repeatLast(1, times: count - 1, note: "\(count) records in all, each after the OS consumed the previous one") }
            guard registered else { return plan }
        }
        let counter = uncorrected ? "ue_count" : "ce_count"
        plan.expect(.counter("sys/devices/system/edac/mc/mc\(mc)/\(counter)", delta: Int64(count)))
        plan.expect(.traceEvent("ras:mc_event", fields: "error_type=\(uncorrected ? "Uncorrected" : "Corrected") mc_index=\(mc)"))
        return plan
    }
}
