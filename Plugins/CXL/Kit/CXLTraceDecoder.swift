/// Reads the cxl tracepoints' payloads (`memdev=mem0 host=0000:0d:00.0 serial=1 log=Warning : ...
/// dpa=2000 descriptor='UNCORRECTABLE_EVENT' ... hpa=ffffffffffffffff region=`, and the protocol
/// errors' `status: 'Memory Data ECC Error' first_error: '...'`) into the fields `inject watch` shows.
enum CXLTraceDecoder {
    /// The `name=value` pairs of a payload, quoted values unquoted (they may hold spaces).
    static func pairs(_ payload: String) -> [String: String] {
        var found: [String: String] = [:]
        var rest = Substring(payload)
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(separator: " ").last.map(String.init) ?? ""
            var value = rest[rest.index(after: equals)...]
            let text: Substring
            if value.first == "'" {
                value = value.dropFirst()
                let end = value.firstIndex(of: "'") ?? value.endIndex
                text = value[..<end]
                rest = end < value.endIndex ? value[value.index(after: end)...] : ""
            } else {
                let end = value.firstIndex(of: " ") ?? value.endIndex
                text = value[..<end]
                rest = value[end...]
            }
            if !name.isEmpty { found[name] = String(text.hasSuffix(":") ? text.dropLast() : text) }
        }
        // The protocol errors' `status: '...'` and `first_error: '...'`.
        for key in ["status", "first_error"] {
            if let range = payload.firstRange(of: key + ": '") {
                let after = payload[range.upperBound...]
                found[key] = String(after[..<(after.firstIndex(of: "'") ?? after.endIndex)])
            }
        }
        return found
    }

    /// The fields shown for `event` (`cxl:cxl_general_media` ...).
    static func decode(event: String, payload: String) -> [String: String] {
        guard event.hasPrefix("cxl:") else { return [:] }
        let fields = pairs(payload)
        var out: [String: String] = [:]
        for key in [
            "memdev", "log", "descriptor", "type", "transaction_type", "trace_type", "source", "status", "first_error",
        ] {
            if let value = fields[key], !value.isEmpty { out[key] = value }
        }
        for key in ["dpa", "dpa_length"] {
            if let value = fields[key], !value.isEmpty { out[key] = value.hasPrefix("0x") ? value : "0x" + value }
        }
        // A host physical address only where the DPA is mapped by a region.
        if let hpa = fields["hpa"].map({ $0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0 }), !hpa.isEmpty,
            hpa.lowercased() != "ffffffffffffffff"
        {
            out["hpa"] = "0x" + hpa
        }
        if let region = fields["region"], !region.isEmpty { out["region"] = region }
        return out
    }
}
