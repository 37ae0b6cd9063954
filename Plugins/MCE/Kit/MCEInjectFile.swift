import FirmwareFormats
import InjectPluginAPI

/// mce-inject's input language (andikleen/mce-inject: mce.lex, mce.y), read the way mce-inject
/// reads it: records started by `CPU n [BANK]`, `MCE`, or a kernel panic line
/// (`CPU n: Machine Check Exception: MCGSTATUS Bank b: STATUS`), each followed by at least one
/// term; keywords in any case; numbers decimal, `0x` hex or `0`-led octal; `#` comments to the end
/// of the line. STATUS and MCGSTATUS OR their symbolic terms and numbers together exactly as
/// mce-inject's scanner values them; ADDR sets ADDRV and MISC sets MISCV.
struct MCEInjectFile {
    /// STATUS terms and the bits mce-inject gives them (CORRECTED is VAL|EN; UCNA is 0).
    static let statusTerms: [String: UInt64] = [
        "VAL": StatusWord.valid, "OVER": StatusWord.overflow, "UC": StatusWord.uncorrected, "EN": StatusWord.enabled,
        "PCC": StatusWord.contextCorrupt, "S": StatusWord.signaled, "AR": StatusWord.actionRequired,
        "TES_YELLOW": StatusWord.thresholdYellow,
        "CORRECTED": StatusWord.valid | StatusWord.enabled,
        "UNCORRECTED": StatusWord.valid | StatusWord.uncorrected | StatusWord.enabled,
        "FATAL": StatusWord.valid | StatusWord.uncorrected | StatusWord.enabled | StatusWord.contextCorrupt,
        "UCNA": 0, "SRAO": StatusWord.signaled, "SRAR": StatusWord.signaled | StatusWord.actionRequired,
    ]
    /// MCGSTATUS terms.
    static let mcgStatusTerms: [String: UInt64] = [
        "RIPV": MCGStatus.ripv, "EIPV": MCGStatus.eipv, "MCIP": MCGStatus.mcip, "LMCES": MCGStatus.lmces,
        "TES_P": MCGStatus.tesP,
        "SEAM_NR": MCGStatus.seamNR,
    ]
    /// Words that take one number.
    static let numberTerms = ["BANK", "TSC", "TIME", "SOCKETID", "APICID", "MCGCAP", "ADDR", "MISC"]
    /// Words that stand alone.
    static let flagTerms = ["NOBROADCAST", "IRQBROADCAST", "NMIBROADCAST", "HOLD", "IN_IRQ", "IN_PROC", "POLL", "EXCP"]

    /// One machine check, as mce-inject's `struct mce` and flags hold it after parsing.
    struct Record: Equatable {
        /// Where it starts: the file's name and line.
        var source: String
        var line: Int
        var cpu: UInt64 = 0
        var bank: UInt64 = 0
        var status: UInt64 = 0
        var mcgStatus: UInt64 = 0
        var addr: UInt64 = 0
        var misc: UInt64 = 0
        var ip: UInt64 = 0
        var cs: UInt64 = 0
        var tsc: UInt64 = 0
        var time: UInt64 = 0
        var socketID: UInt64 = 0
        var apicID: UInt64 = 0
        var mcgCap: UInt64 = 0
        var cpuVendor: UInt64 = 0
        var cpuID: UInt64 = 0
        /// NOBROADCAST, IRQBROADCAST, NMIBROADCAST, HOLD, IN_IRQ, IN_PROC, POLL, EXCP as given.
        var flags: [String] = []

        /// Whether it is raised as an exception (#MC): EXCP, or UC without POLL (mce-inject's rule).
        var raisesException: Bool {
            if flags.contains("EXCP") { return true }
            if flags.contains("POLL") { return false }
            return isUncorrected
        }
        /// Whether UC is set.
        var isUncorrected: Bool { StatusWord(raw: status).isUncorrected }
        /// Whether it waits for the next record that is not held (HOLD).
        var isHeld: Bool { flags.contains("HOLD") }
        /// Whether other CPUs take part (broadcast), as mce-inject decides: only for exceptions, not with NOBROADCAST.
        var broadcasts: Bool { raisesException && !flags.contains("NOBROADCAST") }

        /// The record as `mce-inject --dump` prints it.
        var dump: String {
            let hex: (UInt64) -> String = { hexNumber($0) }
            return """
                CPU \(cpu)
                BANK \(bank)
                TSC \(hex(tsc))
                TIME \(time)
                RIP \(hexNumber(cs, digits: 2)):\(hex(ip))
                MISC \(hex(misc))
                ADDR \(hex(addr))
                STATUS \(hex(status))
                MCGSTATUS \(hex(mcgStatus))
                PROCESSOR \(cpuVendor):\(hex(cpuID))
                """
        }
    }

    /// A token: a number, a word (upper-cased), or one of `: { } < >`.
    enum Token: Equatable {
        case number(UInt64)
        case word(String)
        case symbol(Character)
    }

