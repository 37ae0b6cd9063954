/// CPER severities (UEFI N.2.1), as GHES error data entries and status blocks use them.
public enum CPERSeverity: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case recoverable = 0
    case fatal = 1
    case corrected = 2
    case informational = 3

    public var description: String {
        switch self {
        case .recoverable: return "recoverable"
        case .fatal: return "fatal"
        case .corrected: return "corrected"
        case .informational: return "info"
        }
    }

    /// Worst first: fatal, recoverable, corrected, informational.
    var rank: Int { [1, 0, 2, 3].firstIndex(of: Int(rawValue))! }
}

/// A CPER timestamp (UEFI N.2.1.1): BCD seconds, minutes, hours, a precision flag, day, month,
/// year and century, in that byte order.
public enum CPERTimestamp {
    /// The timestamp of `secondsSince1970` (UTC), marked precise.
    public static func encode(secondsSince1970: UInt64) -> UInt64 {
        let days = Int64(secondsSince1970 / 86_400)
        let secondsOfDay = Int(secondsSince1970 % 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        func bcd(_ value: Int) -> UInt64 { UInt64((value / 10) << 4 | (value % 10)) }
        let fields = [
            bcd(secondsOfDay % 60), bcd(secondsOfDay / 60 % 60), bcd(secondsOfDay / 3600), 1,
            bcd(Int(day)), bcd(Int(month)), bcd(year % 100), bcd(year / 100),
        ]
        return fields.enumerated().reduce(0) { $0 | $1.element << (8 * UInt64($1.offset)) }
    }

    /// `YYYY-MM-DD HH:MM:SS`, as the kernel prints it.
    public static func text(_ stamp: UInt64) -> String {
        func byte(_ index: UInt64) -> String { hexText((stamp >> (8 * index)) & 0xFF, digits: 2) }
        return "\(byte(7))\(byte(6))-\(byte(5))-\(byte(4)) \(byte(2)):\(byte(1)):\(byte(0))"
    }
}

/// A Generic Error Data Entry (ACPI 18.3.2.7.1): a section descriptor and its section.
public struct GenericErrorDataEntry: Sendable, Equatable {
    /// 0x0300 (72-byte header with a timestamp) or 0x0201 (64 bytes, none).
    public var revision: UInt16
    public var severity: CPERSeverity
    /// Entry flags (bit 0 primary, ...).
    public var flags: UInt8
    /// The FRU id, when valid.
    public var fruID: GUID?
    /// The FRU text (up to 20 bytes), when valid.
    public var fruText: String?
    /// The timestamp (revision 0x0300 only), when valid.
    public var timestamp: UInt64?
    /// The section.
    public var section: ErrorSection
    /// The severity field as decoded bytes held it (``severity`` maps values outside 0...3 to
    /// informational; a decoder shows this one).
    public private(set) var givenSeverity: UInt32?

    /// Creates an entry.
    public init(
        revision: UInt16 = 0x0300, severity: CPERSeverity, flags: UInt8 = 0, fruID: GUID? = nil,
        fruText: String? = nil, timestamp: UInt64? = nil, section: ErrorSection
    ) {
        self.revision = revision
        self.severity = severity
        self.flags = flags
        self.fruID = fruID
        self.fruText = fruText
        self.timestamp = revision >= 0x0300 ? timestamp : nil
        self.section = section
    }

    /// Entries are equal when they encode the same (what a decoder was given is not compared).
    public static func == (a: Self, b: Self) -> Bool {
        a.revision == b.revision && a.severity == b.severity && a.flags == b.flags && a.fruID == b.fruID
            && a.fruText == b.fruText && a.timestamp == b.timestamp && a.section == b.section
    }

    /// The header size of `revision`.
    static func headerSize(_ revision: UInt16) -> Int { revision >= 0x0300 ? 72 : 64 }

    var bytes: [UInt8] {
        let body = section.bytes
        var out = ByteWriter()
        out.put(section.type.bytes)
        out.put(severity.rawValue)
        out.put(revision)
        let validation = (fruID != nil ? 1 : 0) | (fruText != nil ? 2 : 0) | (timestamp != nil ? 4 : 0)
        out.put(UInt8(validation))
        out.put(flags)
        out.put(UInt32(body.count))
        out.put(fruID?.bytes ?? [UInt8](repeating: 0, count: 16))
        out.put(Array((fruText ?? "").utf8), padTo: 20)
        if revision >= 0x0300 { out.put(timestamp ?? 0) }
        out.put(body)
        return out.bytes
    }

