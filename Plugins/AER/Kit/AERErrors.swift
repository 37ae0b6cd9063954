/// The errors of PCI Express Advanced Error Reporting: the bits of the Correctable and the
/// Uncorrectable Error Status registers (PCIe r6.0 sec. 7.8.4), by every name people know them
/// by (the kernel's, QEMU's and the aer-inject tool's), with what the kernel prints for each.
public struct AERError: Sendable, Equatable {
    /// Which status register holds the bit.
    public enum Register: String, Sendable {
        case correctable, uncorrectable
    }

    /// The canonical name (`RCVR`, `POISON_TLP`).
    public var name: String
    /// Which register.
    public var register: Register
    /// The bit number in it.
    public var bit: Int
    /// Other spellings accepted (QEMU's `MALF_TLP`, the kernel's `RxErr`).
    public var aliases: [String]
    /// What the kernel prints in its `[bit] NAME` line and keys the aer_dev_* counter by.
    public var kernelName: String
    /// The aer_event tracepoint's name for it, where the kernel has one.
    public var traceName: String?
    /// Whether the PCIe specification makes it fatal by default (Uncorrectable Error Severity
    /// register's reset value); the device's own register decides.
    public var fatalByDefault: Bool

    /// The bit as a mask.
    public var mask: UInt32 { 1 << UInt32(bit) }

    /// Every error, correctable ones first, in bit order.
    public static let all: [AERError] = [
        AERError("RCVR", .correctable, 0, ["RXERR", "RECEIVER_ERROR"], "RxErr", "Receiver Error"),
        AERError("BAD_TLP", .correctable, 6, ["BADTLP"], "BadTLP", "Bad TLP"),
        AERError("BAD_DLLP", .correctable, 7, ["BADDLLP"], "BadDLLP", "Bad DLLP"),
        AERError("REP_ROLL", .correctable, 8, ["ROLLOVER", "REPLAY_NUM"], "Rollover", "RELAY_NUM Rollover"),
        AERError("REP_TIMER", .correctable, 12, ["TIMEOUT", "REPLAY_TMR"], "Timeout", "Replay Timer Timeout"),
        AERError(
            "ADVISORY_NONFATAL", .correctable, 13, ["ADV_NONFATAL", "NONFATALERR"], "NonFatalErr",
            "Advisory Non-Fatal Error"),
        AERError(
            "CORR_INTERNAL", .correctable, 14, ["INTERNAL", "CORRINTERR"], "CorrIntErr", "Corrected Internal Error"),
        AERError(
            "HEADER_OF", .correctable, 15, ["HL_OVERFLOW", "HDL_OVERFLOW", "HEADEROF", "LOG_OVER"], "HeaderOF",
            "Header Log Overflow"),
        AERError("TRAIN", .uncorrectable, 0, ["UND", "UNDEFINED"], "Undefined", "Undefined"),
        AERError("DLP", .uncorrectable, 4, [], "DLP", "Data Link Protocol Error", fatal: true),
        AERError("SDES", .uncorrectable, 5, ["SDN", "SURPDN"], "SDES", "Surprise Down Error", fatal: true),
        AERError("POISON_TLP", .uncorrectable, 12, ["TLP"], "TLP", "Poisoned TLP"),
        AERError("FCP", .uncorrectable, 13, [], "FCP", "Flow Control Protocol Error", fatal: true),
        AERError("COMP_TIME", .uncorrectable, 14, ["CMPLTTO", "CMPLT_TO"], "CmpltTO", "Completion Timeout"),
        AERError("COMP_ABORT", .uncorrectable, 15, ["CMPLTABRT", "CMPLT_ABORT"], "CmpltAbrt", "Completer Abort"),
        AERError("UNX_COMP", .uncorrectable, 16, ["UNXCMPLT", "UNX_CMPLT"], "UnxCmplt", "Unexpected Completion"),
        AERError("RX_OVER", .uncorrectable, 17, ["RXOF", "RX_OVERFLOW"], "RxOF", "Receiver Overflow", fatal: true),
        AERError(
            "MAL_TLP", .uncorrectable, 18, ["MALF_TLP", "MALFTLP", "MALFORMED_TLP"], "MalfTLP", "Malformed TLP",
            fatal: true),
        AERError("ECRC", .uncorrectable, 19, [], "ECRC", "ECRC Error"),
        AERError("UNSUP", .uncorrectable, 20, ["UNSUPREQ", "UNSUP_REQ"], "UnsupReq", "Unsupported Request Error"),
        AERError("ACSV", .uncorrectable, 21, ["ACSVIOL", "ACS_VIOLAT"], "ACSViol", "ACS Violation"),
        AERError(
            "UNCORR_INTERNAL", .uncorrectable, 22, ["INTN", "UNCOR_INTN", "UNCORRINTERR"], "UncorrIntErr",
            "Uncorrectable Internal Error", fatal: true),
        AERError("MCBTLP", .uncorrectable, 23, ["MC_BLCKD_TLP", "BLOCKEDTLP"], "BlockedTLP", "MC Blocked TLP"),
        AERError(
            "ATOMICOP_EGRESS_BLOCKED", .uncorrectable, 24, ["ATOP_EBLOCKED", "ATOMICOPBLOCKED"], "AtomicOpBlocked",
            "AtomicOp Egress Blocked"),
        AERError(
            "TLP_PREFIX_BLOCKED", .uncorrectable, 25, ["TLP_PRF_BLOCKED", "TLPBLOCKEDERR"], "TLPBlockedErr",
            "TLP Prefix Blocked Error"),
    ]

    init(
        _ name: String, _ register: Register, _ bit: Int, _ aliases: [String], _ kernelName: String,
        _ traceName: String?, fatal: Bool = false
    ) {
        self.name = name
        self.register = register
        self.bit = bit
        self.aliases = aliases
        self.kernelName = kernelName
        self.traceName = traceName
        self.fatalByDefault = fatal
    }

    /// The error called `name` (any spelling, any case).
    public static func named(_ name: String) -> AERError? {
        let key = name.uppercased()
        return all.first { $0.name == key || $0.aliases.contains(key) }
    }

    /// The errors whose bits are set in `status` of `register`; bits no error has are returned apart.
    public static func decode(_ status: UInt32, _ register: Register) -> (errors: [AERError], unknown: UInt32) {
        let errors = all.filter { $0.register == register && status & $0.mask != 0 }
        return (errors, status & ~errors.reduce(0) { $0 | $1.mask })
    }

    /// The Uncorrectable Error Severity register's reset value: the fatal-by-default bits.
    public static let defaultSeverity: UInt32 = all.filter(\.fatalByDefault).reduce(0) { $0 | $1.mask }

    /// The names people can type, for messages.
    public static func names(_ register: Register) -> String {
        all.filter { $0.register == register }.map(\.name).joined(separator: ", ")
    }
}