    /// The records of `text`.
    ///
    /// - Parameter source: the file's name, for messages (`<stdin>` for standard input).
    /// - Throws: ``BackendError`` `.invalid` naming the file, the line and what was expected.
    static func parse(_ text: String, source: String) throws(BackendError) -> [Record] {
        var parser = Parser(tokens: try scan(text, source: source), source: source)
        return try parser.records()
    }

    /// mce-inject's grammar over the scanned tokens: records, each a start (CPU n [bank], MCE,
    /// or a kernel panic line) and its terms.
    private struct Parser {
        let tokens: [(token: Token, line: Int)]
        let source: String
        var index = 0

        init(tokens: [(token: Token, line: Int)], source: String) {
            self.tokens = tokens
            self.source = source
        }

        mutating func records() throws(BackendError) -> [Record] {
            var records: [Record] = []
            while index < tokens.count {
                let line = tokens[index].line
                var record = Record(source: source, line: line)
                try start(&record)
                // At least one term.
                var terms = 0
                while let token = peek() {
                    guard case .word(let word) = token else {
                        throw fail(tokens[index].line, "unexpected \(describe(token))")
                    }
                    if word == "CPU" || word == "MCE" { break }
                    try term(word, &record)
                    terms += 1
                }
                guard terms > 0 else { throw fail(line, "the record has no terms (STATUS, BANK, ADDR, ...)") }
                records.append(record)
            }
            return records
        }

        /// The record's start: `CPU n [bank]`, `MCE`, or `CPU n: Machine Check Exception: MCGSTATUS Bank b: STATUS`.
        private mutating func start(_ record: inout Record) throws(BackendError) {
            switch tokens[index].token {
            case .word("MCE"):
                index += 1
            case .word("CPU"):
                index += 1
                record.cpu = try number("CPU")
                if case .number(let bank)? = peek() {
                    record.bank = bank
                    index += 1
                } else if case .symbol(":")? = peek() {
                    index += 1
                    for word in ["MACHINE", "CHECK", "EXCEPTION"] {
                        try expect(.word(word), "in a kernel panic line (CPU n: Machine Check Exception: ...)")
                    }
                    try expect(.symbol(":"), "after Machine Check Exception")
                    record.mcgStatus = try number("the panic line's MCGSTATUS")
                    try expect(.word("BANK"), "in a kernel panic line")
                    record.bank = try number("Bank")
                    try expect(.symbol(":"), "after the bank")
                    record.status = try number("the panic line's STATUS")
                }
            default:
                throw fail(
                    tokens[index].line,
                    "a record starts with CPU n, MCE, or a kernel panic line (CPU n: Machine Check Exception: ...), not \(describe(tokens[index].token))"
                )
            }
        }

        /// One term of a record.
        private mutating func term(_ word: String, _ record: inout Record) throws(BackendError) {
            index += 1
            switch word {
            case "STATUS":
                record.status = try orList(statusTerms, others: mcgStatusTerms, what: "STATUS", otherWhat: "MCGSTATUS")
            case "MCGSTATUS":
                record.mcgStatus = try orList(
                    mcgStatusTerms, others: statusTerms, what: "MCGSTATUS", otherWhat: "STATUS")
            case "RIP":
                try rip(&record)
            case "PROCESSOR":
                record.cpuVendor = try number("PROCESSOR")
                try expect(.symbol(":"), "between PROCESSOR's vendor and CPUID")
                record.cpuID = try number("PROCESSOR's CPUID")
            case _ where numberTerms.contains(word):
                let value = try number(word)
                switch word {
                case "BANK": record.bank = value
                case "TSC": record.tsc = value
                case "TIME": record.time = value
                case "SOCKETID": record.socketID = value
                case "APICID": record.apicID = value
                case "MCGCAP": record.mcgCap = value
                case "ADDR":
                    record.addr = value
                    record.status |= StatusWord.addressValid
                default:
                    record.misc = value
                    record.status |= StatusWord.miscValid
                }
            case _ where flagTerms.contains(word):
                if !record.flags.contains(word) { record.flags.append(word) }
            default:
                let hint =
                    statusTerms[word] != nil
                    ? " (a STATUS term: write STATUS \(word))"
                    : mcgStatusTerms[word] != nil ? " (an MCGSTATUS term: write MCGSTATUS \(word))" : ""
                throw fail(tokens[index - 1].line, "unknown word \(word)\(hint)")
            }
        }

