/// The registry cache's file format, written and read by this one type: lines of tab-separated
/// fields, so that reading it at every start costs a split, not a `Codable` decode (JSONDecoder
/// took 6.6 M instructions for four plugins, a fifth of `inject list`).
///
/// ```
/// inject-registry 2
/// host<TAB>IDENTITY
/// file<TAB>PATH<TAB>DEV<TAB>INODE<TAB>SIZE<TAB>MTIME<TAB>CTIME<TAB>LIBRARY<TAB>LIBKEY...<TAB>DIGEST
/// info<TAB>NAME<TAB>VERSION<TAB>SUMMARY<TAB>ABI<TAB>DECODES<TAB>FAMILIES<TAB>MODULES<TAB>EVENTS<TAB>MARKERS
/// param<TAB>NAME<TAB>TYPE<TAB>HELP<TAB>UNIT<TAB>DEFAULT<TAB>CHOICES<TAB>REQUIRED<TAB>MIN<TAB>MAX
/// loss<TAB>MATCH<TAB>REASON
/// table<TAB>EVENT<TAB>TABLE
/// refusal<TAB>TEXT
/// ```
/// Each `host` line opens the section of one `inject` executable (``RegistryCache/Section``):
/// two builds on one machine keep their own entries side by side instead of rescanning in turn.
/// `file` lines belong to the `host` line before them; `info`, its `param` lines and `refusal` to
/// the `file` line before them, and `loss` and `table` lines (ABI 1.5's loss markers and
/// consumer tables) to its `info`. Text is escaped
/// (`\\`, `\t`, `\n`, `\u` for the list separator U+001F); a missing value is `\-`; list items
/// are joined by U+001F.
enum RegistryCacheFormat {
    static let magic = "inject-registry 2"

    /// The file's text.
    static func encode(_ sections: [RegistryCache.Section]) -> [UInt8] {
        var out = magic + "\n"
        for section in sections {
            out += line(["host", escape(section.host)])
            encode(section.entries, into: &out)
        }
        return Array(out.utf8)
    }

    private static func encode(_ entries: [RegistryCache.Entry], into out: inout String) {
        for entry in entries {
            let key = entry.key
            let library = entry.libraryKey
            out += line(
                ["file", escape(entry.path)] + keyFields(key) + [optional(entry.library)]
                    + (library.map(keyFields) ?? Array(repeating: missing, count: 5)) + [optional(entry.digest)])
            if let info = entry.info {
                out += line([
                    "info", escape(info.name), escape(info.version), escape(info.summary), escape(info.path),
                    escape(info.abi),
                    info.decodesEvents ? "1" : "0", list(info.families), list(info.kernelModules),
                    list(info.traceEvents), list(info.logMarkers),
                ])
                for marker in info.lossMarkers { out += line(["loss", escape(marker.match), escape(marker.reason)]) }
                for (event, table) in info.consumerTables.sorted(by: { $0.key < $1.key }) {
                    out += line(["table", escape(event), escape(table)])
                }
                for spec in info.parameters {
                    out += line([
                        "param", escape(spec.name), spec.type.rawValue, escape(spec.help), optional(spec.unit),
                        optional(spec.defaultValue),
                        list(spec.choices), spec.isRequired ? "1" : "0",
                        spec.bounds.map { String($0.min) } ?? missing, spec.bounds.map { String($0.max) } ?? missing,
                    ])
                }
            }
            if let refusal = entry.refusal { out += line(["refusal", escape(refusal)]) }
        }
    }

