import FirmwareFormats

/// A CXL component event (general media, DRAM, memory module) as firmware reports it: a CPER
/// section of the event's type (CXL 3.1 sec. 8.2.9.2.1; UEFI CPER "CXL Component Events") with a
/// 32-byte header (length, validation bits, the device's PCI identity and serial number) and then
/// the event record without its UUID: the 32-byte common record header (length, flags with the
/// record's log in bits 0-1, handles, timestamp) and the event's 80 bytes. Linux's ghes.c passes
/// it to cxl_pci, which traces it as it traces the device's own log.
public struct CXLComponentEvent: Sendable, Equatable {
    /// The kinds, with their section (and event record) type.
    public enum Kind: String, Sendable, CaseIterable {
        case generalMedia = "general-media"
        case dram
        case memoryModule = "memory-module"

        /// The CPER section type GUID (the event record's UUID).
        public var sectionType: String {
            switch self {
            case .generalMedia: "FBCD0A77-C260-417F-85A9-088B1621EBA6"
            case .dram: "601DCBB3-9C06-4EAB-B8AF-4E9BFB5C9624"
            case .memoryModule: "FE927475-DD59-4339-A586-79BAB113B774"
            }
        }
    }

    public var kind: Kind
    /// PCI segment, bus, device, function of the memory device.
    public var segment: UInt16, bus: UInt8, device: UInt8, function: UInt8
    public var vendorID: UInt16, deviceID: UInt16
    public var serial: UInt64
    /// The log the record belongs to (0 informational, 1 warning, 2 failure, 3 fatal).
    public var log: UInt8
    /// The event's 80 bytes after the common header.
    public var body: [UInt8]

    /// The section's bytes (144).
    public var bytes: [UInt8] {
        var out = ByteWriter()
        out.put(UInt32(144))  // section length
        out.put(UInt64(0b111))  // device id, serial number and event log valid
        out.put(vendorID)
        out.put(deviceID)
        out.put(function)
        out.put(device)
        out.put(bus)
        out.put(segment)
        out.put(UInt16(device) << 3)
        out.put(UInt8(0))  // slot number (bits 15:3), reserved
        out.put(serial)  // lower then upper double word
        // The common event record header.
        out.put(UInt8(128))  // the record's length as the device's log has it
        out.put(log & 3, count: 3)  // flags: the record's severity (its log)
        out.put([], padTo: 2 + 2 + 8 + 1 + 15)  // handle, related handle, timestamp, class, reserved
        out.put(body, padTo: 80)
        return out.bytes
    }

    /// A general media or DRAM event's first bytes: the DPA (64-byte aligned, low bits flags),
    /// descriptor, type, transaction type and the validity flags of the fields that follow.
    static func media(
        dpa: UInt64, descriptor: UInt8, type: UInt8, transactionType: UInt8, validity: UInt16, rest: [UInt8]
    ) -> [UInt8] {
        var out = ByteWriter()
        out.put(dpa & ~0x3F)
        out.put(descriptor)
        out.put(type)
        out.put(transactionType)
        out.put(validity)
        out.put(rest)
        return out.bytes
    }
}
