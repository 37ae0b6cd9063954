/// The ACPI Hardware Error Source Table (ACPI 6.5, 18.3.2): built for the lab's firmware and
/// parsed by the GHES backend, by the same code.
///
/// Layout: the 36-byte table header, a u32 source count, then one structure per source. Generic
/// Hardware Error Sources (type 9, 64 bytes; GHESv2, type 10, 92 bytes) carry the Error Status
/// Address register (a ``GenericAddress``), a 28-byte notification structure and the error status
/// block length. Other source types are kept as their raw bytes.
public struct HEST: Sendable, Equatable {
    /// How the OS learns that a source has a record (ACPI 6.5, table 18.14).
    public enum NotificationType: UInt8, Sendable, CaseIterable, Codable, CustomStringConvertible {
        case polled = 0
        case externalInterrupt = 1
        case localInterrupt = 2
        case sci = 3
        case nmi = 4
        case cmci = 5
        case mce = 6
        case gpio = 7
        case sea = 8
        case sei = 9
        case gsiv = 10
        case softwareDelegatedException = 11

        /// The name used on the command line and in `lab status`.
        public var name: String {
            switch self {
            case .polled: "polled"
            case .externalInterrupt: "external-irq"
            case .localInterrupt: "local-irq"
            case .sci: "sci"
            case .nmi: "nmi"
            case .cmci: "cmci"
            case .mce: "mce"
            case .gpio: "gpio"
            case .sea: "sea"
            case .sei: "sei"
            case .gsiv: "gsiv"
            case .softwareDelegatedException: "sdei"
            }
        }

        public var description: String {
            switch self {
            case .polled: "polled"
            case .externalInterrupt: "external interrupt"
            case .localInterrupt: "local interrupt"
            case .sci: "SCI"
            case .nmi: "NMI"
            case .cmci: "CMCI"
            case .mce: "MCE"
            case .gpio: "GPIO"
            case .sea: "SEA"
            case .sei: "SEI"
            case .gsiv: "GSIV"
            case .softwareDelegatedException: "software delegated exception"
            }
        }
    }

    /// The 28-byte Hardware Error Notification structure.
    public struct Notification: Sendable, Equatable {
        /// The raw type; ``kind`` when it is one ACPI defines.
        public var type: UInt8
        public var configurationWriteEnable: UInt16 = 0
        /// Polled sources: the interval in milliseconds.
        public var pollIntervalMilliseconds: UInt32 = 0
        /// Interrupt sources: the vector (GSIV).
        public var vector: UInt32 = 0
        public var switchToPollingThresholdValue: UInt32 = 0
        public var switchToPollingThresholdWindow: UInt32 = 0
        public var errorThresholdValue: UInt32 = 0
        public var errorThresholdWindow: UInt32 = 0

        /// The defined type, or `nil` for a reserved one.
        public var kind: NotificationType? { NotificationType(rawValue: type) }

        /// A notification of `kind`.
        public init(_ kind: NotificationType, pollIntervalMilliseconds: UInt32 = 0, vector: UInt32 = 0) {
            type = kind.rawValue
            self.pollIntervalMilliseconds = pollIntervalMilliseconds
            self.vector = vector
        }

        init(from reader: inout ByteReader) throws(FormatError) {
            type = try reader.get("notification.type")
            let length: UInt8 = try reader.get("notification.length")
            guard length == 28 else {
                throw .badLength(field: "notification.length", value: Int(length), reason: "must be 28")
            }
            configurationWriteEnable = try reader.get("notification.configuration_write_enable")
            pollIntervalMilliseconds = try reader.get("notification.poll_interval")
            vector = try reader.get("notification.vector")
            switchToPollingThresholdValue = try reader.get("notification.polling_threshold_value")
            switchToPollingThresholdWindow = try reader.get("notification.polling_threshold_window")
            errorThresholdValue = try reader.get("notification.error_threshold_value")
            errorThresholdWindow = try reader.get("notification.error_threshold_window")
        }

        func write(to writer: inout ByteWriter) {
            writer.put(type)
            writer.put(UInt8(28))
            writer.put(configurationWriteEnable)
            writer.put(pollIntervalMilliseconds)
            writer.put(vector)
            writer.put(switchToPollingThresholdValue)
            writer.put(switchToPollingThresholdWindow)
            writer.put(errorThresholdValue)
            writer.put(errorThresholdWindow)
        }
    }

    /// A Generic Hardware Error Source (type 9) or GHESv2 (type 10).
    public struct GenericSource: Sendable, Equatable {
        public var relatedSourceID: UInt16 = 0xFFFF
        public var flags: UInt8 = 0
        public var enabled: UInt8 = 1
        public var recordsToPreallocate: UInt32 = 1
        public var maxSectionsPerRecord: UInt32 = 1
        public var maxRawDataLength: UInt32
        /// The register that holds the error status block's address.
        public var errorStatusAddress: GenericAddress
        public var notification: Notification
        public var errorStatusBlockLength: UInt32
        /// GHESv2 only: the Read Ack register and its preserve and write masks.
        public var readAck: (register: GenericAddress, preserve: UInt64, write: UInt64)?

        /// A source whose status address register is at `register` and whose block is `blockLength` bytes.
        public init(register: UInt64, blockLength: UInt32, notification: Notification) {
            maxRawDataLength = blockLength
            errorStatusAddress = .memory(register)
            self.notification = notification
            errorStatusBlockLength = blockLength
        }

