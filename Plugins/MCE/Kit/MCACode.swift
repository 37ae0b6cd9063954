/// The architectural MCA error code (MCi_STATUS bits 15:0), built from a description and decoded
/// back into words (Intel SDM vol. 3B, 16.9 "Interpreting the MCA error codes"; the compound
/// codes are shared by AMD).
///
///     memory controller   0000 0000 1MMM CCCC   M transaction, C channel (0xF: unspecified)
///     cache hierarchy     0000 0001 RRRR TTLL   R request, T type, L level
///     bus/interconnect    0000 1PPT RRRR IILL   P participation, T timeout, I memory/IO
struct MCACode: Equatable {
    var raw: UInt16

    static let classes = ["memory", "cache", "bus", "generic"]
    static let transactions = ["generic", "read", "write", "address-command", "scrub"]
    static let requests = [
        "generic", "read", "write", "data-read", "data-write", "instruction-fetch", "prefetch", "eviction", "snoop",
    ]
    static let cacheTypes = ["instruction", "data", "generic"]
    static let levels = ["l0", "l1", "l2", "generic"]
    static let participations = ["source", "responder", "observer", "generic"]
    static let spaces = ["memory", "reserved", "io", "other"]
    /// Simple (non-compound) codes.
    static let simple: [UInt16: String] = [
        0x0000: "no error", 0x0001: "unclassified", 0x0002: "microcode ROM parity", 0x0003: "external error",
        0x0004: "FRC error", 0x0005: "internal parity", 0x0006: "SMM handler code access violation",
        0x0400: "internal timer", 0x0E0B: "I/O error",
    ]

    init(raw: UInt16) { self.raw = raw }

    /// A memory-controller error.
    static func memory(transaction: Int, channel: Int) -> MCACode {
        MCACode(raw: 0x0080 | UInt16(transaction & 0x7) << 4 | UInt16(channel & 0xF))
    }

    /// A cache-hierarchy error.
    static func cache(request: Int, type: Int, level: Int) -> MCACode {
        MCACode(raw: 0x0100 | UInt16(request & 0xF) << 4 | UInt16(type & 0x3) << 2 | UInt16(level & 0x3))
    }

    /// A bus or interconnect error.
    static func bus(participation: Int, timeout: Bool, request: Int, space: Int, level: Int) -> MCACode {
        MCACode(
            raw: 0x0800 | UInt16(participation & 0x3) << 9 | (timeout ? 0x100 : 0) | UInt16(request & 0xF) << 4
                | UInt16(space & 0x3) << 2 | UInt16(level & 0x3))
    }

    /// The code in words, such as `memory controller: read, channel 3`.
    var description: String {
        let code = raw & 0xEFFF  // bit 12 is the "filtered" flag on Intel
        if code & 0xFF80 == 0x0080 {
            let channel = Int(code & 0xF)
            return "memory controller: \(Self.name(Self.transactions, Int(code >> 4 & 0x7))), "
                + (channel == 0xF ? "channel unspecified" : "channel \(channel)")
        }
        if code & 0xFF00 == 0x0100 {
            return
                "cache: \(Self.name(Self.requests, Int(code >> 4 & 0xF))) \(Self.name(Self.cacheTypes, Int(code >> 2 & 0x3))), level \(Self.name(Self.levels, Int(code & 0x3)))"
        }
        if code & 0xF800 == 0x0800 {
            return "bus: \(Self.name(Self.participations, Int(code >> 9 & 0x3)))"
                + (code & 0x100 != 0 ? ", timed out" : "")
                + ", \(Self.name(Self.requests, Int(code >> 4 & 0xF))) \(Self.name(Self.spaces, Int(code >> 2 & 0x3))), level \(Self.name(Self.levels, Int(code & 0x3)))"
        }
        if code & 0xFFF0 == 0x0010 { return "TLB error, level \(Self.name(Self.levels, Int(code & 0x3)))" }
        return Self.simple[code] ?? "model-specific or unknown code"
    }

    private static func name(_ names: [String], _ index: Int) -> String {
        index < names.count ? names[index] : "reserved(\(index))"
    }
}
