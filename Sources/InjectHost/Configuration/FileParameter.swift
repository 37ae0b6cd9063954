import InjectPluginABI

/// A `.file` parameter's files (ABI 1.3, `INJECT_PARAM_FILE`): read here, on the machine running
/// `inject`, before anything is planned, and handed to the plugin as one byte string in which
/// each file follows a line of `INJECT_FILE_SEPARATOR` and its path. A plugin never opens a host
/// file, and a file that cannot be read stops the request before anything is injected.
public enum FileParameter {
    /// Limits: one file, and all of them together.
    public static let maximumFileBytes = 1 << 20
    public static let maximumTotalBytes = 4 << 20
    public static let maximumFiles = 256

    /// Why the files could not be read: one line naming the path.
    public struct ReadError: Error, Equatable {
        public var reason: String
    }

    /// Reads the comma-separated `paths` (`-` is standard input, at most once).
    public static func read(_ paths: String) throws(ReadError) -> [(path: String, contents: [UInt8])] {
        let names = paths.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed(" \t") }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ReadError(
                reason: "expected one or more paths separated by commas (- for standard input), not an empty one")
        }
        guard names.count <= maximumFiles else {
            throw ReadError(reason: "\(names.count) files is more than \(maximumFiles)")
        }
        guard names.filter({ $0 == "-" }).count <= 1 else {
            throw ReadError(reason: "standard input (-) can be read once")
        }
        var files: [(String, [UInt8])] = []
        var total = 0
        for name in names {
            let contents = try name == "-" ? readStandardInput() : readFile(name)
            guard !contents.contains(0) else {
                throw ReadError(reason: "\(display(name)) holds NUL bytes: a text file is expected")
            }
            total += contents.count
            guard total <= maximumTotalBytes else {
                throw ReadError(reason: "the files hold more than \(maximumTotalBytes >> 20) MiB together")
            }
            files.append((name == "-" ? "<stdin>" : name, contents))
        }
        return files
    }

    /// The bytes a plugin receives.
    public static func encode(_ files: [(path: String, contents: [UInt8])]) -> [UInt8] {
        files.flatMap { [UInt8(INJECT_FILE_SEPARATOR)] + Array($0.path.utf8) + [10] + $0.contents }
    }

    private static func display(_ name: String) -> String { name == "-" ? "standard input" : name }

    private static func readFile(_ path: String) throws(ReadError) -> [UInt8] {
        // The framing puts each path on a line of its own: a newline (or the separator) in a name
        // would let the name forge the start of another file.
        if let bad = path.unicodeScalars.first(where: { $0 == "\n" || $0.value == UInt32(INJECT_FILE_SEPARATOR) }) {
            throw ReadError(
                reason:
                    "\(PrintableText.escaped(path)): a file name holding \(PrintableText.escaped(String(bad))) cannot be passed to a plugin (each name is one line); rename the file"
            )
        }
        let contents: [UInt8]?
        do { contents = try UserFile.read(path, limit: maximumFileBytes) } catch {
            throw ReadError(reason: error.description)
        }
        guard let contents else { throw ReadError(reason: "\(path): \(Errno.noSuchFileOrDirectory)") }
        return contents
    }

    private static func readStandardInput() throws(ReadError) -> [UInt8] {
        do {
            return try UserFile.readStandardInput(limit: maximumFileBytes)
        } catch {
            throw ReadError(reason: error.description)
        }
    }
}
