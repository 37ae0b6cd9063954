import FirmwareFormats

/// MCi_STATUS decoded field by field, for `--dry-run` and for users who paste a status word.
enum StatusDecoder {
    /// One line per field.
    static func lines(_ status: StatusWord) -> [String] {
        let raw = status.raw
        let bit = { (n: UInt64) in raw >> n & 1 }
        let code = UInt16(truncatingIfNeeded: raw)
        return [
            "MCi_STATUS \(status.hex)",
            "  63 VAL   \(bit(63))  valid",
            "  62 OVER  \(bit(62))  an earlier error was overwritten",
            "  61 UC    \(bit(61))  uncorrected",
            "  60 EN    \(bit(60))  error reporting enabled",
            "  59 MISCV \(bit(59))  MCi_MISC valid",
            "  58 ADDRV \(bit(58))  MCi_ADDR valid",
            "  57 PCC   \(bit(57))  processor context corrupt",
            "  56 S     \(bit(56))  signaled (software recoverable, through #MC)",
            "  55 AR    \(bit(55))  action required",
            "  44 DEFERRED \(bit(44))  (AMD) deferred error",
            "  52:38 corrected count \(raw >> 38 & 0x7FFF)",
            "  31:16 model-specific \(hexNumber(raw >> 16 & 0xFFFF))",
            "  15:0  MCA code \(hexNumber(code)): \(MCACode(raw: code).description)",
            "  severity: \(status.severityName)",
        ]
    }
}

extension StatusWord {
    /// The kernel's reading of the flags (arch/x86/kernel/cpu/mce/severity.c, simplified).
    var severityName: String {
        if raw & Self.valid == 0 { return "not valid: the kernel ignores it" }
        if raw & Self.uncorrected == 0 { return raw & Self.deferred != 0 ? "deferred (AMD)" : "corrected" }
        if raw & Self.contextCorrupt != 0 { return "fatal (PCC): the kernel panics" }
        if raw & Self.signaled == 0 { return "UCNA: uncorrected, no action required" }
        return raw & Self.actionRequired != 0
            ? "SRAR: software recoverable, action required" : "SRAO: software recoverable, action optional"
    }
}
