import FirmwareFormats
import InjectPluginAPI

/// The aer-inject tool's input language (git.kernel.org aer-inject, `aer.lex` and `aer.y`), so
/// that existing test files run unchanged: blocks that each start with `AER` and hold
///
///     PCI_ID [WWWW:]BB:DD.F        (alias ID)
///     DOMAIN n BUS n DEV n FN n    (DOMAIN optional)
///     COR_STATUS names|numbers     (aliases COR, CORRECTABLE)
///     UNCOR_STATUS names|numbers   (aliases UNCOR, UNCORRECTABLE)
///     HEADER_LOG n n n n           (alias HL)
///
/// Keywords and error names in any case, numbers as C writes them, `#` to the end of the line a
/// comment, newlines as blanks. Each block is one ``AERRequest``.
public enum AERInjectFile {
    /// The requests in `text`; `path` names the file in messages.
    public static func parse(_ text: String, path: String) throws(BackendError) -> [AERRequest] {
        var tokens: [(word: String, line: Int)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            tokens += code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map {
                (String($0), index + 1)
            }
        }
        var parser = Parser(tokens: tokens, path: path)
        var requests: [AERRequest] = []
        while !parser.atEnd { requests.append(try parser.block()) }
        guard !requests.isEmpty else { throw BackendError.invalid("\(path): no AER block in the file") }
        return requests
    }

    /// The grammar over the file's words: blocks, each `AER` and its keywords.
    private struct Parser {
        let tokens: [(word: String, line: Int)]
        let path: String
        var position = 0
        /// The block's device as DOMAIN/BUS/DEV/FN give it.
        private var domain: UInt64?, bus: UInt64?, slot: UInt64?, function: UInt64?

        init(tokens: [(word: String, line: Int)], path: String) {
            self.tokens = tokens
            self.path = path
        }

        var atEnd: Bool { position >= tokens.count }

        /// One block: `AER` and its keywords, up to the next `AER`.
        mutating func block() throws(BackendError) -> AERRequest {
            let start = tokens[position]
            guard keyword(start.word) == "AER" else {
                throw fail("expected AER to start a block, found '\(start.word)'", start.line)
            }
            position += 1
            var request = AERRequest(origin: "\(path):\(start.line)")
            (domain, bus, slot, function) = (nil, nil, nil, nil)
            while position < tokens.count, keyword(tokens[position].word) != "AER" {
                try keywordEntry(&request)
            }
            if let bus, let slot, let function {
                request.device =
                    hexText(domain ?? 0, digits: 4) + ":" + hexText(bus, digits: 2) + ":" + hexText(slot, digits: 2)
                    + "." + String(function)
            } else if domain != nil {
                throw fail("DOMAIN needs BUS n DEV n FN n in the same block", start.line)
            }
            guard request.correctable != 0 || request.uncorrectable != 0 else {
                throw fail("the block sets no error (COR_STATUS or UNCOR_STATUS)", start.line)
            }
            return request
        }

        /// One keyword and its values.
        private mutating func keywordEntry(_ request: inout AERRequest) throws(BackendError) {
            let token = tokens[position]
            position += 1
            switch keyword(token.word) {
            case "PCI_ID":
                guard position < tokens.count, let address = AERInjectFile.address(tokens[position].word) else {
                    throw fail("PCI_ID needs [WWWW:]BB:DD.F", token.line)
                }
                request.device = address
                position += 1
            case "DOMAIN":
                domain = try number("a domain", max: 0xFFFF, after: token)
            case "BUS":
                bus = try number("a bus", max: 0xFF, after: token)
                for (name, limit) in [("DEV", UInt64(31)), ("FN", 7)] {
                    guard position < tokens.count, keyword(tokens[position].word) == name else {
                        throw fail("BUS n is followed by DEV n FN n", token.line)
                    }
                    let word = tokens[position]
                    position += 1
                    let value = try number(name == "DEV" ? "a device" : "a function", max: limit, after: word)
                    if name == "DEV" { slot = value } else { function = value }
                }
            case "COR_STATUS", "UNCOR_STATUS":
                let register: AERError.Register = keyword(token.word) == "COR_STATUS" ? .correctable : .uncorrectable
                let bits = try statusBits(register)
                if register == .correctable { request.correctable |= bits } else { request.uncorrectable |= bits }
            case "HEADER_LOG":
                var words: [UInt32] = []
                for _ in 0..<4 {
                    words.append(UInt32(try number("four header words", max: UInt64(UInt32.max), after: token)))
                }
                request.header = words
            default:
                throw fail("unexpected '\(token.word)'", token.line)
            }
        }

