/// Streams the RAS events of a target as the kernel records them: the MCE, RAS and memory-failure
/// trace events and the kernel's hardware-error log lines, from this process's own tracefs
/// instance, each split into fields.
public struct EventWatcher {
    /// The events watched.
    public static let events: Set<String> = ["mce:mce_record", "ras:mc_event", "ras:memory_failure_event", "ras:non_standard_event",
                                             "ras:arm_event", "ras:aer_event", "printk:console"]

    /// One event.
    public struct Event: Sendable, Encodable {
        /// The trace timestamp (seconds since boot).
        public var timestamp: Double
        /// `mce_record`, `mc_event`, `console`, ...
        public var event: String
        /// `name: value` pairs the line holds (MCE records decoded: severity from the status word).
        public var fields: [String: String]
        /// The line as the kernel traced it.
        public var text: String
    }

    let target: TargetSpec
    let processID: Int32
    private var lastTimestamp = -1.0

    /// Makes the tracefs instance.
    public init(target: TargetSpec, processID: Int32) throws(TargetError) {
        self.target = target
        self.processID = processID
        try withVerifier { verifier, files throws(TargetError) in
            let available = Self.events.filter { event in files.exists("sys/kernel/tracing/events/\(event.split(separator: ":").joined(separator: "/"))") }
            try verifier.makeInstance(events: available)
        }
    }

    /// Runs `body` with the target's files, then lets go of a guest's agent: its one channel must
    /// stay free for the injections being watched.
    private func withVerifier<R>(_ body: (Verifier, any TargetFiles) throws(TargetError) -> R) throws(TargetError) -> R {
        defer { target.guest?.release() }
        let files = try target.files()
        return try body(Verifier(target: target, files: files, processID: processID, purpose: "watch"), files)
    }

    /// Events recorded since the last call.
    public mutating func poll() -> [Event] {
        var found: [Event] = []
        let lines = (try? withVerifier { verifier, _ in verifier.traceLines() }) ?? []
        for line in lines {
            guard let event = Self.parse(line), event.timestamp > lastTimestamp else { continue }
            if event.event == "console" && !Self.isHardwareErrorLog(event.text) { continue }
            found.append(event)
        }
        if let last = found.last { lastTimestamp = last.timestamp }
        return found
    }

    /// Removes the tracefs instance.
    public func stop() { _ = try? withVerifier { verifier, _ in verifier.removeInstance() } }

    static func isHardwareErrorLog(_ text: String) -> Bool {
        ["Hardware Error", "Memory failure", "NMI", "EDAC", "GHES", "mce:"].contains { text.contains($0) }
    }

    /// Splits a trace line (`task-pid [cpu] flags timestamp: event: payload`).
    static func parse(_ line: Substring) -> Event? {
        let parts = line.split(separator: ": ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let timestamp = parts[0].split(separator: " ").last.flatMap({ Double($0) }) else { return nil }
        let name = String(parts[1])
        let payload = String(parts[2])
        var fields: [String: String] = [:]
        if name == "console" {
            fields["message"] = payload
        } else {
            for piece in payload.split(separator: ",") {
                let pair = piece.split(separator: ":", maxSplits: 1)
                guard pair.count == 2 else { continue }
                fields[pair[0].trimmed()] = pair[1].trimmed()
            }
        }
        if name == "mce_record", let key = fields.keys.first(where: { $0.hasPrefix("MC") && $0 != "MCGc/s" }),
           let status = UInt64(fields[key] ?? "", radix: 16) {
            fields["bank"] = String(key.dropFirst(2))
            fields["status"] = "0x" + String(status, radix: 16)
            fields["severity"] = Self.mceSeverity(status)
        }
        return Event(timestamp: timestamp, event: name, fields: fields, text: payload)
    }

    /// The architectural severity of an MCi_STATUS word (VAL, UC, PCC, S, AR; AMD deferred).
    static func mceSeverity(_ status: UInt64) -> String {
        let bit = { (n: UInt64) in status & (1 << n) != 0 }
        guard bit(63) else { return "not valid" }
        if !bit(61) { return bit(44) ? "deferred" : "corrected" }
        if bit(57) { return "fatal" }
        if !bit(56) { return "UCNA" }
        return bit(55) ? "SRAR" : "SRAO"
    }
}
