/// What steps perform against: the target, its files, the QMP connection held across steps, and
/// during a repeat the attribute files held open. One performer serves one plan's execution.
public struct StepPerformer {
    /// The target.
    public let target: InjectionTarget
    /// The target's attribute files.
    public let files: any TargetFiles
    private var qmp: QMPClient?
    /// Whether writes keep their files open (inside a repeat step).
    var holdFiles = false
    /// Files held open, and the ones that refused it (written the ordinary way).
    private(set) var held: [TargetPath: HeldAttribute] = [:]
    private var unholdable: Set<TargetPath> = []

    init(target: InjectionTarget, files: any TargetFiles) {
        self.target = target
        self.files = files
    }

    /// The session's QMP connection, opened on first use.
    ///
    /// - Throws: ``TargetError/noQMP(command:)`` when the target has no monitor.
    mutating func monitor(for command: String) throws(TargetError) -> QMPClient {
        if let qmp { return qmp }
        guard let socket = target.qmpSocket else { throw .noQMP(command: command) }
        let client = try QMPClient(socketPath: socket)
        qmp = client
        return client
    }

    /// The target's firmware memory file.
    ///
    /// - Throws: ``TargetError/noFirmwareMemory`` when the target has none.
    func firmwareMemory() throws(TargetError) -> FilePath {
        guard let memory = target.guestMemory else { throw .noFirmwareMemory }
        return memory
    }

    /// Writes `value` to `path`: through a held file where it can (inside a repeat), else by
    /// opening the file as usual.
    mutating func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError) {
        if holdFiles && !unholdable.contains(path) {
            if held[path] == nil {
                if let file = try files.hold(path, hint: hint) { held[path] = file } else { unholdable.insert(path) }
            }
            if let file = held[path] {
                if try file.write(value) { return }
                held[path] = nil
                unholdable.insert(path)
            }
        }
        try files.write(value, to: path, hint: hint)
    }

    /// Closes the held files.
    mutating func releaseFiles() {
        held.removeAll()
        unholdable.removeAll()
        holdFiles = false
    }
}
