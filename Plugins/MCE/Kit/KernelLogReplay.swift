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

    /// Parses one or more log lines (the `Machine Check` line is required). Every value is checked
    /// as the same parameter given directly would be: CPU and bank within their ranges, and each
    /// hex field within 64 bits.
    init(_ text: String) throws {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        func after(_ word: String, hex: Bool = true) throws -> UInt64? {
            guard let index = words.firstIndex(of: word), index + 1 < words.count else { return nil }
            let value = words[index + 1].trimmingCharacters(":")
            let digits = hex && value.hasPrefix("0x") ? String(value.dropFirst(2)) : value
            guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : $0.isNumber }),
                let number = UInt64(digits, radix: hex ? 16 : 10)
            else {
                throw BackendError.invalid(
                    "replay: \(word) '\(value.prefix(40))' is not \(hex ? "a hex number of at most 64 bits (16 digits)" : "a decimal number")"
                )
            }
            return number
        }
        guard let cpu = try after("CPU", hex: false), let bank = try after("Bank", hex: false),
            let bankIndex = words.firstIndex(of: "Bank"), bankIndex + 2 < words.count,
            let status = UInt64(words[bankIndex + 2], radix: 16),
            let check = words.firstIndex(of: "Check:"), check + 1 < words.count,
            let mcg = UInt64(words[check + 1], radix: 16)
        else {
            throw BackendError.invalid(
                "replay: expected the kernel's line \"CPU <n>: Machine Check: <mcgstatus> Bank <b>: <status>\" (optionally with its \"TSC ... ADDR ... MISC ...\" line)"
            )
        }
        guard MCEParameters.cpus.contains(cpu) else {
            throw BackendError.invalid(
                "replay: CPU \(cpu) is outside \(MCEParameters.cpus.lowerBound)...\(MCEParameters.cpus.upperBound), the range of cpu"
            )
        }
        guard MCEParameters.banks.contains(bank) else {
            throw BackendError.invalid(
                "replay: Bank \(bank) is outside \(MCEParameters.banks.lowerBound)...\(MCEParameters.banks.upperBound), the range of bank"
            )
        }
        self.cpu = cpu
        self.bank = bank
        self.status = status
        self.mcgStatus = mcg
        addr = try after("ADDR")
        misc = try after("MISC")
        synd = try after("SYND")
        ipid = try after("IPID")
    }
}

extension String {
    fileprivate func trimmingCharacters(_ character: Character) -> String {
        var text = Substring(self)
        while text.last == character { text.removeLast() }
        return String(text)
    }
}
