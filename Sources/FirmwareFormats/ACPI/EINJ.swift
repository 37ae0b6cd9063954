/// The ACPI Error Injection table (ACPI 6.5, 18.6): built for the lab's firmware and parsed back
/// by the same code. The OS runs its instruction entries, action by action, against registers the
/// firmware watches.
///
/// Layout: the 36-byte table header, the injection header length (u32: 48, the header and this
/// part; the kernel also accepts 12), flags (u8), 3 reserved bytes, the entry count (u32), then
/// 32-byte entries: action, instruction, flags, reserved, a ``GenericAddress``, value (u64), mask
/// (u64). A trigger error action table (``TriggerTable``) has a 16-byte header and the same entries.
public struct EINJ: Sendable, Equatable {
    /// Injection actions (ACPI 6.5 table 18.25).
    public enum Action: UInt8, Sendable, CaseIterable {
        case beginOperation = 0
        case getTriggerErrorActionTable = 1
        case setErrorType = 2
        case getErrorType = 3
        case endOperation = 4
        case executeOperation = 5
        case checkBusyStatus = 6
        case getCommandStatus = 7
        case setErrorTypeWithAddress = 8
        case getExecuteOperationTimings = 9
        /// The EINJv2 error types the platform offers (ACPI 6.5; Linux's ACPI_EINJV2_GET_ERROR_TYPE).
        case getErrorTypeV2 = 0x11
        case triggerError = 0xFF
    }

    /// Injection instructions (ACPI 6.5 table 18.26).
    public enum Instruction: UInt8, Sendable, CaseIterable {
        case readRegister = 0
        case readRegisterValue = 1
        case writeRegister = 2
        case writeRegisterValue = 3
        case noop = 4
    }

    /// One instruction entry.
    public struct Entry: Sendable, Equatable {
        public var action: UInt8
        public var instruction: UInt8
        /// Bit 0: preserve the register's other bits on a write.
        public var flags: UInt8 = 0
        public var register: GenericAddress
        public var value: UInt64
        public var mask: UInt64

        /// The size of an entry.
        public static let size = 32

        /// An entry for `action` doing `instruction` on `register`.
        public init(
            _ action: Action, _ instruction: Instruction, _ register: GenericAddress, value: UInt64 = 0,
            mask: UInt64 = .max
        ) {
            self.action = action.rawValue
            self.instruction = instruction.rawValue
            self.register = register
            self.value = value
            self.mask = mask
        }

        init(from reader: inout ByteReader, _ index: Int) throws(FormatError) {
            action = try reader.get("entries[\(index)].action")
            instruction = try reader.get("entries[\(index)].instruction")
            flags = try reader.get("entries[\(index)].flags")
            _ = try reader.get("entries[\(index)].reserved", as: UInt8.self)
            register = try GenericAddress(from: &reader, "entries[\(index)].register")
            value = try reader.get("entries[\(index)].value")
            mask = try reader.get("entries[\(index)].mask")
        }

        func write(to writer: inout ByteWriter) {
            writer.put(action)
            writer.put(instruction)
            writer.put(flags)
            writer.put(UInt8(0))
            register.write(to: &writer)
            writer.put(value)
            writer.put(mask)
        }
    }

    /// The table header (signature EINJ, revision 1).
    public var header = ACPITableHeader(signature: "EINJ", revision: 1)
    /// The injection header length field.
    public var injectionHeaderLength: UInt32 = 48
    public var flags: UInt8 = 0
    public var entries: [Entry]

    /// A table of `entries`.
    public init(entries: [Entry]) { self.entries = entries }

