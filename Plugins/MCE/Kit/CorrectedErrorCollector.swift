import FirmwareFormats
import InjectPluginAPI

/// The kernel's correctable-error collector (CEC, drivers/ras/cec.c, `CONFIG_RAS_CEC`), as it
/// decides what a corrected machine check becomes. It takes a corrected memory error with a usable
/// address (``StatusWord/collectedPage(addr:misc:)``): the `mce_record` trace event fires, the
/// console record does not, and the page's count grows; at `action_threshold` on one page the
/// kernel prints `Soft-offlining pfn: 0x...`, soft-offlines the page and prints the record.
/// `ras=cec_disable` on the kernel command line turns it off. It runs on Debian's 6.12 and 7.x
/// kernels, not on 6.1.
struct CorrectedErrorCollector: Equatable {
    static let directory = "sys/kernel/debug/ras/cec"

    /// The count on one page at which the collector offlines it (2 on Intel, the kernel's default).
    var actionThreshold: Int
    /// Seconds between the collector's decays of its counts.
    var decayInterval: Int?

    /// The collector of the target's kernel, or `nil` when it has none (not built, turned off, or
    /// debugfs not mounted), read from its debugfs files. Only Intel's rules are known here: on
    /// another vendor the collector is treated as absent and every record is expected in the log.
    init?(_ target: Target) {
        guard let threshold = target.value(Self.directory + "/action_threshold").flatMap({ Int($0) }),
            Self.vendor(target) == "GenuineIntel"
        else { return nil }
        actionThreshold = threshold
        decayInterval = target.value(Self.directory + "/decay_interval").flatMap { Int($0) }
    }

    /// The CPU vendor from /proc/cpuinfo (`unknown` when it cannot be read).
    static func vendor(_ target: Target) -> String {
        target.value("proc/cpuinfo")?.split(separator: "\n").first { $0.hasPrefix("vendor_id") }?
            .split(separator: ":").last.map { String($0).trimmingWhitespace } ?? "unknown"
    }

    /// Why a record for `page` is not expected in the kernel log, for the plan's expectation.
    func note(page: UInt64) -> String {
        "the kernel's correctable-error collector (CEC) takes this corrected memory error: it counts it "
            + "against pfn \(hexNumber(page)) and does not print the record; at \(actionThreshold) error(s) on one page "
            + "it prints 'Soft-offlining pfn: \(hexNumber(page))', offlines the page and prints the record "
            + "(ras=cec_disable on the kernel command line turns the collector off)"
    }
}
