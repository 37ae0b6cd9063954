/// A set of logical CPUs in the kernel's list syntax (`0-3,8,10-11`), as in
/// /sys/devices/system/cpu/online.
public struct CPUList: Sendable, Equatable, CustomStringConvertible {
    /// The CPUs, ascending, without repeats.
    public let members: [UInt64]
    /// The largest CPU number a list may hold (the kernel's NR_CPUS is at most 8192).
    public static let largestCPU: UInt64 = 8191

    /// Parses a list such as `0-3,8`; `nil` when malformed or a range runs backwards.
    public init?(_ text: String) {
        var set = Set<UInt64>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let low = Self.number(bounds[0].trimmed()),
                let high = bounds.count == 2 ? Self.number(bounds[1].trimmed()) : low,
                low <= high, high <= Self.largestCPU
            else { return nil }
            set.formUnion(low...high)
        }
        guard !set.isEmpty else { return nil }
        members = set.sorted()
    }

    private static func number(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return UInt64(text)
    }

    /// The canonical text: ranges collapsed, ascending.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < members.count {
            var end = index
            while end + 1 < members.count, members[end + 1] == members[end] + 1 { end += 1 }
            parts.append(end == index ? "\(members[index])" : "\(members[index])-\(members[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
