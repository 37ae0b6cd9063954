#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
/// The consumer side of `--verify`: where rasdaemon runs on the target (the host, or a lab's
/// guest), each expected trace event it records and that the kernel was seen to emit is looked up
/// in rasdaemon's database, and reported seen (with the row) or missing (with the reason, when one
/// is known, such as its trace instance's `buffer_percent` above 0).
public enum RasdaemonConsumer {
    /// rasdaemon's database (its compiled-in path).
    public static let database = "/var/lib/rasdaemon/ras-mc_event.db"
    /// The shell command that runs `sql` on rasdaemon's database without taking a lock: opened
    /// read-only and immutable, so that a reader never holds the shared lock rasdaemon's commit
    /// must wait for. rasdaemon sets no busy timeout: a row it inserts while a plain `sqlite3`
    /// reads is lost with "Failed to do mce_record step on sqlite: error = 5" (SQLITE_BUSY, measured
    /// with 0.8.1 while `--verify` polled). A read that meets a commit half written fails or sees
    /// the old rows, and the next poll reads again. `options` go before the file (`-json`,
    /// `-separator ' | '`); a database that does not exist yet is not created. `file` is rasdaemon's
    /// database unless given.
    public static func query(_ sql: String, options: String = "", file: String = database) -> String {
        "sqlite3 \(options.isEmpty ? "" : options + " ")'file:\(file)?mode=ro&immutable=1' \"\(sql)\""
    }
    /// Where a foreground rasdaemon's (`rasdaemon -f`) output is kept beside its database, as the
    /// lab runs it; a service's goes to the journal.
    public static let logFile = "/var/lib/rasdaemon/rasdaemon.log"
    /// rasdaemon's log: its output file where it runs in the foreground (the lab), else its journal.
    static let logCommand =
        "{ cat \(logFile) 2>/dev/null || journalctl -q -o cat -t rasdaemon 2>/dev/null; }"
    /// rasdaemon's trace instance (absolute; `instancePath` beneath a target's root).
    public static let instance = "/" + instancePath
    /// rasdaemon's trace instance, relative to a target's root.
    public static let instancePath = "sys/kernel/tracing/instances/rasdaemon"
    /// What was in the database before the trigger.
    struct Armed: Sendable {
        /// The table each of the plan's trace events lands in (its backends declare them).
        var tables: [String: String]
        /// The largest row id of each table the plan's events land in.
        var baselines: [String: Int]
        /// rasdaemon's trace instance's buffer_percent.
        var bufferPercent: Int?
    }

