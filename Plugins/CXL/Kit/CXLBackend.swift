import InjectPluginAPI

/// CXL memory devices: event records (general media, DRAM, memory module), poison (inject,
/// clear, the kernel's poison list) and protocol errors through the device's RAS capability.
/// Paths: QEMU 10's QMP `cxl-inject-*` commands for a VM (the lab's `--with cxl`), the kernel's
/// memdev debugfs for poison on any host, firmware-first CPER sections and APEI EINJ's CXL types
/// through the ghes backend. The host finds the device; this backend knows CXL.
public struct CXLBackend: InjectBackend {
    /// The protocol errors QEMU raises through the RAS capability, with the kernel's names for them.
    static let correctableErrors: KeyValuePairs<String, String> = [
        "cache-data-ecc": "Cache Data ECC Error", "mem-data-ecc": "Memory Data ECC Error",
        "crc-threshold": "CRC Threshold Hit",
        "retry-threshold": "Retry Threshold", "cache-poison-received": "Received Cache Poison From Peer",
        "mem-poison-received": "Received Memory Poison From Peer", "physical": "Received Error From Physical Layer",
    ]
    static let uncorrectableErrors = [
        "cache-data-parity", "cache-address-parity", "cache-be-parity", "cache-data-ecc", "mem-data-parity",
        "mem-address-parity", "mem-be-parity", "mem-data-ecc", "reinit-threshold", "rsvd-encoding",
        "poison-received", "receiver-overflow", "internal", "cxl-ide-tx", "cxl-ide-rx",
    ]
    static let events = [
        "general-media", "dram", "memory-module", "poison", "clear-poison", "poison-list", "correctable",
        "uncorrectable",
    ]

    public static let descriptor = BackendDescriptor(
        name: "cxl", version: "0.1.0",
        summary:
            "CXL memory devices: event records, poison and protocol errors (QEMU 10 QMP, the memdev debugfs, firmware-first CPER, EINJ)",
        families: ["cxl", "memory"],
        parameters: [
            Parameter(
                "event", .choice(events), default: "general-media",
                help:
                    "general-media, dram, memory-module: an event record in the device's log; poison / clear-poison: a poisoned range (then the poison list is read); poison-list: read the kernel's poison list; correctable / uncorrectable: a protocol error through the RAS capability"
            ),
            Parameter(
                "memdev", .string,
                help: "the memory device: mem0, serial:N, or its PCI address or QEMU id (default: the first)"),
            Parameter(
                "via", .choice(["auto", "qemu", "debugfs", "ghes", "einj"]), default: "auto",
                help:
                    "qemu: QEMU 10's cxl-inject-* QMP commands; debugfs: the kernel's memdev inject_poison/clear_poison (poison only, any host); ghes: an event record or protocol error as firmware reports it, a CPER CXL component event or CXL protocol error section through the ghes backend (a lab, or --guest-memory); einj: a protocol error through APEI EINJ's CXL.cache/CXL.mem types into the device's port (the ghes backend writes EINJ's files; a platform that offers them, e.g. a lab with --with cxl); auto: debugfs for clear-poison, else qemu when the device has a QEMU id"
            ),
            Parameter(
                "log", .choice(["informational", "warning", "failure", "fatal"]), default: "informational",
                help: "the event log the record goes to"),
            Parameter("flags", .u64(0...255), default: "0", help: "the event record's flags"),
            Parameter(
                "dpa", .address(), default: "0x1000",
                help: "device physical address (general-media, dram, poison; 64-byte aligned for poison)"),
            Parameter("length", .u64(64...0x1000_0000), default: "64", help: "poison: bytes (a multiple of 64)"),
            Parameter(
                "descriptor", .u64(0...255), default: "1",
                help:
                    "general-media, dram: memory event descriptor bits (1 uncorrectable, 2 threshold, 4 poison list overflow)"
            ),
            Parameter(
                "type", .u64(0...255), default: "0",
                help:
                    "general-media, dram: memory event type (0 ECC error, 1 invalid address, 2 data path error); memory-module: event type"
            ),
            Parameter(
                "transaction_type", .u64(0...255), default: "0",
                help: "general-media, dram: memory transaction type (0 unknown, 1 host read, 2 host write, ...)"),
            Parameter("channel", .u64(0...255), help: "general-media, dram: channel"),
            Parameter("rank", .u64(0...255), help: "general-media, dram: rank"),
            Parameter("device", .u64(0...0xFF_FFFF), help: "general-media: device"),
            Parameter("component_id", .string, help: "general-media: component id (up to 16 characters)"),
            Parameter("bank_group", .u64(0...255), help: "dram: bank group"),
            Parameter("bank", .u64(0...255), help: "dram: bank"),
            Parameter("row", .u64(0...0x3_FFFF), help: "dram: row"),
            Parameter("column", .u64(0...0xFFFF), help: "dram: column"),
            Parameter("health_status", .u64(0...255), default: "0", help: "memory-module: health status bits"),
            Parameter("media_status", .u64(0...255), default: "0", help: "memory-module: media status"),
            Parameter("additional_status", .u64(0...255), default: "0", help: "memory-module: additional status"),
            Parameter("life_used", .u64(0...100), default: "0", help: "memory-module: life used (percent)"),
            Parameter(
                "temperature", .int(-32768...32767), default: "25", help: "memory-module: device temperature (Celsius)"),
            Parameter(
                "dirty_shutdowns", .u64(0...0xFFFF_FFFF), default: "0", help: "memory-module: dirty shutdown count"),
            Parameter(
                "corrected_volatile", .u64(0...0xFFFF_FFFF), default: "0",
                help: "memory-module: corrected volatile error count"),
            Parameter(
                "corrected_persistent", .u64(0...0xFFFF_FFFF), default: "0",
                help: "memory-module: corrected persistent error count"),
            Parameter(
                "error", .string,
                help:
                    "correctable: \(correctableErrors.map(\.key).joined(separator: ", ")); uncorrectable: \(uncorrectableErrors.joined(separator: ", ")) (comma-separated)"
            ),
        ],
        kernelModules: ["cxl_pci", "cxl_mem"],
        traceEvents: [
            "cxl:cxl_general_media", "cxl:cxl_dram", "cxl:cxl_memory_module", "cxl:cxl_poison",
            "cxl:cxl_aer_correctable_error", "cxl:cxl_aer_uncorrectable_error", "cxl:cxl_overflow",
        ],
        // rasdaemon 0.8's tables (ras-record.c), for the events it enables.
        consumerTables: [
            "cxl:cxl_general_media": "cxl_general_media_event", "cxl:cxl_dram": "cxl_dram_event",
            "cxl:cxl_memory_module": "cxl_memory_module_event", "cxl:cxl_poison": "cxl_poison_event",
            "cxl:cxl_aer_correctable_error": "cxl_aer_ce_event", "cxl:cxl_aer_uncorrectable_error": "cxl_aer_ue_event",
            "cxl:cxl_overflow": "cxl_overflow_event",
        ],
        logMarkers: ["cxl"])

