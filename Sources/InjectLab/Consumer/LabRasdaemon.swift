import InjectHost

/// rasdaemon, the consumer SREs watch, running in a lab's guest: the guest's own (bookworm-backports'
/// 0.8, from its Debian root, ``GuestRoot``), started the way Debian's unit starts it (the
/// environment of `/etc/default/rasdaemon`, `rasdaemon -f -r`, then `rasdaemon --enable`), its
/// database on the guest's tmpfs state, and its trace instance's `buffer_percent` set to 0 before it
/// starts. (rasdaemon
/// 0.6.8 leaves it at the kernel's 50, so poll() wakes it only when half a buffer is full: it
/// enabled its events, said "Recording mce_record events", and recorded 0 of 3 machine checks.)
public struct LabRasdaemon: GuestDaemon {
    /// The database rasdaemon writes (its compiled-in path).
    public static let database = RasdaemonConsumer.database
    /// Its trace instance.
    public static let instance = RasdaemonConsumer.instance
    /// Where its output goes in the guest.
    public static let log = RasdaemonConsumer.logFile
    /// Its Debian configuration, the environment its unit gives it.
    public static let defaults = "/etc/default/rasdaemon"

    /// Sets `settings` (`PAGE_CE_THRESHOLD` to `3`, ...) in the guest's ``defaults``, replacing a
    /// line of the same name; they take effect at its next start (`stop`, then `start`).
    ///
    /// - Throws: ``LabError/io(path:reason:)`` for a name that is not a shell variable's or a value
    ///   with a quote, backslash, dollar sign or line break, before anything is written.
    public func configure(_ settings: [(name: String, value: String)]) throws(LabError) {
        for (name, value) in settings {
            let validName =
                !name.isEmpty && name.first.map { $0.isLetter || $0 == "_" } == true
                && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
            guard validName else {
                throw .io(path: Self.defaults, reason: "'\(name)' is not a variable name (letters, digits and _)")
            }
            guard !value.contains(where: { "\"'\\$`\n\r".contains($0) }) else {
                throw .io(
                    path: Self.defaults,
                    reason: "the value of \(name) may not hold quotes, backslashes, dollar signs or line breaks")
            }
        }
        let script = settings.map { name, value in
            "{ grep -v '^\(name)=' \(Self.defaults) 2>/dev/null; echo '\(name)=\"\(value)\"'; } > \(Self.defaults).new && mv \(Self.defaults).new \(Self.defaults)"
        }.joined(separator: " && ")
        guard !script.isEmpty else { return }
        let result = try lab.exec(script, timeoutSeconds: 15)
        guard result.status == 0 else {
            throw .io(path: Self.defaults, reason: "could not write it in the guest: \(result.errorText.trimmed())")
        }
    }

    /// What `status` finds.
    public struct Status: GuestDaemonStatus, Encodable {
        /// Its process, when it runs.
        public var pid: Int?
        /// Its trace instance's buffer_percent (0 wakes it at every event).
        public var bufferPercent: Int?
        /// The database, and the rows of each table.
        public var database: String
        public var rows: [String: Int]
        /// The last lines of its output.
        public var log: String
    }

    public let lab: Lab

    /// The consumer of `lab`.
    public init(_ lab: Lab) { self.lab = lab }

    /// Its command.
    public static let package = "rasdaemon"

    /// Starts it as its unit does, its trace instance's buffer_percent at 0 first, and waits until it
    /// records.
    public static var startScript: String {
        """
        mkdir -p /var/lib/rasdaemon
        mkdir -p \(instance) 2>/dev/null
        echo 0 > \(instance)/buffer_percent || exit 5
        (set -a; [ -r /etc/default/rasdaemon ] && . /etc/default/rasdaemon; set +a; setsid rasdaemon -f -r > \(log) 2>&1 &)
        for i in $(seq 1 40); do
            if grep -q "Recording" \(log) 2>/dev/null; then rasdaemon --enable >/dev/null 2>&1; exit 0; fi
            sleep 0.25
        done
        echo "rasdaemon did not start recording within 10 s:" >&2; tail -5 \(log) >&2; exit 6
        """
    }

    /// Stops it; its database stays until the lab goes down.
    public func stop() throws(LabError) -> Status {
        _ = try lab.exec(
            """
            for p in $(pidof rasdaemon); do kill $p; done
            for i in $(seq 1 20); do pidof rasdaemon >/dev/null || break; sleep 0.25; done
            """, timeoutSeconds: 15)
        return try status()
    }

    /// Its process, buffer_percent, tables and log.
    public func status() throws(LabError) -> Status {
        let result = try lab.exec(
            """
            echo "pid $(pidof rasdaemon)"
            echo "buffer_percent $(cat \(Self.instance)/buffer_percent 2>/dev/null)"
            if [ -f \(Self.database) ]; then
                for t in $(sqlite3 \(Self.database) .tables 2>/dev/null); do echo "table $t $(sqlite3 \(Self.database) "select count(*) from $t")"; done
            fi
            echo "log"
            tail -5 \(Self.log) 2>/dev/null
            """, timeoutSeconds: 15)
        var status = Status(pid: nil, bufferPercent: nil, database: Self.database, rows: [:], log: "")
        var inLog = false
        for line in result.text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ").map(String.init)
            if inLog {
                status.log += line + "\n"
                continue
            }
            switch words.first {
            case "pid": status.pid = words.count > 1 ? Int(words[1]) : nil
            case "buffer_percent": status.bufferPercent = words.count > 1 ? Int(words[1]) : nil
            case "table" where words.count == 3: status.rows[words[1]] = Int(words[2])
            case "log": inLog = true
            default: break
            }
        }
        status.log = status.log.trimmed()
        return status
    }
}