    /// The baselines, or `nil` when no rasdaemon runs there (or the target is a file tree).
    static func arm(_ plan: InjectionPlan, target: InjectionTarget) async -> Armed? {
        guard target.guest != nil || target.root == "/" else { return nil }
        let tables = plan.consumerTables
        let events = Set(
            plan.expectations.filter { $0.kind == .traceEvent }.compactMap(\.source).filter { tables[$0] != nil })
        guard !events.isEmpty else { return nil }
        // Only what this rasdaemon records: the events it enabled in its instance (Debian's 0.6.8,
        // for one, is built without memory_failure_event).
        let queries = events.sorted().map { event -> String in
            let table = tables[event]!
            let enable = "\(instance)/events/\(event.split(separator: ":").joined(separator: "/"))/enable"
            return
                "[ \"$(cat \(enable) 2>/dev/null)\" = 1 ] && echo \"max \(table) $(\(query("select coalesce(max(id), 0) from \(table)")) 2>/dev/null)\""
        }
        let script =
            ([
                "pidof rasdaemon >/dev/null || exit 0",
                "echo \"buffer_percent $(cat \(instance)/buffer_percent 2>/dev/null)\"",
            ] + queries)
            .joined(separator: "; ")
        guard let output = try? await target.shell(script), output.contains("buffer_percent") else { return nil }
        var armed = Armed(tables: tables, baselines: [:], bufferPercent: nil)
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "buffer_percent", words.count == 2 { armed.bufferPercent = Int(words[1]) }
            if words.first == "max", words.count == 3, let id = Int(words[2]) { armed.baselines[words[1]] = id }
            // A table that does not exist yet (rasdaemon creates it) starts from nothing.
            if words.first == "max", words.count == 2 { armed.baselines[words[1]] = 0 }
        }
        return armed
    }

    /// Rows added to each table since `armed` (a campaign step's count).
    static func rowsAdded(since armed: Armed, target: InjectionTarget) async -> [String: Int] {
        let script = armed.baselines.keys.sorted().map { table in
            "echo \"rows \(table) $(\(query("select count(*) from \(table) where id > \(armed.baselines[table] ?? 0)")) 2>/dev/null)\""
        }.joined(separator: "; ")
        var rows: [String: Int] = [:]
        for line in ((try? await target.shell(script)) ?? "").split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.count == 3, words[0] == "rows", let count = Int(words[2]) { rows[words[1]] = count }
        }
        return rows
    }

    /// Waits up to `timeoutSeconds` for a new row in the table of each expected event the kernel
    /// was seen to emit (`kernel` holds the kernel's findings, in the plan's order); latencies
    /// count from `since` (the injection's end, on the monotonic clock).
    static func collect(
        _ plan: InjectionPlan, kernel: [Verifier.Finding], armed: Armed, target: InjectionTarget,
        timeoutSeconds: Double, since: UInt64
    ) async -> [Verifier.Finding] {
        var pending: [(table: String, index: Int)] = []
        for (index, expectation) in plan.expectations.enumerated()
        where expectation.kind == .traceEvent && index < kernel.count && kernel[index].matched {
            if let table = expectation.source.flatMap({ armed.tables[$0] }), armed.baselines[table] != nil,
                !pending.contains(where: { $0.table == table })
            {
                pending.append((table, index))
            }
        }
        var findings = pending.map {
            Verifier.Finding(
                kind: .consumer, expected: "rasdaemon \($0.table) row", matched: false, consumer: "rasdaemon")
        }
        guard !findings.isEmpty else { return [] }
        let started = HostClock.monotonicNanoseconds()
        while true {
            let elapsed = Int((HostClock.monotonicNanoseconds() - started) / 1_000_000)
            let open = pending.indices.filter { !findings[$0].matched }
            let script = open.map { position -> String in
                let table = pending[position].table
                return
                    "echo \"row \(table) $(\(query("select * from \(table) where id > \(armed.baselines[table] ?? 0) order by id limit 1", options: "-separator ' | '")) 2>/dev/null)\""
            }.joined(separator: "; ")
            let output = (try? await target.shell(script)) ?? ""
            for line in output.split(separator: "\n") {
                let words = line.split(separator: " ", maxSplits: 2).map(String.init)
                guard words.count == 3, words[0] == "row",
                    let position = pending.firstIndex(where: { $0.table == words[1] })
                else { continue }
                findings[position].matched = true
                findings[position].latencyMilliseconds = Int((HostClock.monotonicNanoseconds() - since) / 1_000_000)
                findings[position].evidence = PrintableText.escaped(words[2], limit: 400)
            }
            if findings.allSatisfy(\.matched) || Double(elapsed) / 1000 >= timeoutSeconds { break }
            usleep(250_000)
        }
        let log =
            findings.allSatisfy(\.matched) ? "" : (try? await target.shell("\(logCommand) | tail -n 400")) ?? ""
        for index in findings.indices where !findings[index].matched {
            let expectation = plan.expectations[pending[index].index]
            if let reason = missingReason(
                log: log, event: expectation.source.map { String($0.split(separator: ":").last ?? "") } ?? "",
                table: pending[index].table)
            {
                findings[index].evidence = "the kernel emitted it, but " + reason
            } else if let percent = armed.bufferPercent, percent > 0 {
                findings[index].evidence =
                    "the kernel emitted it, but rasdaemon's trace instance has buffer_percent \(percent): rasdaemon is woken only when its buffer is \(percent)% full; "
                    + "echo 0 > \(instance)/buffer_percent, then restart rasdaemon (in the lab: inject lab rasdaemon stop; inject lab rasdaemon start)"
            } else {
                findings[index].evidence =
                    "the kernel emitted it, but rasdaemon's database has no new row after \(Int(timeoutSeconds)) s"
            }
        }
        return findings
    }

    /// Why rasdaemon has no row of `event` in `table`, when its log says: it could not parse the
    /// kernel's format of the event (an older rasdaemon than the kernel's trace fields: bookworm's
    /// 0.8.1 cannot read 7.3's cxl_general_media and cxl_dram), or its insert found the database
    /// locked by a reader (rasdaemon sets no busy timeout).
    static func missingReason(log: String, event: String, table: String) -> String? {
        let lines = log.split(separator: "\n")
        if !event.isEmpty, lines.contains(where: { $0.contains(" \(event) [FAILED TO PARSE]") }) {
            return "rasdaemon could not parse this kernel's \(event) event (its log: \"\(event) [FAILED TO PARSE]\"): "
                + "its version predates the kernel's trace fields; a newer rasdaemon reads them"
        }
        if lines.contains(where: { $0.contains("Failed to do \(table) step on sqlite: error = 5") }) {
            return "rasdaemon's insert into \(table) found its database locked by a reader (SQLITE_BUSY: "
                + "it sets no busy timeout), and the row was lost"
        }
        return nil
    }
}