        /// A status register's errors, by name or number, up to the next keyword.
        private mutating func statusBits(_ register: AERError.Register) throws(BackendError) -> UInt32 {
            var bits: UInt32 = 0
            while position < tokens.count, keyword(tokens[position].word) == nil {
                let word = tokens[position]
                if let value = CNumber.parse(word.word) {
                    guard value <= UInt64(UInt32.max) else {
                        throw fail("status \(word.word) is wider than 32 bits", word.line)
                    }
                    bits |= UInt32(value)
                } else if let error = AERError.named(word.word) {
                    guard error.register == register else {
                        throw fail(
                            "\(error.name) is \(error.register == .correctable ? "a correctable" : "an uncorrectable") error: it goes under \(error.register == .correctable ? "COR_STATUS" : "UNCOR_STATUS")",
                            word.line)
                    }
                    bits |= error.mask
                } else {
                    throw fail(
                        "'\(word.word)' is not an AER error; \(register == .correctable ? "COR_STATUS" : "UNCOR_STATUS") takes \(AERError.names(register)) or a number",
                        word.line)
                }
                position += 1
            }
            return bits
        }

        private mutating func number(_ what: String, max: UInt64, after keyword: (word: String, line: Int))
            throws(BackendError) -> UInt64
        {
            guard position < tokens.count, let value = CNumber.parse(tokens[position].word) else {
                throw fail("\(keyword.word) needs \(what), a number", keyword.line)
            }
            guard value <= max else {
                throw fail("\(what) \(tokens[position].word) is larger than \(max)", tokens[position].line)
            }
            position += 1
            return value
        }

        private func fail(_ message: String, _ line: Int) -> BackendError {
            BackendError.invalid(
                "\(path):\(line): \(message) (aer-inject syntax: AER, PCI_ID, DOMAIN/BUS/DEV/FN, COR_STATUS, UNCOR_STATUS, HEADER_LOG)"
            )
        }

        private func keyword(_ word: String) -> String? { AERInjectFile.keyword(word) }
    }

    /// The keyword `word` spells (aliases folded), or `nil` for anything else.
    static func keyword(_ word: String) -> String? {
        switch word.uppercased() {
        case "AER": "AER"
        case "PCI_ID", "ID": "PCI_ID"
        case "DOMAIN": "DOMAIN"
        case "BUS": "BUS"
        case "DEV": "DEV"
        case "FN": "FN"
        case "COR_STATUS", "COR", "CORRECTABLE": "COR_STATUS"
        case "UNCOR_STATUS", "UNCOR", "UNCORRECTABLE": "UNCOR_STATUS"
        case "HEADER_LOG", "HL": "HEADER_LOG"
        default: nil
        }
    }

    /// `[WWWW:]BB:DD.F` as the tool's scanner takes it (hex), fully written.
    static func address(_ text: String) -> String? {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let domain = parts.count == 3 ? parts[0] : "0000"
        let slotFunction = parts[parts.count - 1].split(separator: ".").map(String.init)
        guard domain.count == 4, parts[parts.count - 2].count == 2, slotFunction.count == 2, slotFunction[0].count == 2,
            slotFunction[1].count == 1,
            let d = UInt64(domain, radix: 16), let b = UInt64(parts[parts.count - 2], radix: 16),
            let s = UInt64(slotFunction[0], radix: 16), s <= 31, let f = UInt64(slotFunction[1], radix: 16), f <= 7
        else { return nil }
        return hexText(d, digits: 4) + ":" + hexText(b, digits: 2) + ":" + hexText(s, digits: 2) + "." + String(f)
    }
}