    init(reading reader: inout ByteReader) throws(FormatError) {
        let type = GUID(bytes: try reader.bytes(16, "section type"))
        let rawSeverity: UInt32 = try reader.get("entry severity")
        let revision: UInt16 = try reader.get("entry revision")
        guard revision == 0x0300 || revision == 0x0201 || revision == 0x0200 else { throw .unknownRevision(revision) }
        let validation: UInt8 = try reader.get("entry validation bits")
        flags = try reader.get("entry flags")
        let length: UInt32 = try reader.get("error data length")
        let fru = try reader.bytes(16, "FRU id")
        let text = try reader.bytes(20, "FRU text")
        timestamp = revision >= 0x0300 ? try reader.get("timestamp", as: UInt64.self) : nil
        if validation & 4 == 0 { timestamp = nil }
        self.revision = revision
        severity = CPERSeverity(rawValue: rawSeverity) ?? .informational
        givenSeverity = rawSeverity
        fruID = validation & 1 != 0 ? GUID(bytes: fru) : nil
        fruText = validation & 2 != 0 ? String(decoding: text.prefix { $0 != 0 }, as: UTF8.self) : nil
        section = try ErrorSection(
            type: type, body: try reader.bytes(Int(length), "the section (error data length \(length))"))
    }
}

/// A Generic Error Status Block (ACPI 18.3.2.7.1): what firmware leaves at a GHES source's error
/// status address, holding one or more data entries.
public struct GenericErrorStatusBlock: Sendable, Equatable {
    public var entries: [GenericErrorDataEntry]

    /// The header fields as decoded bytes held them (`nil` for a block made in code).
    public struct GivenHeader: Sendable, Equatable {
        public var blockStatus: UInt32
        public var rawDataOffset: UInt32
        public var rawDataLength: UInt32
        public var dataLength: UInt32
        public var severity: UInt32
    }

    /// What the decoded bytes said, shown by ``fieldLines`` as given.
    public private(set) var given: GivenHeader?

    /// Creates a block.
    public init(entries: [GenericErrorDataEntry]) { self.entries = entries }

    /// Blocks are equal when they encode the same (what a decoder was given is not compared).
    public static func == (a: Self, b: Self) -> Bool { a.entries == b.entries }

    /// The worst entry severity.
    public var severity: CPERSeverity { entries.map(\.severity).min { $0.rank < $1.rank } ?? .informational }

    /// Block status: uncorrectable (bit 0) or correctable (bit 1) valid, multiple of each (2, 3),
    /// and the entry count in bits 13:4.
    public var blockStatus: UInt32 {
        let uncorrected = entries.filter { $0.severity == .fatal || $0.severity == .recoverable }.count
        let corrected = entries.count - uncorrected
        var status = UInt32(min(entries.count, 0x3FF)) << 4
        if uncorrected > 0 { status |= 1 }
        if corrected > 0 { status |= 1 << 1 }
        if uncorrected > 1 { status |= 1 << 2 }
        if corrected > 1 { status |= 1 << 3 }
        return status
    }

    /// The encoded block: 20-byte header, then the entries.
    public var bytes: [UInt8] {
        let data = entries.flatMap(\.bytes)
        var out = ByteWriter()
        out.put(blockStatus)
        out.put(UInt32(0))  // raw data offset
        out.put(UInt32(0))  // raw data length
        out.put(UInt32(data.count))
        out.put(severity.rawValue)
        out.put(data)
        return out.bytes
    }

    /// Decodes a block; trailing bytes after its data length are ignored (a status block sits in a
    /// larger firmware region).
    public init(decoding bytes: [UInt8]) throws(FormatError) {
        var reader = ByteReader(bytes)
        let status: UInt32 = try reader.get("block status")
        let rawOffset: UInt32 = try reader.get("raw data offset")
        let rawLength: UInt32 = try reader.get("raw data length")
        let length: UInt32 = try reader.get("data length")
        let severity: UInt32 = try reader.get("error severity")
        given = GivenHeader(
            blockStatus: status, rawDataOffset: rawOffset, rawDataLength: rawLength, dataLength: length,
            severity: severity)
        guard Int(length) <= reader.remaining else {
            throw .badLength(
                field: "data length", value: Int(length), reason: "only \(reader.remaining) byte(s) follow the header")
        }
        var entryReader = ByteReader(Array(bytes[20..<20 + Int(length)]))
        entries = []
        while entryReader.remaining > 0 { entries.append(try GenericErrorDataEntry(reading: &entryReader)) }
        if status == 0 && entries.isEmpty { return }
    }

