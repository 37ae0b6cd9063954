/// Samples of Prometheus's text exposition format (what an exporter's `/metrics` answers):
/// `name{label="value",...} number` per line; comments, and lines that are not samples, are skipped.
public struct PrometheusText: Sendable, Equatable {
    /// One sample.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// The samples, in the text's order.
    public var samples: [Sample]

    /// Parses `text`.
    public init(_ text: String) {
        samples = text.split(separator: "\n").compactMap(Self.sample)
    }

    /// The samples named `name`.
    public func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// The value of the sample named `name` whose labels are exactly `labels`.
    public func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private static func sample(_ line: Substring) -> Sample? {
        guard !line.hasPrefix("#") else { return nil }
        // `name value [timestamp]` or `name{labels} value [timestamp]`.
        let head: Substring
        let tail: Substring
        if let close = line.lastIndex(of: "}") {
            head = line[...close]
            tail = line[line.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            head = line[..<space]
            tail = line[space...]
        }
        guard let number = tail.split(separator: " ").first, let value = Double(number) else { return nil }
        guard let open = head.firstIndex(of: "{") else {
            return head.isEmpty ? nil : Sample(name: String(head), labels: [:], value: value)
        }
        var labels: [String: String] = [:]
        var rest = head[head.index(after: open)..<head.index(before: head.endIndex)]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else {
                return nil
            }
            let key = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)
            var text = ""
            while index < rest.endIndex, rest[index] != "\"" {
                if rest[index] == "\\", rest.index(after: index) < rest.endIndex {
                    index = rest.index(after: index)
                    text.append(rest[index] == "n" ? "\n" : rest[index])
                } else {
                    text.append(rest[index])
                }
                index = rest.index(after: index)
            }
            guard index < rest.endIndex else { return nil }
            labels[key] = text
            rest = rest[rest.index(after: index)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return Sample(name: String(head[..<open]), labels: labels, value: value)
    }
}
