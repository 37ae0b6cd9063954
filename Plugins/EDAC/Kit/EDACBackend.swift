import FirmwareFormats
import InjectPluginAPI

/// Memory-controller errors aimed at a DIMM and checked against its EDAC counters: EDAC's fake
/// injection where the kernel has EDAC debugging, a memory controller driver's own test address
/// (skx_edac, i10nm_edac) where present, otherwise a GHES memory record that ghes_edac counts on
/// the DIMM whose SMBIOS handle it names (composed by the host through the ghes backend).
public struct EDACBackend: InjectBackend {
    /// The paths, in the order `via=auto` tries them.
    static let paths = ["fake_inject", "decoder", "ghes"]
    /// Drivers' debugfs test files: writing a physical address reports a corrected error there.
    static let decoderFiles = ["sys/kernel/debug/edac/skx_test/addr", "sys/kernel/debug/edac/i10nm_test/addr"]

    public static let descriptor = BackendDescriptor(
        name: "edac", version: "0.2.0",
        summary: "Memory-controller errors aimed at a DIMM, checked against EDAC counters",
        families: ["memory", "edac"],
        parameters: [
            Parameter("mc", .u64(0...255), default: "0", help: "the memory controller (mcN)"),
            Parameter(
                "dimm", .string,
                help:
                    "the DIMM: its index (1), its label (\"P0_CH_A DIMM_A1\") or the label's last word (DIMM_A1); `inject probe edac` lists them"
            ),
            Parameter(
                "layer0", .u64(0...255),
                help:
                    "fake_inject: first layer index (csrow, channel or slot; from the DIMM's location when dimm is given)"
            ),
            Parameter("layer1", .u64(0...255), help: "fake_inject: second layer index"),
            Parameter("layer2", .u64(0...255), help: "fake_inject: third layer index"),
            Parameter("error", .choice(["ce", "ue"]), default: "ce", help: "corrected or uncorrected"),
            Parameter("count", .u64(1...65535), default: "1", help: "how many errors to report"),
            Parameter(
                "via", .choice(["auto"] + paths), default: "auto",
                help:
                    "auto: fake_inject when the kernel has EDAC debugging, else a driver's test address (skx/i10nm) when an address is given, else a GHES record"
            ),
            Parameter(
                "address", .address(),
                help:
                    "physical address: the record's address, and the DIMM when dimm is not given (from the SMBIOS ranges)"
            ),
            Parameter("source", .u64(0...65535), default: "0", help: "ghes path: the GHES source"),
            Parameter(
                "block_address", .address(),
                help: "ghes path: the GHES error status block (found through the HEST when not given)"),
            Parameter("node", .u64(0...0xFFFF), help: "ghes path: the DIMM's node"),
            Parameter("card", .u64(0...0xFFFF), help: "ghes path: the DIMM's card (memory controller)"),
            Parameter("module", .u64(0...0xFFFF), help: "ghes path: the DIMM (module) number"),
            Parameter("rank", .u64(0...0xFFFF), help: "ghes path: the rank"),
        ],
        traceEvents: ["ras:mc_event"],
        consumerTables: ["ras:mc_event": "mc_event"],
        logMarkers: ["EDAC"])

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        let inventory = EDACInventory(target)
        var capabilities = [
            Capability(
                "controllers", available: !inventory.controllers.isEmpty,
                inventory.controllers.isEmpty
                    ? "no EDAC memory controller (on GHES platforms ghes_edac registers one: 6.1 with ghes_edac.force_load=1, 6.2+ with the ghes_edac module and ghes.edac_force_enable=1; a lab has it with --kernel bookworm-backports)"
                    : inventory.controllers.map { "mc\($0.index) \($0.name)" }.joined(separator: ", "))
        ]
        for controller in inventory.controllers {
            capabilities.append(
                Capability(
                    "mc\(controller.index)", available: true,
                    "\(controller.name), \(controller.dimms.count) DIMM(s)"
                        + (controller.sizeMiB.map { ", \($0) MiB" } ?? "")
                        + ", ce \(controller.correctedCount.map(String.init) ?? "?") (without location \(controller.correctedWithoutLocation.map(String.init) ?? "?"))"
                        + " ue \(controller.uncorrectedCount.map(String.init) ?? "?")"))
            for dimm in controller.dimms {
                let device = controller.isGHES ? inventory.memoryMap.device(for: dimm) : nil
                capabilities.append(
                    Capability(
                        "mc\(controller.index)/\(dimm.name)", available: true,
                        dimm.summary + (device.map { ", SMBIOS handle \(hexNumber($0.handle))" } ?? "")))
            }
        }
        let fake = target.exists("sys/kernel/debug/edac/mc0/fake_inject")
        capabilities.append(
            Capability(
                "fake_inject", available: fake,
                fake ? "EDAC debugfs fake injection" : "missing: the kernel lacks EDAC_DEBUG (no Debian kernel has it)")
        )
        let decoder = Self.decoderFiles.first(where: target.exists)
        capabilities.append(
            Capability(
                "decoder", available: decoder != nil,
                decoder.map { "a driver's test address: \($0)" }
                    ?? "missing: no skx_edac or i10nm_edac test address (they need EDAC_DEBUG and the Intel memory controller)"
            ))
        let ghes = inventory.controllers.contains(where: \.isGHES)
        capabilities.append(
            Capability(
                "ghes", available: ghes,
                ghes
                    ? "GHES memory records counted by ghes_edac"
                        + (inventory.memoryMap.devices.isEmpty
                            ? " (no SMBIOS memory devices: records land on no single DIMM)"
                            : " on the DIMM their SMBIOS handle names")
                    : "GHES records are reported but no EDAC counter moves: ghes_edac is not registered"))
        return capabilities
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        let p = request.parameters
        let mc = Int(p.number("mc") ?? 0)
        // Only what the plan needs: the controller named, without its counters.
        let controller = EDACInventory.controller(mc, in: request.target, counts: false)
        let uncorrected = p.text("error") == "ue"
        let count = p.number("count") ?? 1
        let via = try choosePath(p.text("via") ?? "auto", request: request, controller: controller)
        // The SMBIOS table is read only where a GHES record is to name a DIMM.
        let memoryMap =
            via == "ghes" && controller?.isGHES == true && (p.text("dimm") != nil || p.number("address") != nil)
            ? SMBIOSMemoryMap(request.target) : nil
        // The DIMM, by name or by address; the plan's expectations are about it.
        var dimm: EDACInventory.DIMM?
        if let text = p.text("dimm") {
            guard let controller else {
                let others = EDACInventory.controllerIndices(request.target)
                throw BackendError.unsupported(
                    "dimm=\(text): no EDAC memory controller mc\(mc) is registered on this target"
                        + (others.isEmpty
                            ? " (its kernel has no ghes_edac: Debian's 6.1 lacks CONFIG_EDAC_GHES; boot the lab with --kernel bookworm-backports, which has it)"
                            : "; it has \(others.map { "mc\($0)" }.joined(separator: ", "))"))
            }
            dimm = try EDACInventory.dimm(text, in: controller)
        } else if let address = p.number("address"), let controller, let memoryMap {
            dimm = memoryMap.dimm(at: address, in: controller)
        }

