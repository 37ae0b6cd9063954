import InjectHost

/// Saving a running lab as a ``LabSnapshot`` and starting one from it.
extension Lab {
    /// Saves the running guest as `snapshot`: QMP `migrate-set-capabilities x-ignore-shared`,
    /// `stop`, `migrate` of the device state to a file, a copy of the guest RAM file's non-zero
    /// pages, then `cont`. Written beside the cache entry and renamed into place whole, so a lab
    /// never restores half a snapshot; the guest runs on whatever happens. Seconds the guest was
    /// stopped.
    @discardableResult
    func saveSnapshot(_ snapshot: LabSnapshot, configuration: String, deviceStatus: [String])
        throws(LabError) -> Double
    {
        let started = HostClock.monotonicNanoseconds()
        let partial = snapshot.directory.removingLastComponent().appending(".\(snapshot.key).\(getpid())")
        try LabFileSystem.removeTree(partial)
        try LabFileSystem.makeDirectories(partial)
        let staged = LabSnapshot(directory: partial, key: snapshot.key)
        let client: QMPClient
        do { client = try QMPClient(socketPath: paths.qmpSocket.string, timeoutSeconds: 30) } catch {
            throw .snapshot("cannot reach QEMU's monitor: \(error)")
        }
        do throws(LabError) {
            try migrate(client, "migrate", uri: "exec:cat > \(try Self.shellQuoted(staged.deviceState))")
            // QEMU's shell made it with QEMU's umask; the guest's memory is this user's alone.
            chmod(staged.deviceState.string, 0o600)
            try LabFileSystem.copyNonZeroPages(from: paths.guestMemory, to: staged.memory)
        } catch {
            _ = try? client.execute("cont")
            try? LabFileSystem.removeTree(partial)
            throw error
        }
        _ = try? client.execute("cont")
        let seconds = Double(HostClock.monotonicNanoseconds() - started) / 1e9
        let memoryBytes = Int64(LabFileSystem.size(paths.guestMemory) ?? 0)
        try LabFileSystem.writeJSON(
            LabSnapshot.Metadata(
                configuration: configuration, deviceStatus: deviceStatus, memoryBytes: memoryBytes,
                saveSeconds: seconds), to: staged.metadataFile)
        try? LabFileSystem.removeTree(snapshot.directory)  // an incomplete one of this key
        if Glibc.rename(partial.string, snapshot.directory.string) != 0 {
            try? LabFileSystem.removeTree(partial)  // another lab saved it first: theirs is as good
        }
        LabFileSystem.keepMostRecentlyUsed(LabSnapshot.kept, in: snapshot.directory.removingLastComponent())
        return seconds
    }

    /// Starts QEMU with `argv` from `snapshot` instead of booting: the guest RAM file filled from
    /// the snapshot's, QEMU started with `-incoming defer`, the device state migrated in, the guest
    /// run on, the firmware window written afresh, the agent waited for and the guest's clock set
    /// to the host's (it stopped when the snapshot was saved). QEMU's pid.
    func restoreSnapshot(_ snapshot: LabSnapshot, argv: [String], einjTypes: UInt32, timeoutSeconds: Int)
        async throws(LabError) -> Int32
    {
        snapshot.markUsed()
        try LabFileSystem.copyNonZeroPages(from: snapshot.memory, to: paths.guestMemory)
        let pid = try await startQEMU(argv + ["-incoming", "defer"])
        do {
            let client = try QMPClient(socketPath: paths.qmpSocket.string, timeoutSeconds: 30)
            try migrate(client, "migrate-incoming", uri: "exec:cat \(try Self.shellQuoted(snapshot.deviceState))")
            if client.runStateIsNot("running") { try client.execute("cont") }
        } catch let error as LabError {
            throw error
        } catch {
            throw .snapshot("\(error)")
        }
        try writeFirmware(.lab, einjTypes: einjTypes)
        try waitForAgent(pid: pid, timeoutSeconds: timeoutSeconds)
        let now = HostClock.realtimeNanoseconds()
        let nanoseconds = String(now % 1_000_000_000)
        let set = try AgentClient.shared(paths).run(
            "date -s @\(now / 1_000_000_000).\(String(repeating: "0", count: 9 - nanoseconds.count))\(nanoseconds) > /dev/null",
            timeoutSeconds: 10)
        guard set.status == 0 else {
            throw .snapshot("setting the guest's clock: \(String(decoding: set.errorOutput, as: UTF8.self))")
        }
        return pid
    }

    /// Enables `x-ignore-shared` (guest RAM is the shared file, copied apart), runs `command`
    /// (`migrate`, after `stop`, or `migrate-incoming`) to `uri`, and waits until QEMU says the
    /// migration completed.
    private func migrate(_ client: QMPClient, _ command: String, uri: String) throws(LabError) {
        do {
            try client.execute(
                "migrate-set-capabilities",
                arguments: .object([
                    "capabilities": .array([.object(["capability": .string("x-ignore-shared"), "state": .bool(true)])])
                ]))
            if command == "migrate" { try client.execute("stop") }
            try client.execute(command, arguments: .object(["uri": .string(uri)]))
            let deadline = HostClock.monotonicNanoseconds() + 60_000_000_000
            while true {
                let status = try client.execute("query-migrate")
                switch status["status"]?.stringValue {
                case "completed": return
                case "failed", "cancelled":
                    throw LabError.snapshot(
                        "QEMU's \(command) \(status["status"]?.stringValue ?? ""): \(status["error-desc"]?.stringValue ?? "no reason given")"
                    )
                default:
                    guard HostClock.monotonicNanoseconds() < deadline else {
                        throw LabError.snapshot("QEMU's \(command) did not complete within 60 s")
                    }
                    usleep(5_000)
                }
            }
        } catch let error as LabError {
            throw error
        } catch {
            throw .snapshot("QEMU's \(command): \(error)")
        }
    }

    /// `path` in single quotes for the shell QEMU runs an `exec:` migration with.
    private static func shellQuoted(_ path: FilePath) throws(LabError) -> String {
        guard !path.string.contains("'") else {
            throw .snapshot("\(path) holds a single quote, which the snapshot's shell command cannot carry")
        }
        return "'\(path.string)'"
    }
}

extension QMPClient {
    /// Whether the run state is known and is not `state`.
    func runStateIsNot(_ state: String) -> Bool {
        guard let current = (try? execute("query-status"))?["status"]?.stringValue else { return false }
        return current != state
    }
}
