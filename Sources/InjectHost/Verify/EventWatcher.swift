/// Streams the RAS events of a target as the kernel records them: the trace events and kernel log
/// lines the loaded backends declare (ABI 1.2), from this process's own tracefs instance, each
/// split into the kernel's fields and decoded further by the backend that declared it.
public struct EventWatcher {
    /// What to watch, from the backends.
    public struct Interest: Sendable {
        /// `system:event` tracepoints, each with the backend that decodes it.
        public var events: [String: RegisteredBackend]
        /// Substrings that mark a hardware-error kernel log line.
        public var logMarkers: [String]

        /// The union of what `backends` declare.
        public init(_ backends: [RegisteredBackend]) {
            var events: [String: RegisteredBackend] = [:]
            for backend in backends {
                for event in backend.info.traceEvents where events[event] == nil { events[event] = backend }
            }
            self.events = events
            logMarkers = Array(Set(backends.flatMap(\.info.logMarkers))).sorted()
        }
    }

    /// One event.
    public struct Event: Sendable, Encodable {
        /// The trace timestamp (seconds since boot).
        public var timestamp: Double
        /// `mce_record`, `mc_event`, `console`, ...
        public var event: String
        /// The kernel's `name: value` pairs (a console line's text is `message`).
        public var fields: [String: String]
        /// Fields the declaring backend decoded from them (a machine check's severity, for example).
        public var decoded: [String: String]
        /// The backend that decoded it.
        public var decodedBy: String?
        /// The line as the kernel traced it.
        public var text: String
    }

    let target: InjectionTarget
    let processID: Int32
    let interest: Interest
    private var lastTimestamp = -1.0

    /// Makes the tracefs instance with the declared events that the target's kernel has.
    public init(target: InjectionTarget, processID: Int32, interest: Interest) throws(TargetError) {
        self.target = target
        self.processID = processID
        self.interest = interest
        try withVerifier { verifier, files throws(TargetError) in
            let declared = Set(interest.events.keys).union(["printk:console"])
            let available = declared.filter { event in
                files.exists("sys/kernel/tracing/events/\(event.split(separator: ":").joined(separator: "/"))")
            }
            try verifier.makeInstance(events: available)
        }
    }

    /// Runs `body` with the target's files, then lets go of a guest's agent: its one channel must
    /// stay free for the injections being watched.
    private func withVerifier<R>(_ body: (Verifier, any TargetFiles) throws(TargetError) -> R) throws(TargetError) -> R
    {
        defer { target.guest?.release() }
        let files = try target.files()
        return try body(Verifier(target: target, files: files, processID: processID, purpose: "watch"), files)
    }

    /// Events recorded since the last call.
    public mutating func poll() -> [Event] {
        var found: [Event] = []
        let interest = interest
        let target = target
        _ = try? withVerifier { verifier, files in
            for line in verifier.traceLines() {
                guard var event = Self.parse(line), event.timestamp > lastTimestamp else { continue }
                if event.event == "console" {
                    guard interest.logMarkers.contains(where: { event.text.contains($0) }) else { continue }
                } else if let (name, backend) = interest.events.first(where: { $0.key.hasSuffix(":" + event.event) }) {
                    // A decoder's code is loaded the first time one of its events arrives.
                    let decoder = backend.info.decodesEvents ? try? backend.load() : nil
                    for (key, value) in decoder?.decode(event: name, payload: event.text, target: target, files: files)
                        ?? []
                    {
                        event.decoded[key] = value
                    }
                    if !event.decoded.isEmpty { event.decodedBy = backend.info.name }
                }
                found.append(event)
            }
        }
        if let last = found.last { lastTimestamp = last.timestamp }
        return found
    }

    /// Removes the tracefs instance.
    public func stop() { _ = try? withVerifier { verifier, _ in verifier.removeInstance() } }

    /// Splits a trace line (`task-pid [cpu] flags timestamp: event: payload`).
    static func parse(_ line: Substring) -> Event? {
        let parts = line.split(separator: ": ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let timestamp = parts[0].split(separator: " ").last.flatMap({ Double($0) }) else {
            return nil
        }
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
        return Event(timestamp: timestamp, event: name, fields: fields, decoded: [:], decodedBy: nil, text: payload)
    }
}
