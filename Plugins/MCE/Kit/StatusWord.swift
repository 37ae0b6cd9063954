import FirmwareFormats

/// An MCi_STATUS word: the architectural flag bits (Intel SDM vol. 3B 16.3.2.2, AMD APM vol. 2
/// 9.3.2.2) and the MCA error code.
struct StatusWord: Equatable {
    var raw: UInt64

    static let valid: UInt64 = 1 << 63  // VAL
    static let overflow: UInt64 = 1 << 62  // OVER
    static let uncorrected: UInt64 = 1 << 61  // UC
    static let enabled: UInt64 = 1 << 60  // EN
    static let miscValid: UInt64 = 1 << 59  // MISCV
    static let addressValid: UInt64 = 1 << 58  // ADDRV
    static let contextCorrupt: UInt64 = 1 << 57  // PCC
    static let signaled: UInt64 = 1 << 56  // S (software recoverable: signaled via #MC)
    static let actionRequired: UInt64 = 1 << 55  // AR
    static let thresholdYellow: UInt64 = 1 << 54  // TES_YELLOW: corrected errors above the threshold
    static let deferred: UInt64 = 1 << 44  // AMD: deferred error

    /// The severities the builder knows, with the flag bits each sets.
    static let severities: [(name: String, bits: UInt64)] = [
        ("corrected", valid | enabled),
        ("ucna", valid | uncorrected | enabled),
        ("srao", valid | uncorrected | enabled | signaled),
        ("srar", valid | uncorrected | enabled | signaled | actionRequired),
        ("fatal", valid | uncorrected | enabled | contextCorrupt),
        ("deferred", valid | enabled | deferred),
    ]

    /// Builds a status from a severity, an MCA error code and the presence of ADDR and MISC.
    init(severity: String, mcaCode: UInt64, hasAddress: Bool, hasMisc: Bool, overflow: Bool) {
        var bits = Self.severities.first { $0.name == severity }?.bits ?? Self.valid
        if hasAddress { bits |= Self.addressValid }
        if hasMisc { bits |= Self.miscValid }
        if overflow { bits |= Self.overflow }
        raw = bits | (mcaCode & 0xFFFF)
    }

    init(raw: UInt64) { self.raw = raw }

    var isUncorrected: Bool { raw & Self.uncorrected != 0 }
    var hex: String { hexNumber(raw) }

    /// The set flag names, highest bit first.
    var flagNames: [String] {
        let names: [(UInt64, String)] = [
            (Self.valid, "VAL"), (Self.overflow, "OVER"), (Self.uncorrected, "UC"),
            (Self.enabled, "EN"), (Self.miscValid, "MISCV"), (Self.addressValid, "ADDRV"),
            (Self.contextCorrupt, "PCC"), (Self.signaled, "S"), (Self.actionRequired, "AR"),
            (Self.deferred, "DEFERRED"),
        ]
        return names.filter { raw & $0.0 != 0 }.map(\.1)
    }

    /// The page of an address the kernel can use (its `mce_usable_address` on Intel): ADDRV and
    /// MISCV set, MISC's address mode physical and its least significant bit at most 12.
    func usablePage(addr: UInt64, misc: UInt64) -> UInt64? {
        guard raw & (Self.addressValid | Self.miscValid) == Self.addressValid | Self.miscValid,
            (misc >> 6) & 7 == 2, misc & 0x3F <= 12
        else { return nil }
        return addr >> 12
    }

    /// Whether the MCA code names a memory or cache-hierarchy error (the kernel's
    /// `mce_is_memory_error` on Intel: Intel SDM vol. 3B 16.9.2 compound error codes; bit 12, the
    /// filter bit, ignored).
    var isMemoryError: Bool {
        let code = raw & 0xFFFF
        return code & 0xEF80 == 0x0080 || code & 0xEF00 == 0x0100 || code & 0xEFFC == 0x000C
    }

    /// The page the kernel's memory-failure handling takes when this error is raised as a machine
    /// check with `addr` and `misc`: an action-optional error in Intel's software-recoverable
    /// grading (UC and S set, AR and PCC clear, a memory scrubbing or last-level-cache writeback MCA
    /// code) whose address is usable. Such an error is handled, not printed: its record reaches the
    /// trace but no "Bank" line the kernel log. `nil` for every other error.
    func actionOptionalPage(addr: UInt64, misc: UInt64) -> UInt64? {
        let code = raw & 0xFFFF
        guard raw & (Self.uncorrected | Self.signaled) == Self.uncorrected | Self.signaled,
            raw & (Self.actionRequired | Self.contextCorrupt) == 0,
            code & 0xEFF0 == 0x00C0 || code == 0x017A
        else { return nil }
        return usablePage(addr: addr, misc: misc)
    }

    /// The page the kernel's correctable-error collector counts this error against (its
    /// `cec_notifier` on Intel: a corrected memory error, not deferred, with a usable address);
    /// `nil` for an error the collector leaves alone.
    func collectedPage(addr: UInt64, misc: UInt64) -> UInt64? {
        guard raw & (Self.uncorrected | Self.deferred) == 0, isMemoryError else { return nil }
        return usablePage(addr: addr, misc: misc)
    }

    /// A one-line decoding, such as `VAL EN ADDRV | MCA code 0x009f`.
    var summary: String {
        flagNames.joined(separator: " ") + " | MCA code 0x" + hexText(raw & 0xFFFF, digits: 4)
    }
}

/// MCG_STATUS bits (Intel SDM vol. 3B 16.3.1.2).
enum MCGStatus {
    static let ripv: UInt64 = 1 << 0  // restart IP valid
    static let eipv: UInt64 = 1 << 1  // error IP valid
    static let mcip: UInt64 = 1 << 2  // machine check in progress
    static let lmces: UInt64 = 1 << 3  // local machine check
    static let tesP: UInt64 = 1 << 11  // threshold-based error status present
    static let seamNR: UInt64 = 1 << 12  // in SEAM non-root mode
    /// What QEMU is given for an uncorrected status when the request names none: a #MC in
    /// progress from which execution can restart.
    static let exception: UInt64 = mcip | ripv
}

/// `0x` and lower-case hex digits, as the mce backend writes every register value.
