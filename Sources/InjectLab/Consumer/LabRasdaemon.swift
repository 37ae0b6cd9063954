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

    /// rasdaemon's `TRIGGER_DIR` once ``recordTriggers()`` ran: a recording script per trigger, and
    /// under `runs/` the environment each run was given.
    public static let triggerDirectory = "/run/inject/rasdaemon-triggers"
    /// The triggers Debian's rasdaemon runs (0.8.1 to 0.8.4 read these three variables; the AER
    /// triggers, `AER_CE_TRIGGER` and `AER_UE_TRIGGER`, arrived with upstream's 0.8.5).
    public static let triggers = ["MC_CE_TRIGGER", "MC_UE_TRIGGER", "MEM_FAIL_TRIGGER"]

    /// Points every trigger of ``triggers`` at a script that records the environment rasdaemon runs
    /// it with (`TRIGGER_DIR` and the trigger's variable in ``defaults``); they take effect at
    /// rasdaemon's next start, and ``status()`` lists the runs.
    public func recordTriggers() throws(LabError) {
        let scripts = Self.triggers.map { name in
            """
            printf '#!/bin/sh\\nf=%s/runs/$(date +%%s%%N)-%s-$$\\nenv > "$f.part" && mv "$f.part" "$f.env"\\n' \
                \(Self.triggerDirectory) \(name) > \(Self.triggerDirectory)/\(name) && chmod 755 \(Self.triggerDirectory)/\(name)
            """
        }
        let result = try lab.exec(
            (["mkdir -p \(Self.triggerDirectory)/runs"] + scripts).joined(separator: " && "), timeoutSeconds: 15)
        guard result.status == 0 else {
            throw .io(
                path: Self.triggerDirectory,
                reason: "could not write the trigger scripts: \(result.errorText.trimmed())")
        }
        try configure([("TRIGGER_DIR", Self.triggerDirectory)] + Self.triggers.map { ($0, $0) })
    }

    /// One run of a trigger: which, and the environment rasdaemon gave it.
    public struct TriggerRun: Encodable, Sendable {
        /// The trigger's variable (`MC_CE_TRIGGER`, ...).
        public var trigger: String
        /// Its environment, as the script saw it.
        public var environment: [String: String]
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
        /// The runs of the recording triggers (``recordTriggers()``), oldest first.
        public var triggerRuns: [TriggerRun]
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
                for t in $(\(RasdaemonConsumer.query(".tables")) 2>/dev/null); do echo "table $t $(\(RasdaemonConsumer.query("select count(*) from $t")))"; done
            fi
            for f in $(ls \(Self.triggerDirectory)/runs/*.env 2>/dev/null | sort); do
                echo "trigger $(basename $f .env)"; sed 's/^/  /' $f
            done
            echo "log"
            tail -5 \(Self.log) 2>/dev/null
            """, timeoutSeconds: 15)
        var status = Status(
            pid: nil, bufferPercent: nil, database: Self.database, rows: [:], triggerRuns: [], log: "")
        var inLog = false
        for line in result.text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ").map(String.init)
            if inLog {
                status.log += line + "\n"
                continue
            }
            if line.hasPrefix("  "), !status.triggerRuns.isEmpty {
                let pair = line.dropFirst(2).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                status.triggerRuns[status.triggerRuns.count - 1].environment[String(pair[0])] =
                    pair.count > 1 ? String(pair[1]) : ""
                continue
            }
            switch words.first {
            case "pid": status.pid = words.count > 1 ? Int(words[1]) : nil
            case "buffer_percent": status.bufferPercent = words.count > 1 ? Int(words[1]) : nil
            case "table" where words.count == 3: status.rows[words[1]] = Int(words[2])
            case "trigger" where words.count == 2:
                // The run's file: <nanoseconds>-<trigger>-<pid>.
                let name = words[1].split(separator: "-").dropFirst().dropLast().joined(separator: "-")
                status.triggerRuns.append(TriggerRun(trigger: name, environment: [:]))
            case "log": inLog = true
            default: break
            }
        }
        status.log = status.log.trimmed()
        return status
    }
}
