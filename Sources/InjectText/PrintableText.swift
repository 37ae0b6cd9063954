/// Text that came from a plugin (names, messages, manifest fields), made safe to print: control
/// characters and other non-printing scalars escaped as `\u{…}`, and bounded in length, so a plugin
/// can neither move the terminal's cursor nor flood the output.
public enum PrintableText {
    /// The longest plugin message printed whole.
    public static let messageLimit = 1024

    /// `text` with control characters escaped, cut to `limit` characters (counted after escaping)
    /// with the number of characters left out said at the end.
    @inlinable
    public static func escaped(_ text: String, limit: Int = messageLimit) -> String {
        // The common case, checked on the bytes: short printable ASCII is printed as it is.
        if text.utf8.count <= limit, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(text) }
        var result = ""
        var written = 0
        var index = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let piece: String
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                piece = "\\u{" + hexText(scalar.value) + "}"
            default:
                piece = String(scalar)
            }
            if written + piece.count > limit {
                let left = scalars[index...].count
                return result + "… (\(left) more characters)"
            }
            result += piece
            written += piece.count
            index = scalars.index(after: index)
        }
        return result
    }
}