        var plan = Plan()
        if uncorrected {
            plan.requireConfirmation("an uncorrected memory error can make the kernel kill processes or panic")
        }
        switch via {
        case "fake_inject":
            try planFakeInject(&plan, p, mc: mc, dimm: dimm, uncorrected: uncorrected, count: count)
        case "decoder":
            try planDecoder(&plan, p, request: request, uncorrected: uncorrected, count: count)
        default:
            try planGHES(
                &plan, p, memoryMap: memoryMap, controller: controller, dimm: dimm, uncorrected: uncorrected,
                count: count)
            guard controller?.isGHES == true else { return plan }
        }
        expect(&plan, controller: controller, mc: mc, dimm: dimm, uncorrected: uncorrected, count: count)
        return plan
    }

    /// `auto` resolved against what the target has; an explicit path is checked.
    private func choosePath(_ via: String, request: PlanRequest, controller: EDACInventory.Controller?)
        throws(BackendError) -> String
    {
        let target = request.target
        let mc = request.parameters.number("mc") ?? 0
        switch via {
        case "auto":
            if target.exists("sys/kernel/debug/edac/mc\(mc)/fake_inject") { return "fake_inject" }
            if request.parameters.number("address") != nil, request.parameters.text("error") != "ue",
                controller?.isGHES != true,
                Self.decoderFiles.contains(where: target.exists)
            {
                return "decoder"
            }
            return "ghes"
        case "decoder":
            guard request.parameters.text("error") != "ue" else {
                throw BackendError.invalid(
                    "via=decoder reports corrected errors only; use via=ghes (or fake_inject) for error=ue")
            }
            return via
        default:
            return via
        }
    }

    private func planFakeInject(
        _ plan: inout Plan, _ p: ParameterValues, mc: Int, dimm: EDACInventory.DIMM?,
        uncorrected: Bool, count: UInt64
    ) throws(BackendError) {
        let directory = "sys/kernel/debug/edac/mc\(mc)"
        let hint = "the kernel needs CONFIG_EDAC_DEBUG and a registered mc\(mc)"
        let layers = dimm?.layers ?? []
        for layer in 0...2 {
            let value = p.number("layer\(layer)") ?? (layer < layers.count ? layers[layer] : 0)
            plan.write("\(directory)/fake_inject_layer\(layer)", String(value), hint: hint)
        }
        plan.write("\(directory)/fake_inject_ue", uncorrected ? "1" : "0", hint: hint)
        plan.write("\(directory)/fake_inject_count", String(count), hint: hint)
        plan.write(
            "\(directory)/fake_inject", "1", note: "report the errors" + (dimm.map { " on '\($0.label)'" } ?? ""),
            hint: hint, trigger: true)
    }

    private func planDecoder(
        _ plan: inout Plan, _ p: ParameterValues, request: PlanRequest, uncorrected: Bool, count: UInt64
    ) throws(BackendError) {
        guard let address = p.number("address") else {
            throw BackendError.invalid("via=decoder needs address=PHYS: the driver decodes the DIMM from it")
        }
        let file = Self.decoderFiles.first(where: request.target.exists) ?? Self.decoderFiles[0]
        plan.write(
            file, hexNumber(address),
            note: "the driver decodes \(hexNumber(address)) and reports a corrected error there",
            hint: "needs skx_edac or i10nm_edac with CONFIG_EDAC_DEBUG", trigger: true)
        if count > 1 { plan.repeatLast(1, times: count - 1, note: "\(count) errors in all") }
    }

    private func planGHES(
        _ plan: inout Plan, _ p: ParameterValues, memoryMap: SMBIOSMemoryMap?, controller: EDACInventory.Controller?,
        dimm: EDACInventory.DIMM?, uncorrected: Bool, count: UInt64
    ) throws(BackendError) {
        let mc = Int(p.number("mc") ?? 0)
        // The DIMM's location travels in the CPER memory section; the ghes backend finds the
        // source's block through the target's HEST unless block_address is given.
        // The FRU text names the target: a record the kernel saw within 10 s with the same
        // bytes (a ghes backend default, say) would be dropped as a repeat.
        var arguments = [
            "source": String(p.number("source") ?? 0), "severity": uncorrected ? "recoverable" : "corrected",
            "fru_text": dimm.map { String($0.label.split(separator: " ").last ?? "") } ?? "EDAC mc\(mc)",
        ]
        for name in ["block_address", "address"] {
            if let value = p.number(name) { arguments[name] = hexNumber(value) }
        }
        for name in ["node", "card", "module", "rank"] {
            if let value = p.number(name) { arguments[name] = String(value) }
        }
        var note: String
        if let controller, controller.isGHES {
            note = "a GHES memory record that ghes_edac counts"
            if let dimm {
                guard let device = memoryMap?.device(for: dimm) else {
                    throw BackendError.unsupported(
                        "DIMM \(dimm.index) '\(dimm.label)' has no SMBIOS memory device with that label"
                            + (memoryMap?.problem.map { " (the SMBIOS table: \($0))" } ?? "")
                            + ", so no record can name it")
                }
                arguments["module_handle"] = String(device.handle)
                note += " on '\(dimm.label)' (SMBIOS handle \(hexNumber(device.handle)))"
            } else {
                note +=
                    " on no single DIMM (no dimm=, and no SMBIOS range holds the address): mc\(mc)'s counters without location move"
            }
        } else if let controller {
            throw BackendError.unsupported(
                "mc\(mc) is \(controller.name), not ghes_edac: GHES records do not reach it; use via=fake_inject or via=decoder"
            )
        } else {
            note =
                "a GHES memory record; no EDAC memory controller mc\(mc) is registered on this target (its kernel has no ghes_edac), so the GHES report is the evidence and no EDAC counter moves"
        }
        // One record, then a repeat of it: a storm of 65535 is a few steps, not 65535 plans.
        plan.notify("ghes", arguments, note: note)
        if count > 1 {
            plan.repeatLast(
                1, times: count - 1, note: "\(count) records in all, each after the OS consumed the previous one")
        }
    }

    /// The counters that must move (the DIMM's by exactly `count`, every other DIMM's not at all)
    /// and the mc_event tracepoint with the DIMM's label.
    private func expect(
        _ plan: inout Plan, controller: EDACInventory.Controller?, mc: Int, dimm: EDACInventory.DIMM?,
        uncorrected: Bool, count: UInt64
    ) {
        let suffix = uncorrected ? "ue_count" : "ce_count"
        let base = "\(EDACInventory.controllers)/mc\(mc)"
        plan.expect(.counter("\(base)/\(suffix)", delta: Int64(count)))
        var fields = "error_type=\(uncorrected ? "Uncorrected" : "Corrected") mc_index=\(mc)"
        if let dimm, let controller {
            for other in controller.dimms {
                plan.expect(
                    .counterExact(
                        "\(other.path)/dimm_\(suffix)", delta: other.index == dimm.index ? Int64(count) : 0,
                        note: other.index == dimm.index ? "the DIMM '\(dimm.label)'" : nil))
            }
            fields += " label=\"\(dimm.label)\""
        }
        plan.expect(.traceEvent("ras:mc_event", fields: fields))
    }
}
