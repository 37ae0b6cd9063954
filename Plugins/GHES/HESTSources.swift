import InjectPluginAPI

/// The error sources of an ACPI Hardware Error Source Table (ACPI 6.5, 18.3.2), as far as the
/// GHES backend needs them: every source's type and id, and for Generic Hardware Error Sources
/// (types 9 and 10) the notification type and the Error Status Address register.
struct HESTSources {
    struct Source: Equatable {
        var type: UInt16
        var id: UInt16
        /// GHES and GHESv2: the HEST notification type (0 polled, 1 external interrupt, 2 local
        /// interrupt, 3 SCI, 4 NMI, ...), the register holding the block address, the block length.
        var notification: UInt8?
        var pollIntervalMilliseconds: UInt32?
        var registerAddress: UInt64?
        var blockLength: UInt32?

        var isGHES: Bool { type == 9 || type == 10 }
    }

    static let notificationNames = ["polled", "external interrupt", "local interrupt", "SCI", "NMI", "CMCI", "MCE",
                                    "GPIO", "SEA", "SEI", "GSIV", "software delegated exception"]
    static let typeNames: [UInt16: String] = [0: "IA-32 machine check", 1: "IA-32 corrected machine check", 2: "IA-32 NMI",
                                              6: "PCIe root port AER", 7: "PCIe device AER", 8: "PCIe bridge AER",
                                              9: "GHES", 10: "GHESv2", 11: "IA-32 deferred machine check"]

    var sources: [Source] = []

    /// Parses the table; stops at a source type whose size it does not know.
    init(table: [UInt8]) throws(BackendError) {
        guard table.count >= 40, Array(table[0..<4]) == Array("HEST".utf8) else {
            throw BackendError.invalid("not a HEST table (\(table.count) bytes)")
        }
        func u8(_ at: Int) -> UInt8 { at < table.count ? table[at] : 0 }
        func u16(_ at: Int) -> UInt16 { UInt16(u8(at)) | UInt16(u8(at + 1)) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        let count = Int(u32(36))
        var offset = 40
        for _ in 0..<count where offset + 4 <= table.count {
            let type = u16(offset)
            var source = Source(type: type, id: u16(offset + 2))
            let length: Int
            switch type {
            case 0: length = 40 + 32 * Int(u8(offset + 32))
            case 1, 11: length = 48 + 32 * Int(u8(offset + 44))
            case 2: length = 20
            case 6: length = 48
            case 7: length = 44
            case 8: length = 56
            case 9, 10:
                length = type == 9 ? 64 : 92
                source.registerAddress = u64(offset + 24)
                source.notification = u8(offset + 32)
                source.pollIntervalMilliseconds = u32(offset + 36)
                source.blockLength = u32(offset + 60)
            default:
                sources.append(source)
                return
            }
            sources.append(source)
            offset += length
        }
    }

    /// One line per source, for `probe`.
    var lines: [String] {
        sources.map { source in
            var line = "source \(source.id): \(Self.typeNames[source.type] ?? "type \(source.type)")"
            if let notification = source.notification {
                line += ", notified by " + (Int(notification) < Self.notificationNames.count ? Self.notificationNames[Int(notification)] : "type \(notification)")
                if notification == 0, let interval = source.pollIntervalMilliseconds { line += " every \(interval) ms" }
            }
            if let register = source.registerAddress { line += ", status address register 0x\(String(register, radix: 16))" }
            return line
        }
    }
}
