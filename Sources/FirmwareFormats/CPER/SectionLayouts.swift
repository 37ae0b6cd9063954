/// The fixed-layout sections of UEFI appendix N this encoder knows, field by field.
public enum SectionLayouts {
    /// Platform memory error (N.2.5), 80 bytes.
    public static let platformMemory = SectionLayout(
        type: GUID("A5BC1114-6F64-4EDE-B863-3E83ED7C83B1")!, name: "platform memory error", size: 80,
        fields: [
            SectionField(name: "error_status", offset: 8, size: 8, bit: 0),
            SectionField(name: "physical_address", offset: 16, size: 8, bit: 1),
            SectionField(name: "physical_address_mask", offset: 24, size: 8, bit: 2),
            SectionField(name: "node", offset: 32, size: 2, bit: 3),
            SectionField(name: "card", offset: 34, size: 2, bit: 4),
            SectionField(name: "module", offset: 36, size: 2, bit: 5),
            SectionField(name: "bank", offset: 38, size: 2, bit: 6),
            SectionField(name: "device", offset: 40, size: 2, bit: 7),
            SectionField(name: "row", offset: 42, size: 2, bit: 8),
            SectionField(name: "column", offset: 44, size: 2, bit: 9),
            SectionField(name: "bit_position", offset: 46, size: 2, bit: 10),
            SectionField(name: "requestor_id", offset: 48, size: 8, bit: 11),
            SectionField(name: "responder_id", offset: 56, size: 8, bit: 12),
            SectionField(name: "target_id", offset: 64, size: 8, bit: 13),
            SectionField(name: "error_type", offset: 72, size: 1, bit: 14),
            SectionField(name: "extended", offset: 73, size: 1, bit: 18),
            SectionField(name: "rank", offset: 74, size: 2, bit: 15),
            SectionField(name: "card_handle", offset: 76, size: 2, bit: 16),
            SectionField(name: "module_handle", offset: 78, size: 2, bit: 17),
        ])

    /// Processor generic error (N.2.4.1), 192 bytes.
    public static let processorGeneric = SectionLayout(
        type: GUID("9876CCAD-47B4-4BDB-B65E-16F193C4F3DB")!, name: "processor generic error", size: 192,
        fields: [
            SectionField(name: "processor_type", offset: 8, size: 1, bit: 0),
            SectionField(name: "isa", offset: 9, size: 1, bit: 1),
            SectionField(name: "error_type", offset: 10, size: 1, bit: 2),
            SectionField(name: "operation", offset: 11, size: 1, bit: 3),
            SectionField(name: "flags", offset: 12, size: 1, bit: 4),
            SectionField(name: "level", offset: 13, size: 1, bit: 5),
            SectionField(name: "cpu_version", offset: 16, size: 8, bit: 6),
            SectionField(name: "brand_string", offset: 24, size: 128, bit: 7),
            SectionField(name: "processor_id", offset: 152, size: 8, bit: 8),
            SectionField(name: "target_address", offset: 160, size: 8, bit: 9),
            SectionField(name: "requestor_id", offset: 168, size: 8, bit: 10),
            SectionField(name: "responder_id", offset: 176, size: 8, bit: 11),
            SectionField(name: "instruction_ip", offset: 184, size: 8, bit: 12),
        ])

    /// PCI Express error (N.2.7), 208 bytes.
    public static let pcie = SectionLayout(
        type: GUID("D995E954-BBC1-430F-AD91-B44DCB3C6F35")!, name: "PCIe error", size: 208,
        fields: [
            SectionField(name: "port_type", offset: 8, size: 4, bit: 0),
            SectionField(name: "version", offset: 12, size: 2, bit: 1),
            SectionField(name: "command", offset: 16, size: 2, bit: 2),
            SectionField(name: "status", offset: 18, size: 2, bit: 2),
            SectionField(name: "vendor_id", offset: 24, size: 2, bit: 3),
            SectionField(name: "device_id", offset: 26, size: 2, bit: 3),
            SectionField(name: "class_code", offset: 28, size: 3, bit: 3),
            SectionField(name: "function", offset: 31, size: 1, bit: 3),
            SectionField(name: "device", offset: 32, size: 1, bit: 3),
            SectionField(name: "segment", offset: 33, size: 2, bit: 3),
            SectionField(name: "bus", offset: 35, size: 1, bit: 3),
            SectionField(name: "secondary_bus", offset: 36, size: 1, bit: 3),
            SectionField(name: "slot", offset: 37, size: 2, bit: 3),
            SectionField(name: "serial_number", offset: 40, size: 8, bit: 4),
            SectionField(name: "bridge_secondary_status", offset: 48, size: 2, bit: 5),
            SectionField(name: "bridge_control", offset: 50, size: 2, bit: 5),
            SectionField(name: "capability", offset: 52, size: 60, bit: 6),
            SectionField(name: "aer_info", offset: 112, size: 96, bit: 7),
        ])

    /// Every fixed layout.
    public static let all = [platformMemory, processorGeneric, pcie]
}
