import InjectHost

/// `lab up`'s use of ``LabSnapshot``: restoring a configuration's ready state instead of booting,
/// and saving it after a cold boot.
extension Lab {
    /// The snapshot (and its configuration text) for the machine `argv` boots with `options`.
    func snapshot(for argv: [String], _ options: Options, _ assets: Assets) async throws(LabError) -> (
        LabSnapshot, String
    ) {
        let configuration = try await LabSnapshot.configuration(
            argv: argv, paths: paths,
            extra: [
                "format \(LabSnapshot.format)", "qemu \(assets.qemu.version)",
                "einj types \(hexNumber(options.offeredEINJTypes))",
                "consumers rasdaemon=\(options.rasdaemon) node_exporter=\(options.nodeExporter)",
                "host inject \(LabFileSystem.identity(FilePath(options.agentExecutable)))",
            ])
        return (
            LabSnapshot(cache: LabPaths.cacheBase(environment), key: LabCacheKey.digest(configuration)), configuration
        )
    }

    /// Starts the lab from its configuration's snapshot, when there is one (and `options` do not
    /// ask for a cold boot): its record. `nil` when the lab must boot; a snapshot that fails to
    /// restore is removed (it would fail again) and the lab boots.
    func restoreReadyState(_ options: Options, _ assets: Assets, started: UInt64, progress: (String) -> Void)
        async throws(LabError) -> LabRecord?
    {
        guard !options.cold, LabDevices.snapshotRefusal(options.devices) == nil,
            let dsdt = try? FileIO.readWholeFile(sciPathDSDTFile(options, assets))
        else { return nil }
        let argv = try prepareBoot(options, assets, dsdt: dsdt)
        let (snapshot, _) = try await self.snapshot(for: argv, options, assets)
        guard let metadata = snapshot.metadata else { return nil }
        progress("restoring \(assets.kernel.release)'s ready state from \(snapshot.directory)")
        do throws(LabError) {
            let restoring = HostClock.monotonicNanoseconds()
            let pid = try await restoreSnapshot(
                snapshot, argv: argv, einjTypes: options.offeredEINJTypes, timeoutSeconds: options.bootTimeoutSeconds)
            var record = self.record(options, assets, pid: pid, started: started)
            record.restoreSeconds = Double(HostClock.monotonicNanoseconds() - restoring) / 1e9
            record.deviceStatus = metadata.deviceStatus
            record.snapshot = snapshot.directory.string
            record.restored = true
            try record.save(paths.record)
            record.firmwarePid = try startFirmware(executable: options.agentExecutable)
            record.consumers = try LabConsumers.describe(self)
            try record.save(paths.record)
            return record
        } catch {
            progress("the snapshot did not restore (\(error)); removed, booting instead")
            try discardFailedRestore(of: snapshot)
            try LabFileSystem.remove(paths.record)
            return nil
        }
    }

    /// After `snapshot` failed to restore: QEMU stopped, the snapshot removed (it would fail
    /// again) and the guest RAM emptied, so that the boot that follows starts clean.
    func discardFailedRestore(of snapshot: LabSnapshot) throws(LabError) {
        stopQEMU()
        AgentClient.disconnect(paths)
        try? LabFileSystem.removeTree(snapshot.directory)
        try LabFileSystem.allocate(paths.guestMemory, size: 0)
    }

    /// Saves the ready state of the lab just booted (agent answering, modules loaded, consumers
    /// started) as its configuration's snapshot, and notes it in `record`. Only a lab with the SCI
    /// path's cached DSDT is saved (that is the machine a later `lab up` restores); a failure
    /// leaves the lab running without one and says why.
    func saveReadyState(_ options: Options, _ assets: Assets, record: inout LabRecord, progress: (String) -> Void)
        async
    {
        guard access(sciPathDSDTFile(options, assets).string, R_OK) == 0 else { return }
        if let refusal = LabDevices.snapshotRefusal(options.devices) {
            progress("no snapshot of this lab (it boots every time): \(refusal)")
            return
        }
        do throws(LabError) {
            let argv = String(decoding: try LabFileSystem.read(paths.qemuArguments), as: UTF8.self)
                .split(separator: "\u{0}").map(String.init)
            let (snapshot, configuration) = try await self.snapshot(for: argv, options, assets)
            try LabFileSystem.makeDirectories(snapshot.directory.removingLastComponent())
            record.snapshotSaveSeconds = try saveSnapshot(
                snapshot, configuration: configuration, deviceStatus: record.deviceStatus ?? [])
            record.snapshot = snapshot.directory.string
            record.restored = false
            try record.save(paths.record)
        } catch {
            progress("no snapshot of this lab (the next lab up boots again): \(error)")
        }
    }
}
