import ArgumentParser
import InjectHost

/// `inject journal`: read and filter the journal of injections.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show the journal of injections (intents and outcomes), filtered.",
        discussion:
            "An intent without an outcome is a run that never finished: the process or the machine died after the intent was on disk."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only this backend.")
    var backend: String?

    @Option(
        help: ArgumentHelp(
            "Only records at or after this UTC time (a prefix such as 2026-11-25 or 2026-11-25T10:30).",
            valueName: "time"))
    var since: String?

    @Option(
        help: ArgumentHelp(
            "Only runs with this outcome: ok, failed, unverified, panicked (an undeclared kernel panic), or unfinished.",
            valueName: "outcome"))
    var outcome: String?

    @Option(help: ArgumentHelp("Only the last N runs.", valueName: "n"))
    var last: Int?

    func validate() throws {
        let known = JournalRecord.Result.allCases.map(\.rawValue) + ["unfinished"]
        if let outcome, !known.contains(outcome) {
            throw ValidationError("--outcome '\(outcome)' is not one of \(known.joined(separator: ", "))")
        }
        if let last, last < 1 { throw ValidationError("--last \(last) must be at least 1") }
    }

    /// One run: its intent and outcome.
    struct Run: Encodable {
        var intent: JournalRecord
        var outcome: JournalRecord?
    }

    func run() throws {
        let session = try global.session()
        guard let path = global.journalPath(session) else {
            Output.error("journaling is off (--no-journal or INJECT_JOURNAL=off): nothing to read")
            throw ExitCode(ExitCodes.usage)
        }
        let contents = try global.report { () throws(InjectError) in
            do throws(JournalError) { return try Journal.read(path) } catch { throw .journal(error) }
        }
        let records = contents.records
        if !contents.brokenLines.isEmpty {
            let lines =
                contents.brokenLines.prefix(10).map(String.init).joined(separator: ", ")
                + (contents.brokenLines.count > 10 ? ", ..." : "")
            Output.progress(
                "warning: \(path): line(s) \(lines) are not journal records (cut short by a crash or a full disk, or edited); every other record is shown"
            )
        }
        var outcomes: [String: JournalRecord] = [:]
        for record in records where record.kind == .outcome { outcomes[record.id] = record }
        var runs = records.filter { $0.kind == .intent }.map { Run(intent: $0, outcome: outcomes[$0.id]) }
        if let backend { runs = runs.filter { $0.intent.backend == backend } }
        if let since { runs = runs.filter { $0.intent.time >= since } }
        if let outcome { runs = runs.filter { ($0.outcome?.outcome?.rawValue ?? "unfinished") == outcome } }
        if let last { runs = Array(runs.suffix(last)) }
        if global.json {
            Output.json(runs)
            return
        }
        var rows = [["TIME", "USER", "TARGET", "BACKEND", "OUTCOME", "PARAMETERS"]]
        for run in runs {
            let outcome =
                run.outcome.map { record in
                    [
                        record.outcome?.rawValue ?? "?", record.verified.map { "(\($0))" }, record.error,
                        record.panic.map { "[\($0)" + (record.restarted == true ? "; restarted]" : "]") },
                    ].compactMap { $0 }.joined(separator: " ")
                } ?? "unfinished"
            // Records are text anyone who could write the journal chose: shown with control
            // characters escaped, never as terminal escape sequences.
            rows.append(
                [
                    run.intent.time, run.intent.user, run.intent.target, run.intent.backend, outcome,
                    run.intent.parameters.joined(separator: " "),
                ].map { PrintableText.escaped($0, limit: 4096) })
        }
        Output.line(Output.table(rows, indent: ""))
        Output.line("\(runs.count) run(s) in \(path)")
    }
}
