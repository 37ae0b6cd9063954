#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Printing for the CLI: text to stdout, errors to stderr, JSON with sorted keys.
enum Output {
    static func line(_ text: String) { print(text) }

    static func error(_ text: String) {
        var message = "inject: error: \(text)\n"
        message.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    /// A progress line on stderr, so that stdout stays clean for --json.
    static func progress(_ text: String) {
        var message = "inject: \(text)\n"
        message.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    /// A progress line redrawn in place on a terminal (stderr); `nil` ends it with a newline.
    static func progressInPlace(_ text: String?) {
        var message = text.map { "\r\u{1B}[K" + $0 } ?? "\n"
        message.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    /// Bytes to stdout as they are.
    static func raw(_ bytes: [UInt8]) {
        fflush(nil)
        bytes.withUnsafeBytes { buffer in _ = write(1, buffer.baseAddress, buffer.count) }
    }

    /// Bytes to stderr as they are.
    static func rawError(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    static func json<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        print(String(decoding: data, as: UTF8.self))
    }

    /// One JSON object on one line, flushed at once (for streams read by other programs).
    static func jsonLine<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        print(String(decoding: data, as: UTF8.self))
        fflush(nil)
    }

    /// Rows as aligned columns.
    static func table(_ rows: [[String]], indent: String = "  ") -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            indent
                + row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