    /// The sections of a file's bytes, or `nil` when they are not this format.
    ///
    /// One pass over the bytes: lines and fields are ranges into them, and a string is made only
    /// for a value that is kept (this runs at every start).
    static func decode(_ bytes: [UInt8]) -> [RegistryCache.Section]? {
        bytes.withUnsafeBufferPointer { buffer -> [RegistryCache.Section]? in
            var sections: [RegistryCache.Section] = []
            var fields: [Field] = []
            fields.reserveCapacity(16)
            var lineStart = 0
            var isFirst = true
            while lineStart < buffer.count {
                let lineEnd = buffer[lineStart...].firstIndex(of: 10) ?? buffer.count
                defer { lineStart = lineEnd + 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                if isFirst {
                    guard line.elementsEqual(magic.utf8) else { return nil }
                    isFirst = false
                    continue
                }
                if line.isEmpty { continue }
                Field.split(line, into: &fields)
                let kind = fields[0].raw
                if kind == "host", fields.count == 2, let host = fields[1].text {
                    sections.append(RegistryCache.Section(host: host, entries: []))
                    continue
                }
                guard !sections.isEmpty, decode(kind, fields, into: &sections[sections.count - 1].entries) else {
                    return nil
                }
            }
            return isFirst ? nil : sections
        }
    }

    /// Adds the line of `kind` to `entries`; `false` when it is malformed or out of place.
    private static func decode(_ kind: String, _ fields: [Field], into entries: inout [RegistryCache.Entry]) -> Bool {
        switch (kind, fields.count) {
        case ("file", 14):
            guard let key = fileKey(fields[2...6]), let path = fields[1].text else { return false }
            entries.append(
                RegistryCache.Entry(
                    path: path, key: key, library: fields[7].text, libraryKey: fileKey(fields[8...12]),
                    digest: fields[13].text))
        case ("info", 11):
            guard !entries.isEmpty, let name = fields[1].text, let version = fields[2].text,
                let summary = fields[3].text,
                let path = fields[4].text, let abi = fields[5].text
            else { return false }
            var info = BackendInfo(
                name: name, version: version, summary: summary, families: fields[7].list, parameters: [], path: path,
                abi: abi)
            info.decodesEvents = fields[6].raw == "1"
            info.kernelModules = fields[8].list
            info.traceEvents = fields[9].list
            info.logMarkers = fields[10].list
            entries[entries.count - 1].info = info
        case ("param", 10):
            guard !entries.isEmpty, entries[entries.count - 1].info != nil, let name = fields[1].text,
                let type = ParameterSpec.ValueType(rawValue: fields[2].raw), let help = fields[3].text
            else { return false }
            var bounds: ParameterSpec.Bounds?
            if let min = fields[8].text.flatMap({ UInt64($0) }), let max = fields[9].text.flatMap({ UInt64($0) }) {
                bounds = .init(min: min, max: max)
            }
            entries[entries.count - 1].info!.parameters.append(
                ParameterSpec(
                    name: name, type: type, help: help, unit: fields[4].text, defaultValue: fields[5].text,
                    choices: fields[6].list, isRequired: fields[7].raw == "1", bounds: bounds))
        case ("loss", 3):
            guard !entries.isEmpty, entries[entries.count - 1].info != nil, let match = fields[1].text,
                let reason = fields[2].text
            else { return false }
            entries[entries.count - 1].info!.lossMarkers.append(KernelLossMarker(match: match, reason: reason))
        case ("table", 3):
            guard !entries.isEmpty, entries[entries.count - 1].info != nil, let event = fields[1].text,
                let table = fields[2].text
            else { return false }
            entries[entries.count - 1].info!.consumerTables[event] = table
        case ("refusal", 2):
            guard !entries.isEmpty else { return false }
            entries[entries.count - 1].refusal = fields[1].text
        default:
            return false
        }
        return true
    }

    // MARK: - Fields

    private static let missing = "\\-"
    private static let separator: Character = "\u{1F}"

    private static func line(_ fields: [String]) -> String { fields.joined(separator: "\t") + "\n" }

    private static func keyFields(_ key: PluginFileKey) -> [String] {
        [String(key.device), String(key.inode), String(key.size), String(key.modified), String(key.changed)]
    }

    private static func fileKey(_ fields: ArraySlice<Field>) -> PluginFileKey? {
        let values = fields.map(\.raw)
        guard values.count == 5, let device = UInt64(values[0]), let inode = UInt64(values[1]),
            let size = Int64(values[2]),
            let modified = Int64(values[3]), let changed = Int64(values[4])
        else { return nil }
        return PluginFileKey(device: device, inode: inode, size: size, modified: modified, changed: changed)
    }

    private static func optional(_ text: String?) -> String { text.map(escape) ?? missing }

    private static func list(_ items: [String]) -> String { items.map(escape).joined(separator: String(separator)) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case separator: out += "\\u"
            default: out.append(character)
            }
        }
        return out
    }

    /// One field's bytes, valid while the file's bytes are borrowed by ``decode(_:)``.
    private struct Field {
        let bytes: UnsafeBufferPointer<UInt8>

        /// Splits `line` at tabs into `fields` (emptied first).
        static func split(_ line: UnsafeBufferPointer<UInt8>, into fields: inout [Field]) {
            fields.removeAll(keepingCapacity: true)
            var start = 0
            for index in line.indices where line[index] == 9 {
                fields.append(Field(bytes: UnsafeBufferPointer(rebasing: line[start..<index])))
                start = index + 1
            }
            fields.append(Field(bytes: UnsafeBufferPointer(rebasing: line[start...])))
        }

        /// As written (numbers, kinds, flags).
        var raw: String { String(decoding: bytes, as: UTF8.self) }

        /// Unescaped text, or `nil` for a missing value.
        var text: String? {
            if bytes.count == 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "-") { return nil }
            guard bytes.contains(UInt8(ascii: "\\")) else { return raw }
            return Self.unescape(bytes[...])
        }

        /// Items joined by U+001F, each unescaped.
        var list: [String] {
            guard !bytes.isEmpty else { return [] }
            var items: [String] = []
            items.reserveCapacity(8)
            var start = 0
            for index in bytes.indices where bytes[index] == 0x1F {
                items.append(Self.unescape(bytes[start..<index]))
                start = index + 1
            }
            items.append(Self.unescape(bytes[start...]))
            return items
        }

        private static func unescape(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
            guard bytes.contains(UInt8(ascii: "\\")) else {
                return String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
            }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var escaped = false
            for byte in bytes {
                if escaped {
                    switch byte {
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "u"): out.append(0x1F)
                    default: out.append(byte)
                    }
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else {
                    out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