    /// What is wrong with the decoded header, compared with the entries it holds.
    public var problems: [String] {
        guard let given else { return [] }
        var found: [String] = []
        let claimed = Int(given.blockStatus >> 4 & 0x3FF)
        if claimed != entries.count {
            found.append("block status claims \(claimed) entr\(claimed == 1 ? "y" : "ies"), \(entries.count) present")
        }
        if given.blockStatus & ~UInt32(0x3FFF) != 0 {
            found.append("block status has reserved bits set (\(hexNumber(given.blockStatus & ~UInt32(0x3FFF))))")
        }
        if given.blockStatus & 0x3 == 0 && !entries.isEmpty {
            found.append("block status has neither uncorrectable nor correctable valid set")
        }
        if given.blockStatus & 0x3 != blockStatus & 0x3 && !entries.isEmpty {
            found.append(
                "block status says \(Self.kinds(given.blockStatus)), the entries are \(Self.kinds(blockStatus))")
        }
        if CPERSeverity(rawValue: given.severity) == nil {
            found.append("block severity \(given.severity) is not defined (0...3 are)")
        } else if given.severity != severity.rawValue && !entries.isEmpty {
            found.append("block severity is \(CPERSeverity(rawValue: given.severity)!), the worst entry is \(severity)")
        }
        for (index, entry) in entries.enumerated() {
            if let raw = entry.givenSeverity, CPERSeverity(rawValue: raw) == nil {
                found.append("entry \(index) severity \(raw) is not defined (0...3 are)")
            }
        }
        return found
    }

    private static func kinds(_ status: UInt32) -> String {
        switch status & 0x3 {
        case 1: return "uncorrectable"
        case 2: return "correctable"
        case 3: return "both"
        default: return "neither"
        }
    }

    /// The block as indented text: the fields as given (for decoded bytes), then what is invalid.
    public var fieldLines: [String] {
        let status = given?.blockStatus ?? blockStatus
        let claimed = Int(status >> 4 & 0x3FF)
        let shownSeverity =
            given.map {
                CPERSeverity(rawValue: $0.severity).map(String.init(describing:)) ?? "\($0.severity) (undefined)"
            } ?? "\(severity)"
        var lines = [
            "block status: \(hexNumber(status)) (\(claimed) entr\(claimed == 1 ? "y" : "ies") claimed, \(Self.kinds(status)) valid), severity: \(shownSeverity)"
        ]
        if let given {
            lines.append(
                "raw data offset: \(given.rawDataOffset), raw data length: \(given.rawDataLength), data length: \(given.dataLength)"
            )
        }
        lines += problems.map { "INVALID: " + $0 }
        for (index, entry) in entries.enumerated() {
            let entrySeverity =
                entry.givenSeverity.map {
                    CPERSeverity(rawValue: $0).map(String.init(describing:)) ?? "\($0) (undefined)"
                } ?? "\(entry.severity)"
            lines.append(
                "entry \(index): \(entry.section.name), severity \(entrySeverity), revision 0x\(hexText(entry.revision, digits: 4))"
                    + (entry.fruText.map { ", FRU \"\($0)\"" } ?? "") + (entry.fruID.map { ", FRU id \($0)" } ?? "")
                    + (entry.timestamp.map { ", time \(CPERTimestamp.text($0))" } ?? ""))
            lines += entry.section.fieldLines.map { "  " + $0 }
        }
        return lines
    }

    /// Bytes from hexadecimal text (spaces, colons, newlines and a 0x prefix are ignored).
    public static func bytes(fromHex text: String) throws(FormatError) -> [UInt8] {
        var digits = text.filter { !$0.isWhitespace && $0 != ":" }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits.removeFirst(2) }
        guard !digits.isEmpty, let bytes = hexPairs(digits) else { throw .notHex(text) }
        return bytes
    }
}
