import ArgumentParser
import InjectHost

/// `inject watch`: RAS events as they happen, decoded, as text or JSON lines.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract:
            "Stream RAS events as the kernel records them (machine checks, memory failures, EDAC, CPER, hardware-error log lines).",
        discussion:
            "Events come from this process's own tracefs instance, so other users of tracing are not disturbed. --json prints one JSON object per line. Ctrl-C stops."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Stop after this many events.", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var timeout: Double?

    /// Consumers whose records can be shown beside the kernel's events.
    enum Consumer: String, ExpressibleByArgument, CaseIterable {
        case rasdaemon
        case nodeExporter = "node_exporter"
    }

    @Option(
        help: ArgumentHelp(
            "Also show what this consumer records, as it records it: rasdaemon's database rows, or node_exporter's EDAC metrics that change between scrapes.",
            valueName: "rasdaemon|node_exporter"))
    var consumer: Consumer?

    func run() async throws {
        let session = try global.session()
        var watcher = try global.report { () throws(InjectError) in
            let interest = EventWatcher.Interest(session.registry.backends)
            do throws(TargetError) {
                return try EventWatcher(target: session.options.target, processID: getpid(), interest: interest)
            } catch { throw .target(error) }
        }
        defer { watcher.stop() }
        var consumerWatcher: (any ConsumerFeed)?
        do throws(TargetError) {
            switch consumer {
            case .rasdaemon:
                consumerWatcher = try await ConsumerWatcher(
                    target: session.options.target,
                    tables: session.registry.backends.flatMap { $0.info.consumerTables.values })
            case .nodeExporter:
                consumerWatcher = try await NodeExporterWatcher(target: session.options.target)
            case nil:
                break
            }
        } catch {
            throw global.fail(.target(error))
        }
        InterruptRequest.install()
        defer { InterruptRequest.uninstall() }
        if !global.json { Output.progress("watching \(session.options.target.summary); Ctrl-C stops") }
        let started = HostClock.monotonicNanoseconds()
        var seen = 0
        while !InterruptRequest.isRequested {
            // The consumer first: a row it has recorded was already in the kernel's trace, so the
            // kernel's event is printed before the consumer's record of it.
            let recorded = await consumerWatcher?.poll() ?? []
            let events = watcher.poll().map { (event: $0, recorded: false) } + recorded.map { ($0, true) }
            for (event, isRecord) in events {
                if global.json {
                    Output.jsonLine(event)
                } else {
                    let decoded =
                        event.decoded.isEmpty
                        ? event.text
                        : event.decoded.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                            separator: " ") + "  | " + event.text
                    let name = event.event + String(repeating: " ", count: max(1, 22 - event.event.count))
                    Output.line(
                        (isRecord ? "[recorded]  " : "[\(event.timestamp)]  ")
                            + "\(name)\(decoded)")
                    fflush(nil)
                }
                seen += 1
                if let count, seen >= count { return }
            }
            if let timeout, Double(HostClock.monotonicNanoseconds() - started) / 1e9 >= timeout { break }
            usleep(200_000)
        }
    }
}