        public static func == (a: GenericSource, b: GenericSource) -> Bool {
            a.relatedSourceID == b.relatedSourceID && a.flags == b.flags && a.enabled == b.enabled
                && a.recordsToPreallocate == b.recordsToPreallocate && a.maxSectionsPerRecord == b.maxSectionsPerRecord
                && a.maxRawDataLength == b.maxRawDataLength && a.errorStatusAddress == b.errorStatusAddress
                && a.notification == b.notification && a.errorStatusBlockLength == b.errorStatusBlockLength
                && a.readAck?.register == b.readAck?.register && a.readAck?.preserve == b.readAck?.preserve
                && a.readAck?.write == b.readAck?.write
        }
    }

    /// One error source.
    public struct Source: Sendable, Equatable {
        /// The structure type (0 IA-32 MCE, 1 CMC, 2 NMI, 6-8 PCIe AER, 9 GHES, 10 GHESv2, 11 deferred MCE).
        public var type: UInt16
        public var id: UInt16
        /// Types 9 and 10.
        public var generic: GenericSource?
        /// Other types: the structure's bytes after type and id, kept as they are.
        public var raw: [UInt8] = []

        /// A GHES (type 9) source.
        public static func ghes(id: UInt16, _ source: GenericSource) -> Source {
            Source(type: 9, id: id, generic: source)
        }

        /// What the type number means.
        public var typeName: String {
            [
                0: "IA-32 machine check", 1: "IA-32 corrected machine check", 2: "IA-32 NMI", 6: "PCIe root port AER",
                7: "PCIe device AER", 8: "PCIe bridge AER", 9: "GHES", 10: "GHESv2", 11: "IA-32 deferred machine check",
            ][type]
                ?? "type \(type)"
        }
    }

    /// The table header (signature HEST, revision 1).
    public var header = ACPITableHeader(signature: "HEST", revision: 1)
    /// The sources, in table order.
    public var sources: [Source]
    /// Set by the parser when a source type of unknown size ended parsing early.
    public private(set) var stoppedAtUnknownType: UInt16?

    /// A table of `sources`.
    public init(sources: [Source]) { self.sources = sources }

    /// The table bytes, checksummed.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.put(UInt32(sources.count))
        for source in sources {
            writer.put(source.type)
            writer.put(source.id)
            guard let generic = source.generic else {
                writer.put(source.raw)
                continue
            }
            writer.put(generic.relatedSourceID)
            writer.put(generic.flags)
            writer.put(generic.enabled)
            writer.put(generic.recordsToPreallocate)
            writer.put(generic.maxSectionsPerRecord)
            writer.put(generic.maxRawDataLength)
            generic.errorStatusAddress.write(to: &writer)
            generic.notification.write(to: &writer)
            writer.put(generic.errorStatusBlockLength)
            if source.type == 10 {
                let ack = generic.readAck ?? (.memory(0), 0, 0)
                ack.register.write(to: &writer)
                writer.put(ack.preserve)
                writer.put(ack.write)
            }
        }
        return header.table(body: writer.bytes)
    }

    /// Parses a table; a source type whose size is not known ends the list (``stoppedAtUnknownType``).
    public init(parsing table: [UInt8]) throws(FormatError) {
        header = try ACPITableHeader(parsing: table, signature: "HEST")
        var reader = ByteReader(Array(table.prefix(Int(header.length))), offset: ACPITableHeader.size)
        let count: UInt32 = try reader.get("source count")
        sources = []
        for index in 0..<Int(count) {
            let start = reader.offset
            let type: UInt16 = try reader.get("sources[\(index)].type")
            let id: UInt16 = try reader.get("sources[\(index)].id")
            var source = Source(type: type, id: id)
            if type == 9 || type == 10 {
                var generic = GenericSource(register: 0, blockLength: 0, notification: Notification(.polled))
                generic.relatedSourceID = try reader.get("related source id")
                generic.flags = try reader.get("flags")
                generic.enabled = try reader.get("enabled")
                generic.recordsToPreallocate = try reader.get("records to preallocate")
                generic.maxSectionsPerRecord = try reader.get("max sections per record")
                generic.maxRawDataLength = try reader.get("max raw data length")
                generic.errorStatusAddress = try GenericAddress(from: &reader, "error status address")
                generic.notification = try Notification(from: &reader)
                generic.errorStatusBlockLength = try reader.get("error status block length")
                if type == 10 {
                    generic.readAck = (
                        try GenericAddress(from: &reader, "read ack register"), try reader.get("read ack preserve"),
                        try reader.get("read ack write")
                    )
                }
                source.generic = generic
            } else {
                guard let length = Self.length(ofType: type, at: start, in: reader.bytes) else {
                    stoppedAtUnknownType = type
                    sources.append(source)
                    return
                }
                source.raw = try reader.bytes(length - 4, "sources[\(index)] (type \(type))")
            }
            sources.append(source)
        }
    }

    /// The size of a non-generic source structure starting at `start`, or `nil` when unknown.
    private static func length(ofType type: UInt16, at start: Int, in bytes: [UInt8]) -> Int? {
        func u8(_ at: Int) -> Int { start + at < bytes.count ? Int(bytes[start + at]) : 0 }
        switch type {
        case 0: return 40 + 32 * u8(32)
        case 1, 11: return 48 + 32 * u8(44)
        case 2: return 20
        case 6: return 48
        case 7: return 44
        case 8: return 56
        default: return nil
        }
    }

    /// One line per source: type, id, notification, status address register.
    public var lines: [String] {
        sources.map { source in
            var line = "source \(source.id): \(source.typeName)"
            if let generic = source.generic {
                let notification = generic.notification
                line += ", notified by " + (notification.kind?.description ?? "type \(notification.type)")
                if notification.kind == .polled { line += " every \(notification.pollIntervalMilliseconds) ms" }
                line += ", status address register \(hexNumber(generic.errorStatusAddress.address))"
            }
            return line
        }
    }
}
