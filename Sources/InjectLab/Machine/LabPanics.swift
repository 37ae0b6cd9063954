import InjectHost

/// Guest panics in a lab: noticing them (QEMU's pvpanic device pauses the guest, so its QMP status
/// says `guest-panicked`; a kernel without the driver reboots and `-no-reboot` ends QEMU), keeping
/// the console of the run that ended, and booting the same machine again.
extension Lab {
    /// The guest's QEMU run state (`running`, `paused`, `guest-panicked`, ...), or `nil` when the
    /// monitor does not answer.
    public func runState() -> String? { QMPClient.runState(socketPath: paths.qmpSocket.string) }

    /// The kernel panic the guest has stopped on, or `nil` while it runs (or when no lab was up).
    /// Asking lets a guest that pvpanic paused finish its panic, which ends QEMU: the caller is
    /// expected to ``restart(after:)`` it.
    public func panic() -> GuestPanic? {
        guard let record = LabRecord.load(paths.record) else { return nil }
        let noticedBy: String
        if Self.isQEMU(record.pid, name: paths.name) {
            guard runState() == "guest-panicked" else { return nil }
            noticedBy = "pvpanic: QEMU status guest-panicked"
            finishPanic(record.pid)
        } else {
            noticedBy = "QEMU exited"
        }
        let console = String(decoding: (try? FileIO.readWholeFile(paths.consoleLog)) ?? [], as: UTF8.self)
        if let panic = GuestPanic(console: console, noticedBy: noticedBy) { return panic }
        // QEMU gone without a panic on the console is a stopped lab, not a panic.
        guard noticedBy != "QEMU exited" else { return nil }
        return GuestPanic(
            message: "the guest panicked (no panic line on its console)", noticedBy: noticedBy,
            console: LabFileSystem.tail(paths.consoleLog, lines: 40))
    }

    /// Lets a paused, panicked guest go on: pvpanic stops it before the kernel flushes its console
    /// (a machine check's panic is printed from the exception, deferred), so the panic text is
    /// only on the console once the kernel has gone on to its reboot, which `-no-reboot` turns
    /// into QEMU's exit.
    private func finishPanic(_ pid: Int32) {
        if let client = try? QMPClient(socketPath: paths.qmpSocket.string, timeoutSeconds: 2) {
            _ = try? client.execute("cont")
        }
        _ = Self.waitForExit(pid, seconds: 5)
    }

    /// Why the guest cannot answer now (its kernel panicked, or QEMU is gone), for an agent that
    /// waits; `nil` while it runs.
    func stoppedReason() -> String? {
        guard let record = LabRecord.load(paths.record) else { return "the lab is not up" }
        if !Self.isQEMU(record.pid, name: paths.name) { return "QEMU exited" + consoleTail() }
        if runState() == "guest-panicked" { return "the guest's kernel panicked (the next injection restarts it)" }
        return nil
    }

    /// Restores the lab's snapshot (its ready state, ``LabSnapshot``) after `panic`, or, when it
    /// has none, boots the guest again, with the same QEMU command line (the same kernel,
    /// initramfs and tables) and a fresh firmware window either way, once the console of the run that ended
    /// is kept as `panic-N.log`; counts the panic and the restart in the lab's record. Labs
    /// restarted by two processes at once take turns, and the second finds the guest running.
    public func restart(after panic: GuestPanic?) async throws(LabError) -> LabRecord {
        try await LabFileSystem.withLock(paths.stateDirectory.appending("restart.lock")) {
            () throws(LabError) -> LabRecord in
            guard var record = LabRecord.load(paths.record) else { throw LabError.notRunning(name: paths.name) }
            if panic != nil, Self.isQEMU(record.pid, name: paths.name), runState() == "running" { return record }
            let argv = String(decoding: try LabFileSystem.read(paths.qemuArguments), as: UTF8.self)
                .split(separator: "\u{0}").map(String.init)
            guard !argv.isEmpty else {
                throw LabError.io(path: paths.qemuArguments.string, reason: "holds no QEMU command line")
            }
            if let panic {
                let number = (record.panics ?? 0) + 1
                let kept = paths.panicConsole(number)
                try LabFileSystem.write(
                    (try? LabFileSystem.read(paths.consoleLog)) ?? Array(panic.console.utf8), to: kept)
                record.panics = number
                record.lastPanic = panic.message
                record.lastPanicConsole = kept.string
            }
            stopFirmware()
            stopQEMU()
            let started = HostClock.monotonicNanoseconds()
            let einjTypes = record.einjTypes ?? EINJRegisters.defaultTypes
            // The lab's snapshot, when it has one, is its ready state: restored, not booted. A
            // snapshot that cannot be restored (evicted from the cache, damaged) leaves a boot.
            let keeps = LabDevices.machine(with: record.devices ?? []).contains(where: \.restartBoots)
            let snapshot = keeps ? nil : record.snapshot.map { LabSnapshot(directory: FilePath($0), key: "") }
            var metadata = snapshot?.metadata
            do throws(LabError) {
                if let snapshot, let found = metadata {
                    do throws(LabError) {
                        record.pid = try await restoreSnapshot(
                            snapshot, argv: argv, einjTypes: einjTypes, timeoutSeconds: 120)
                        record.deviceStatus = found.deviceStatus
                        record.restoreSeconds = Double(HostClock.monotonicNanoseconds() - started) / 1e9
                        record.lastRestoreFailure = nil
                    } catch {
                        try discardFailedRestore(of: snapshot)
                        record.lastRestoreFailure = error.description
                        record.snapshot = nil
                        metadata = nil
                    }
                }
                if metadata == nil {
                    record.pid = try await launch(argv, layout: .lab, einjTypes: einjTypes, bootTimeoutSeconds: 120)
                }
            } catch {
                // Half a lab is no lab: a QEMU whose guest never answered is stopped, and says why.
                stopQEMU()
                throw error
            }
            record.restored = metadata != nil
            record.bootSeconds = Double(HostClock.monotonicNanoseconds() - started) / 1e9
            record.restarts = (record.restarts ?? 0) + 1
            try record.save(paths.record)
            // The new guest's devices start as a booted platform's do (a CXL device's masks again).
            if metadata == nil { record.deviceStatus = try afterBoot(LabDevices.machine(with: record.devices ?? [])) }
            record.firmwarePid = try startFirmware(executable: record.agentExecutable ?? Lab.Options().agentExecutable)
            // A booted guest starts its consumers as `lab up` did; a restored one has them running.
            if metadata == nil {
                let consumers = (record.startedConsumers ?? []).compactMap(LabConsumers.Consumer.init(rawValue:))
                try LabConsumers.start(consumers, in: self) { _ in }
            }
            record.consumers = try? LabConsumers.describe(self)
            try record.save(paths.record)
            return record
        }
    }
}
