import InjectPluginAPI

/// The ghes backend's parameters.
enum GHESParameters {
    static let severities = ["recoverable", "fatal", "corrected", "info"]
    static let sections = ["memory", "processor", "pcie", "arm", "vendor"]
    static let armErrorTypes = ["cache", "tlb", "bus", "micro-architectural"]

    static let all: [Parameter] = [
        Parameter(
            "via", .choice(["ghes", "einj", "qemu"]), default: "ghes",
            help:
                "ghes: write the record into a GHES source's status block and notify it (a lab); einj: the kernel's APEI EINJ (firmware makes the record); qemu: QMP inject-ghes-v2-error (QEMU 10+, arm virt)"
        ),
        Parameter(
            "source", .u64(0...65535), default: "0",
            help: "the GHES source id (`inject probe` lists the HEST's sources)"),
        Parameter(
            "block_address", .address(),
            help: "guest-physical address of the status block; found through the HEST when not given"),
        Parameter(
            "notify", .choice(["auto", "poll", "nmi", "sci"]), default: "auto",
            help:
                "auto: the source's own notification from the HEST; poll: the kernel's poller finds it; nmi: raise an NMI through the nmi backend"
        ),
        Parameter(
            "severity", .choice(severities), default: "corrected", help: "CPER severity (fatal makes the kernel panic)"),
        Parameter(
            "section", .choice(sections), default: "memory",
            help: "the CPER section: platform memory, processor generic, PCIe, ARM processor, or a vendor's"),
        Parameter(
            "revision", .choice(["0x0300", "0x0201"]), default: "0x0300",
            help: "Generic Error Data Entry revision (0x0300 adds a timestamp)"),
        Parameter(
            "address", .address(),
            help: "memory: physical address; processor: target address; arm: physical fault address; einj: param1"),
        Parameter(
            "address_mask", .u64(), help: "memory: physical address mask; einj: param2 (default 0xfffffffffffff000)"),
        Parameter("node", .u64(0...0xFFFF), help: "memory: node"),
        Parameter("card", .u64(0...0xFFFF), help: "memory: card"),
        Parameter("module", .u64(0...0xFFFF), help: "memory: module (DIMM)"),
        Parameter("rank", .u64(0...0xFFFF), help: "memory: rank"),
        Parameter("bank", .u64(0...0xFFFF), help: "memory: bank"),
        Parameter("device", .u64(0...0xFFFF), help: "memory: device (chip)"),
        Parameter("row", .u64(0...0xFFFF), help: "memory: row"),
        Parameter("column", .u64(0...0xFFFF), help: "memory: column"),
        Parameter("bit_position", .u64(0...0xFFFF), help: "memory: bit position"),
        Parameter(
            "module_handle", .u64(0...0xFFFF),
            help: "memory: the DIMM's SMBIOS type-17 handle (ghes_edac counts the record on that DIMM)"),
        Parameter("card_handle", .u64(0...0xFFFF), help: "memory: the memory board's SMBIOS type-16 handle"),
        Parameter(
            "memory_error_type", .u64(0...255),
            help: "memory: UEFI memory error type (2 single-bit ECC, 3 multi-bit ECC, ...)"),
        Parameter("segment", .u64(0...0xFFFF), help: "pcie: segment"),
        Parameter("bus", .u64(0...255), help: "pcie: bus"),
        Parameter("pcie_device", .u64(0...31), help: "pcie: device"),
        Parameter("pcie_function", .u64(0...7), help: "pcie: function"),
        Parameter("port_type", .u64(0...15), help: "pcie: port type (0 endpoint, 4 root port, ...)"),
        Parameter("vendor_id", .u64(0...0xFFFF), help: "pcie: vendor id"),
        Parameter(
            "aer_cor_status", .u64(0...0xFFFF_FFFF),
            help:
                "pcie: the AER Correctable Error Status register (the kernel reports and counts each bit on the device)"
        ),
        Parameter("aer_uncor_status", .u64(0...0xFFFF_FFFF), help: "pcie: the AER Uncorrectable Error Status register"),
        Parameter(
            "aer_uncor_severity", .u64(0...0xFFFF_FFFF),
            help: "pcie: the AER Uncorrectable Error Severity register (default: the PCIe reset value 0x00462030)"),
        Parameter("mpidr", .u64(), help: "arm: MPIDR_EL1 of the failing processor"),
        Parameter("arm_error", .choice(armErrorTypes), default: "cache", help: "arm: the error information type"),
        Parameter("level", .u64(0...7), help: "processor: cache level"),
        Parameter(
            "section_type", .string, help: "vendor: the section type GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"),
        Parameter("data", .bytes, help: "vendor: the section's bytes (hex)"),
        Parameter("fru_text", .string, help: "FRU text of the data entry (up to 20 characters, e.g. a DIMM label)"),
        Parameter(
            "error_type", .u64(0...0xFFFF_FFFF),
            help: "einj: the EINJ error type (default from section and severity; see available_error_type)"),
        Parameter(
            "flags", .u64(0...0x7),
            help:
                "einj: flags (default: bit 1 when address is given, bit 0 with param3, bit 2 with param4 or a pcie bus)"
        ),
        Parameter("param3", .u64(0...0xFFFF_FFFF), help: "einj: the APIC ID of the CPU (flags bit 0)"),
        Parameter(
            "param4", .u64(0...0xFFFF_FFFF),
            help:
                "einj: the PCIe SBDF (flags bit 2; computed from segment, bus, pcie_device, pcie_function when not given)"
        ),
        Parameter(
            "components", .string,
            help:
                "einj: EINJv2 (ACPI 6.5): the components the error goes into, each ID:SYNDROME in hex of up to 128 bits (e.g. 0x1:0x4,0x2:0x4); their number follows from the list. Needs a kernel and platform with EINJv2 (available_error_type lists V2_ types)"
        ),
        Parameter(
            "v2_type", .u64(0x1...0x4),
            help:
                "einj: with components, the EINJv2 error type: 0x1 processor, 0x2 memory, 0x4 PCIe (default from section)"
        ),
        Parameter(
            "notrigger", .bool, default: "false",
            help: "einj: set up the error without triggering it (the next access does)"),
    ]
}