/// `inject watch --consumer rasdaemon`: the rows rasdaemon writes, as they appear, beside the
/// kernel's events.
public struct ConsumerWatcher: ConsumerFeed {
    let target: InjectionTarget
    private var last: [String: Int] = [:]

    /// Starts at the rows already in rasdaemon's database.
    ///
    /// - Throws: ``TargetError/guest(name:reason:)``-style failures of the target's shell, or a
    ///   ``TargetError/tool(argv:reason:hint:)`` when rasdaemon does not run there.
    ///
    /// - Parameter tables: the consumer's tables to watch (the backends' ``BackendInfo/consumerTables``).
    public init(target: InjectionTarget, tables: [String]) async throws(TargetError) {
        self.target = target
        defer { target.guest?.release() }
        let tables = Set(tables).sorted()
        let script =
            ["pidof rasdaemon >/dev/null || { echo 'no rasdaemon'; exit 0; }"]
            + tables.map {
                "echo \"max \($0) $(\(RasdaemonConsumer.query("select coalesce(max(id), 0) from \($0)")) 2>/dev/null)\""
            }
        let output = try await target.shell(script.joined(separator: "; "))
        guard !output.contains("no rasdaemon") else {
            throw .tool(
                argv: ["rasdaemon"], reason: "rasdaemon does not run on \(target.summary)",
                hint: target.guest != nil ? "inject lab rasdaemon start" : "systemctl start rasdaemon (or rasdaemon -r)"
            )
        }
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "max", words.count >= 2 { last[words[1]] = words.count == 3 ? Int(words[2]) ?? 0 : 0 }
        }
    }

    /// Rows written since the last call, one event each (`rasdaemon:TABLE`, the row's columns as fields).
    public mutating func poll() async -> [EventWatcher.Event] {
        defer { target.guest?.release() }
        let tables = last.keys.sorted()
        let script = tables.map { table in
            "echo \"rows \(table)\"; \(RasdaemonConsumer.query("select * from \(table) where id > \(last[table] ?? 0) order by id", options: "-json")) 2>/dev/null; echo"
        }.joined(separator: "; ")
        guard let output = try? await target.shell(script) else { return [] }
        var events: [EventWatcher.Event] = []
        var table: String?
        var json = ""
        func flush() {
            guard let table, let rows = try? JSONDecoder().decode([[String: JSONValue]].self, from: Data(json.utf8))
            else { return }
            for row in rows {
                var fields: [String: String] = [:]
                for (key, value) in row {
                    switch value {
                    case .string(let text): fields[key] = PrintableText.escaped(text, limit: 200)
                    case .number(let number):
                        fields[key] = NumberText.decimal(number)
                    case .null: continue
                    default: fields[key] = PrintableText.escaped(value.description, limit: 200)
                    }
                }
                if let id = fields["id"].flatMap({ Int($0) }) { last[table] = max(last[table] ?? 0, id) }
                let text = fields.filter { !$0.value.isEmpty && $0.key != "id" }.sorted { $0.key < $1.key }.map {
                    "\($0.key)=\($0.value)"
                }.joined(separator: " ")
                events.append(
                    EventWatcher.Event(
                        timestamp: 0, event: "rasdaemon:\(table)", fields: fields, decoded: [:], decodedBy: nil,
                        text: text))
            }
        }
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("rows ") {
                flush()
                table = String(line.dropFirst(5))
                json = ""
            } else {
                json += line + "\n"
            }
        }
        flush()
        return events
    }
}
