import InjectPluginAPI

/// A machine check as the kernel logged it, turned back into injection parameters, so that an
/// error seen in production can be replayed in the lab:
///
///     mce: [Hardware Error]: CPU 2: Machine Check: 0 Bank 5: be00000000800400
///     mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff8100a1b2> {intel_idle+0x72/0xd0}
///     mce: [Hardware Error]: TSC 3c69e400d ADDR 1234000 MISC 8c SYND 4d000000 IPID 1002e00000000
struct KernelLogReplay: Equatable {
    var cpu: UInt64
    var bank: UInt64
    var status: UInt64
    var mcgStatus: UInt64
    var addr: UInt64?
    var misc: UInt64?
    var synd: UInt64?
    var ipid: UInt64?

    /// Parses one or more log lines (the `Machine Check` line is required).
    init(_ text: String) throws {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        func after(_ word: String, hex: Bool = true) -> UInt64? {
            guard let index = words.firstIndex(of: word), index + 1 < words.count else { return nil }
            let value = words[index + 1].trimmingCharacters(":")
            return hex ? UInt64(value.hasPrefix("0x") ? String(value.dropFirst(2)) : value, radix: 16) : UInt64(value)
        }
        guard let cpu = after("CPU", hex: false), let bank = after("Bank", hex: false),
              let bankIndex = words.firstIndex(of: "Bank"), bankIndex + 2 < words.count,
              let status = UInt64(words[bankIndex + 2], radix: 16),
              let check = words.firstIndex(of: "Check:"), check + 1 < words.count,
              let mcg = UInt64(words[check + 1], radix: 16) else {
            throw BackendError.invalid("replay: expected the kernel's line \"CPU <n>: Machine Check: <mcgstatus> Bank <b>: <status>\" (optionally with its \"TSC ... ADDR ... MISC ...\" line)")
        }
        self.cpu = cpu
        self.bank = bank
        self.status = status
        self.mcgStatus = mcg
        addr = after("ADDR")
        misc = after("MISC")
        synd = after("SYND")
        ipid = after("IPID")
    }
}

private extension String {
    func trimmingCharacters(_ character: Character) -> String {
        var text = Substring(self)
        while text.last == character { text.removeLast() }
        return String(text)
    }
}
