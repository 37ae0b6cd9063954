import InjectHost

/// The consumers in a lab's guest (rasdaemon, prometheus-node-exporter, and sqlite3, which
/// ras-mc-ctl reads rasdaemon's database with): starting those `lab up --with` names, and a line
/// each for `lab status` with the guest package's version and whether it runs.
enum LabConsumers {
    /// The guest's packages of the consumers, as `lab status` names them.
    static let packages = ["rasdaemon", "prometheus-node-exporter", "sqlite3"]

    /// A consumer `lab up --with` can start.
    enum Consumer: String, CaseIterable {
        case rasdaemon
        case nodeExporter = "node_exporter"
    }

    /// The consumers `options` ask for.
    static func requested(_ options: Lab.Options) -> [Consumer] {
        (options.rasdaemon ? [.rasdaemon] : []) + (options.nodeExporter ? [.nodeExporter] : [])
    }

    /// Starts `consumers`, telling `progress` how each runs.
    static func start(_ consumers: [Consumer], in lab: Lab, progress: (String) -> Void) throws(LabError) {
        for consumer in consumers {
            switch consumer {
            case .rasdaemon:
                let daemon = try LabRasdaemon(lab).start()
                progress("rasdaemon: recording (pid \(daemon.pid ?? 0), buffer_percent \(daemon.bufferPercent ?? -1))")
            case .nodeExporter:
                let exporter = try LabNodeExporter(lab).start()
                progress(
                    "prometheus-node-exporter: serving \(LabNodeExporter.address) in the guest (pid \(exporter.pid ?? 0), \(exporter.edacMetrics.count) EDAC metric lines)"
                )
            }
        }
    }

    /// One line per consumer package: its version in the guest, and its process when it runs.
    static func describe(_ lab: Lab) throws(LabError) -> [String] {
        let result = try lab.exec(
            """
            for p in \(packages.joined(separator: " ")); do
                echo "$p $(dpkg-query -W -f '${Version}' $p 2>/dev/null || echo -) $(pidof $p)"
            done
            """, timeoutSeconds: 15)
        return result.text.split(separator: "\n").map { line in
            let words = line.split(separator: " ").map(String.init)
            let name = words.first ?? "?"
            let version = words.count > 1 && words[1] != "-" ? words[1] : "not installed"
            let state =
                name == "sqlite3" ? "" : (words.count > 2 ? ", running, pid \(words[2])" : ", not running")
            return "\(name) \(version)\(state)"
        }
    }
}
