import InjectHost

/// prometheus-node-exporter, the metrics SREs scrape, running in a lab's guest: the guest's own
/// (from its Debian root, ``GuestRoot``), started the way Debian's unit starts it: as the
/// `prometheus` user, with the `ARGS` of `/etc/default/prometheus-node-exporter`, listening on
/// port 9100. The guest's loopback is brought up first (its init leaves `lo` down, and the exporter
/// then cannot be scraped from inside).
public struct LabNodeExporter: GuestDaemon {
    /// Where it listens in the guest.
    public static let address = NodeExporterConsumer.address
    /// Where its output goes in the guest.
    public static let log = "/var/log/prometheus-node-exporter.log"

    /// What `status` finds.
    public struct Status: GuestDaemonStatus, Encodable {
        /// Its process, when it runs.
        public var pid: Int?
        /// Its metric lines of the EDAC collector (`node_edac_*`), as last scraped.
        public var edacMetrics: [String]
    }

    public let lab: Lab

    /// The exporter of `lab`.
    public init(_ lab: Lab) { self.lab = lab }

    /// Its command.
    public static let package = "prometheus-node-exporter"

    /// Starts it as its unit does, once the loopback is up, and waits until it answers a scrape.
    public static var startScript: String {
        """
        busybox ip link set lo up
        ARGS=""
        [ -r /etc/default/prometheus-node-exporter ] && . /etc/default/prometheus-node-exporter
        (setsid setpriv --reuid=prometheus --regid=prometheus --init-groups prometheus-node-exporter $ARGS > \(log) 2>&1 &)
        for i in $(seq 1 40); do
            busybox wget -q -O /dev/null http://\(address)/metrics 2>/dev/null && exit 0
            sleep 0.25
        done
        echo "prometheus-node-exporter did not answer on \(address) within 10 s:" >&2; tail -5 \(log) >&2; exit 6
        """
    }

    /// Its process and its EDAC metrics.
    public func status() throws(LabError) -> Status {
        let result = try lab.exec(
            """
            echo "pid $(pidof prometheus-node-exporter)"
            \(NodeExporterConsumer.scrapeCommand)
            """, timeoutSeconds: 15)
        var status = Status(pid: nil, edacMetrics: [])
        for line in result.text.split(separator: "\n") {
            if line.hasPrefix("pid ") {
                status.pid = Int(line.dropFirst(4).split(separator: " ").first ?? "")
            } else {
                status.edacMetrics.append(String(line))
            }
        }
        return status
    }
}