    public init() {}

    public func probe(_ target: Target) throws -> [Capability] {
        let names = ((try? target.list("sys/bus/cxl/devices")) ?? []).sorted()
        var found: [Capability] = []
        for name in names where name.hasPrefix("mem") {
            let memdev = try? CXLMemdev.find(name, on: target)
            var detail =
                "serial \(memdev?.serial ?? "?"), PCI \(memdev?.pci?.address ?? "?")"
                + (memdev?.qomPath.map { ", QEMU \($0)" } ?? "")
            if let size = target.value("sys/bus/cxl/devices/\(name)/pmem/size") { detail += ", pmem \(size)" }
            if let size = target.value("sys/bus/cxl/devices/\(name)/ram/size") { detail += ", ram \(size)" }
            detail +=
                target.exists("sys/kernel/debug/cxl/\(name)/inject_poison")
                ? "; debugfs inject_poison/clear_poison" : "; no memdev debugfs poison files"
            found.append(Capability(name, available: true, detail))
        }
        let ports = names.filter { $0.hasPrefix("port") || $0.hasPrefix("root") || $0.hasPrefix("endpoint") }
        let decoders = names.filter { $0.hasPrefix("decoder") }
        let regions = names.filter { $0.hasPrefix("region") }
        found.append(
            Capability(
                "topology", available: !names.isEmpty,
                names.isEmpty
                    ? "no sys/bus/cxl/devices: in a lab, `inject lab up --with cxl`; on a host, modprobe cxl_acpi cxl_pci cxl_mem"
                    : "ports \(ports.joined(separator: " ")); decoders \(decoders.count); regions \(regions.isEmpty ? "none" : regions.joined(separator: " "))"
            ))
        found.append(
            Capability(
                "qemu", available: target.hasQMP,
                target.hasQMP
                    ? "QMP cxl-inject-* (QEMU 10: `inject lab up --with cxl` runs it; QEMU 7.2 lacks them)"
                    : "no QEMU monitor (--lab or --qmp)"))
        found.append(
            Capability(
                "firmware-first", available: target.hasFirmwareMemory,
                target.hasFirmwareMemory
                    ? "via=ghes: CPER CXL component event and protocol error sections through the ghes backend"
                    : "via=ghes needs firmware memory: --lab NAME or --guest-memory"))
        let einj = "sys/kernel/debug/apei/einj/available_error_type"
        if let listed = target.value("sys/kernel/debug/cxl/einj_types") {
            found.append(
                Capability(
                    "einj", available: !listed.isEmpty,
                    "via=einj: the kernel lists the platform's CXL types: "
                        + listed.split(separator: "\n").joined(separator: "; ")))
        } else {
            found.append(
                Capability(
                    "einj", available: target.exists(einj),
                    target.exists(einj)
                        ? "via=einj: EINJ is loaded; this kernel does not list CXL types (no einj-cxl), so the platform's answer to error_type says whether it offers them (a lab with --with cxl does)"
                        : "via=einj needs EINJ: modprobe einj on a platform with an EINJ table"))
        }
        found.append(
            Capability(
                "tracepoints", available: target.exists("sys/kernel/tracing/events/cxl/cxl_general_media"),
                "cxl_general_media, cxl_dram, cxl_memory_module, cxl_poison, cxl_aer_*"))
        return found
    }

    /// The cxl tracepoints' device, log, addresses and kinds, for `inject watch`.
    public func decode(event: String, payload: String) -> [String: String] {
        CXLTraceDecoder.decode(event: event, payload: payload)
    }

    public func plan(_ request: PlanRequest) throws -> Plan {
        try CXLPlanner(p: request.parameters, target: request.target).plan()
    }
}