        /// `RIP ip`, `RIP cs:ip`, or the kernel's own `RIP cs:<ip> {symbol}`.
        private mutating func rip(_ record: inout Record) throws(BackendError) {
            let first = try number("RIP")
            guard case .symbol(":")? = peek() else {
                record.ip = first
                return
            }
            index += 1
            record.cs = first
            guard case .symbol("<")? = peek() else {
                record.ip = try number("RIP's address")
                return
            }
            index += 1
            record.ip = try number("RIP's address")
            try expect(.symbol(">"), "after RIP's address")
            try expect(.symbol("{"), "before RIP's symbol")
            guard case .word? = peek() else {
                throw fail(tokens[min(index, tokens.count - 1)].line, "RIP's {symbol} needs a name")
            }
            index += 1
            try expect(.symbol("}"), "after RIP's symbol")
        }

        /// Terms and numbers OR-ed together until a word that is not one of `terms`.
        private mutating func orList(
            _ terms: [String: UInt64], others: [String: UInt64], what: String, otherWhat: String
        )
            throws(BackendError) -> UInt64
        {
            var value: UInt64 = 0
            while let token = peek() {
                switch token {
                case .number(let number): value |= number
                case .word(let word) where terms[word] != nil: value |= terms[word]!
                case .word(let word) where others[word] != nil:
                    // mce-inject's grammar has no place for it here: a syntax error there too.
                    throw fail(
                        tokens[index].line,
                        "\(word) is \(otherWhat == "STATUS" ? "a" : "an") \(otherWhat) term, not \(what == "STATUS" ? "a" : "an") \(what) one: write \(otherWhat) \(word)"
                    )
                default: return value
                }
                index += 1
            }
            return value
        }

        private func fail(_ line: Int, _ message: String) -> BackendError { .invalid("\(source):\(line): \(message)") }

        private func peek(_ offset: Int = 0) -> Token? {
            index + offset < tokens.count ? tokens[index + offset].token : nil
        }

        private mutating func number(_ what: String) throws(BackendError) -> UInt64 {
            guard index < tokens.count, case .number(let value) = tokens[index].token else {
                throw fail(
                    index < tokens.count ? tokens[index].line : tokens.last?.line ?? 1,
                    "\(what) needs a number"
                        + (index < tokens.count ? ", not \(describe(tokens[index].token))" : " (the file ends)"))
            }
            index += 1
            return value
        }

        private mutating func expect(_ token: Token, _ context: String) throws(BackendError) {
            guard index < tokens.count, tokens[index].token == token else {
                throw fail(
                    index < tokens.count ? tokens[index].line : tokens.last?.line ?? 1,
                    "expected \(describe(token)) \(context)"
                        + (index < tokens.count ? ", found \(describe(tokens[index].token))" : ""))
            }
            index += 1
        }
    }

    /// The tokens with their lines.
    static func scan(_ text: String, source: String) throws(BackendError) -> [(token: Token, line: Int)] {
        var tokens: [(Token, Int)] = []
        var line = 1
        let bytes = Array(text.utf8)
        var index = 0
        func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }
        func isWordStart(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) || byte == 95 }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 10:
                line += 1
                index += 1
            case 32, 9, 13:
                index += 1
            case 35:  // '#': a comment to the end of the line
                while index < bytes.count, bytes[index] != 10 { index += 1 }
            case 58, 123, 125, 60, 62:  // : { } < >
                tokens.append((.symbol(Character(UnicodeScalar(byte))), line))
                index += 1
            case _ where isDigit(byte):
                var end = index
                let hex = byte == 48 && index + 1 < bytes.count && (bytes[index + 1] == 120 || bytes[index + 1] == 88)
                if hex { end += 2 }
                while end < bytes.count,
                    isDigit(bytes[end]) || (hex && ((65...70).contains(bytes[end]) || (97...102).contains(bytes[end])))
                { end += 1 }
                let digits = String(decoding: bytes[index..<end], as: UTF8.self)
                let value: UInt64?
                if hex {
                    value = UInt64(digits.dropFirst(2), radix: 16)
                } else if digits.count > 1, digits.hasPrefix("0") {
                    value = UInt64(digits.dropFirst(), radix: 8)
                } else {
                    value = UInt64(digits)
                }
                guard let value else {
                    throw BackendError.invalid(
                        "\(source):\(line): '\(digits)' is not a number mce-inject reads (decimal, 0x hex or 0-led octal, up to 64 bits)"
                    )
                }
                tokens.append((.number(value), line))
                index = end
            case _ where isWordStart(byte):
                var end = index
                while end < bytes.count, isWordStart(bytes[end]) || isDigit(bytes[end]) { end += 1 }
                tokens.append((.word(String(decoding: bytes[index..<end], as: UTF8.self).uppercased()), line))
                index = end
            default:
                let character = String(decoding: bytes[index..<min(index + 1, bytes.count)], as: UTF8.self)
                throw BackendError.invalid("\(source):\(line): unrecognized character '\(character)'")
            }
        }
        return tokens
    }

    private static func describe(_ token: Token) -> String {
        switch token {
        case .number(let value): return "the number \(value)"
        case .word(let word): return word
        case .symbol(let symbol): return "'\(symbol)'"
        }
    }
}
