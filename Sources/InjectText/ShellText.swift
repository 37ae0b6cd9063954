/// Quotes `text` for a POSIX shell: one word, whatever it holds.
public func shellQuote(_ text: String) -> String {
    "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

/// `word` as a POSIX shell reads it back: as it is when it holds only characters no shell treats
/// specially, else quoted (for commands shown to people, which stay readable).
public func shellWord(_ word: String) -> String {
    let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
    return safe && !word.isEmpty ? word : shellQuote(word)
}

/// `value` with newlines, tabs, quotes and backslashes escaped, as in a C string literal.
public func cEscaped(_ value: String) -> String {
    var text = ""
    for character in value {
        switch character {
        case "\n": text += "\\n"
        case "\t": text += "\\t"
        case "\"": text += "\\\""
        case "\\": text += "\\\\"
        default: text.append(character)
        }
    }
    return text
}
