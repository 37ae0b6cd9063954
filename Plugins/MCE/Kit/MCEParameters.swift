import InjectPluginAPI

/// The mce backend's parameter schema.
enum MCEParameters {
    /// The CPUs and banks a request may name, by parameter or through `replay`.
    static let cpus: ClosedRange<UInt64> = 0...8191
    static let banks: ClosedRange<UInt64> = 0...63
    /// The values a replayed log line sets; none may also be given beside `replay`.
    static let replayed = ["cpu", "bank", "status", "addr", "misc", "synd", "ipid", "mcgstatus"]

    static let all: [Parameter] = [
        Parameter(
            "via", .choice(["debugfs", "qemu", "hwpoison"]), default: "debugfs",
            help:
                "debugfs: the kernel's mce-inject; qemu: the VM's virtual CPU raises it (needs --qmp or --lab); hwpoison: poison a page (memory failure)"
        ),
        Parameter("cpu", .cpu(cpus), help: "the CPU that sees the machine check (0 when not given)"),
        Parameter("bank", .u64(banks), help: "the MCA bank (1 when not given)"),
        Parameter(
            "severity", .choice(StatusWord.severities.map(\.name)), default: "corrected",
            help: "corrected, ucna, srao, srar, fatal or deferred (AMD): sets VAL EN UC S AR PCC"),
        Parameter(
            "error_class", .choice(MCACode.classes), default: "memory",
            help:
                "builds the MCA error code: memory (channel, transaction), cache (request, cache_type, level), bus (participation, request, space, level, timeout), generic"
        ),
        Parameter("transaction", .choice(MCACode.transactions), default: "read", help: "memory: the transaction"),
        Parameter("channel", .u64(0...15), default: "15", help: "memory: the channel (15: unspecified)"),
        Parameter("request", .choice(MCACode.requests), default: "data-read", help: "cache and bus: the request"),
        Parameter(
            "cache_type", .choice(MCACode.cacheTypes), default: "data", help: "cache: instruction, data or generic"),
        Parameter("level", .choice(MCACode.levels), default: "l2", help: "cache and bus: the hierarchy level"),
        Parameter("participation", .choice(MCACode.participations), default: "generic", help: "bus: this CPU's role"),
        Parameter("space", .choice(MCACode.spaces), default: "memory", help: "bus: memory or io"),
        Parameter("timeout", .bool, default: "false", help: "bus: the request timed out"),
        Parameter("mca_code", .u64(0...0xFFFF), help: "raw MCA error code (bits 15:0); overrides error_class"),
        Parameter(
            "status", .u64(), help: "raw MCi_STATUS; overrides severity and the error code (--dry-run decodes it)"),
        Parameter("addr", .address(), help: "MCi_ADDR; sets ADDRV when status is built; hwpoison: the page's address"),
        Parameter("misc", .u64(), help: "MCi_MISC; sets MISCV when status is built"),
        Parameter("synd", .u64(), help: "MCi_SYND (AMD)"),
        Parameter("ipid", .u64(), help: "MCi_IPID (AMD SMCA)"),
        Parameter("overflow", .bool, default: "false", help: "set OVER in a built status"),
        Parameter("mcgstatus", .u64(), help: "MCG_STATUS for the qemu path; derived from the severity when not given"),
        Parameter(
            "flags", .choice(["sw", "hw", "df", "th"]), default: "sw",
            help: "mce-inject mode: sw software only, hw also real MSRs, df deferred, th threshold"),
        Parameter("broadcast", .bool, default: "false", help: "qemu path: raise it on every CPU"),
        Parameter(
            "replay", .string,
            help:
                "a machine check as the kernel logged it (\"CPU 0: Machine Check: 0 Bank 1: 9c00... TSC .. ADDR .. MISC ..\"): sets cpu, bank, status, addr, misc, synd, ipid"
        ),
        Parameter(
            "file", .file,
            help:
                "mce-inject input files (comma-separated, - for standard input): every record in them, in order, through via=debugfs or via=qemu"
        ),
        Parameter("count", .u64(1...1_000_000), default: "1", help: "how many machine checks (a storm when > 1)"),
        Parameter(
            "interval", .u64(0...60_000_000), default: "0", unit: "us", help: "pause between repeated machine checks"),
        Parameter("pfn", .u64(0...(1 << 52)), help: "hwpoison: the page frame (or give addr)"),
        Parameter("unpoison", .bool, default: "false", help: "hwpoison: unpoison the page instead"),
    ]
}