    /// The table bytes, checksummed.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.put(injectionHeaderLength)
        writer.put(flags)
        writer.put([0, 0, 0])
        writer.put(UInt32(entries.count))
        for entry in entries { entry.write(to: &writer) }
        return header.table(body: writer.bytes)
    }

    /// Parses a table, checking the entry count against its length as the kernel does.
    public init(parsing table: [UInt8]) throws(FormatError) {
        header = try ACPITableHeader(parsing: table, signature: "EINJ")
        var reader = ByteReader(Array(table.prefix(Int(header.length))), offset: ACPITableHeader.size)
        injectionHeaderLength = try reader.get("injection header length")
        guard injectionHeaderLength == 48 || injectionHeaderLength == 12 else {
            throw .badLength(
                field: "injection header length", value: Int(injectionHeaderLength), reason: "must be 48 (or 12)")
        }
        flags = try reader.get("flags")
        _ = try reader.bytes(3, "reserved")
        let count: UInt32 = try reader.get("entry count")
        guard Int(count) == (Int(header.length) - 48) / Entry.size else {
            throw .badLength(
                field: "entry count", value: Int(count),
                reason: "the table's length holds \((Int(header.length) - 48) / Entry.size) entries")
        }
        entries = []
        for index in 0..<Int(count) { entries.append(try Entry(from: &reader, index)) }
    }

    /// The entries of `action`, in table order (the order the OS runs them).
    public func entries(for action: Action) -> [Entry] { entries.filter { $0.action == action.rawValue } }

    /// A trigger error action table: what the OS runs after a successful EXECUTE unless told not to.
    public struct TriggerTable: Sendable, Equatable {
        public var revision: UInt32 = 1
        public var entries: [Entry]

        /// The header size.
        public static let headerSize = 16

        public init(entries: [Entry]) { self.entries = entries }

        /// The bytes: header size, revision, table size, entry count, then the entries.
        public func encoded() -> [UInt8] {
            var writer = ByteWriter()
            writer.put(UInt32(Self.headerSize))
            writer.put(revision)
            writer.put(UInt32(Self.headerSize + entries.count * Entry.size))
            writer.put(UInt32(entries.count))
            for entry in entries { entry.write(to: &writer) }
            return writer.bytes
        }

        /// Parses a trigger table, with the kernel's checks (einj_check_trigger_header).
        public init(parsing bytes: [UInt8]) throws(FormatError) {
            var reader = ByteReader(bytes)
            let headerSize: UInt32 = try reader.get("header size")
            guard headerSize == UInt32(Self.headerSize) else {
                throw .badLength(field: "header size", value: Int(headerSize), reason: "must be 16")
            }
            revision = try reader.get("revision")
            let size: UInt32 = try reader.get("table size")
            let count: UInt32 = try reader.get("entry count")
            guard size >= headerSize, size <= 4096, Int(count) == (Int(size) - Self.headerSize) / Entry.size else {
                throw .badLength(
                    field: "table size", value: Int(size),
                    reason: "\(count) entries need \(Self.headerSize + Int(count) * Entry.size) bytes, at most a page")
            }
            entries = []
            for index in 0..<Int(count) { entries.append(try Entry(from: &reader, index)) }
        }
    }
}

/// A PCIe function as EINJ names it (`param4`, ``EINJParameters/pcieSBDF``): segment in bits 31:24,
/// bus in 23:16, device in 15:11, function in 10:8 (ACPI 6.5 table 18.30, Linux's einj `param4`).
public struct PCIeSBDF: Sendable, Equatable {
    public var segment: UInt8
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    /// The function at `segment`/`bus`/`device`/`function`, or `nil` where a part does not fit
    /// its field (segment and bus 0-255, device 0-31, function 0-7).
    public init?<T: BinaryInteger>(segment: T, bus: T, device: T, function: T) {
        guard let segment = UInt8(exactly: segment), let bus = UInt8(exactly: bus), let device = UInt8(exactly: device),
            let function = UInt8(exactly: function), device <= 31, function <= 7
        else { return nil }
        self.segment = segment
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// The parts of an encoded value (bits 7:0 ignored, as the firmware ignores them).
    public init(raw: UInt32) {
        segment = UInt8(raw >> 24)
        bus = UInt8(raw >> 16 & 0xFF)
        device = UInt8(raw >> 11 & 0x1F)
        function = UInt8(raw >> 8 & 0x7)
    }

    /// The encoded value.
    public var raw: UInt32 { UInt32(segment) << 24 | UInt32(bus) << 16 | UInt32(device) << 11 | UInt32(function) << 8 }

    /// `ssss:bb:dd.f`.
    public var text: String { pciAddress(segment: UInt16(segment), bus: bus, device: device, function: function) }
}

/// The SET_ERROR_TYPE_WITH_ADDRESS parameter structure (ACPI 6.5 table 18.30) the OS fills before
/// EXECUTE: type, vendor extension offset, flags, APIC ID, memory address and range, PCIe SBDF.
public struct EINJParameters: Sendable, Equatable {
    public var type: UInt32
    public var vendorExtensionOffset: UInt32
    /// Bit 0: `apicID` valid; bit 1: `memoryAddress` and `memoryRange` valid; bit 2: `pcieSBDF` valid;
    /// bit 3: an EINJv2 injection (``EINJv2Extension``).
    public var flags: UInt32
    public var apicID: UInt32
    public var memoryAddress: UInt64
    public var memoryRange: UInt64
    public var pcieSBDF: UInt32

    /// The bytes the structure occupies.
    public static let size = 36

    /// Reads the structure.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        var reader = ByteReader(bytes)
        type = try reader.get("type")
        vendorExtensionOffset = try reader.get("vendor extension")
        flags = try reader.get("flags")
        apicID = try reader.get("apicid")
        memoryAddress = try reader.get("memory address")
        memoryRange = try reader.get("memory address range")
        pcieSBDF = try reader.get("pcie sbdf")
    }

    /// A structure from its fields.
    public init(
        type: UInt32, flags: UInt32 = 0, apicID: UInt32 = 0, memoryAddress: UInt64 = 0, memoryRange: UInt64 = 0,
        pcieSBDF: UInt32 = 0
    ) {
        self.type = type
        vendorExtensionOffset = 0
        self.flags = flags
        self.apicID = apicID
        self.memoryAddress = memoryAddress
        self.memoryRange = memoryRange
        self.pcieSBDF = pcieSBDF
    }

    /// The bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.put(type)
        writer.put(vendorExtensionOffset)
        writer.put(flags)
        writer.put(apicID)
        writer.put(memoryAddress)
        writer.put(memoryRange)
        writer.put(pcieSBDF)
        return writer.bytes
    }
}
