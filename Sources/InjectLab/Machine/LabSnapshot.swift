import Foundation
import InjectHost

/// A lab's ready state, saved once per configuration after its first cold boot (the agent
/// answering, modules loaded, consumers started) and restored by later `lab up`s and panic restarts
/// instead of booting.
///
/// It is QEMU's device state (`migrate` to a file, with `x-ignore-shared`, so guest RAM is not in
/// the stream) beside a copy of the guest RAM file (zero pages left out). Its directory in the lab
/// cache is named by ``key``, a digest of everything that shapes the machine: the QEMU command line
/// (with the lab's own paths taken out, so labs of other names share it), the bytes of every file
/// it hands QEMU from the lab's state (initramfs, the package layer, tables), the kernel and root
/// images' identity, the QEMU version, the consumers started, and the host `inject` that built it.
/// Any change of those names another snapshot, so a stale one is never restored.
struct LabSnapshot {
    /// What a snapshot says of itself.
    struct Metadata: Codable, Sendable {
        /// The configuration text its key digests.
        var configuration: String
        /// The lab devices' lines for `lab status`, as the first boot left them.
        var deviceStatus: [String]
        /// The guest RAM's size in bytes.
        var memoryBytes: Int64
        /// Seconds the save took.
        var saveSeconds: Double
    }

    /// The layout of a snapshot's files and metadata; a change of it names other snapshots.
    static let format = 1

    /// Its directory.
    let directory: FilePath
    /// The digest naming it.
    let key: String

    /// The snapshot of key `key` in `cache`.
    init(cache: FilePath, key: String) {
        self.init(directory: cache.appending("snapshots").appending(key), key: key)
    }

    /// The snapshot in `directory`.
    init(directory: FilePath, key: String) {
        self.directory = directory
        self.key = key
    }

    /// QEMU's device state.
    var deviceState: FilePath { directory.appending("device-state") }
    /// The guest RAM.
    var memory: FilePath { directory.appending("memory") }
    /// ``Metadata``.
    var metadataFile: FilePath { directory.appending("snapshot.json") }

    /// Its metadata, when the snapshot is complete (it is renamed into place whole).
    var metadata: Metadata? {
        guard let bytes = try? FileIO.readWholeFile(metadataFile),
            let metadata = try? JSONDecoder().decode(Metadata.self, from: Data(bytes)),
            access(deviceState.string, R_OK) == 0, access(memory.string, R_OK) == 0
        else { return nil }
        return metadata
    }

    /// How many snapshots the cache keeps: each build of inject, kernel and device set names its own,
    /// so the least recently used beyond these are removed when one is saved.
    static let kept = 8

    /// Marks the snapshot used now (its directory's time), so that the cache keeps it
    /// (``LabFileSystem/keepMostRecentlyUsed(_:in:)``).
    func markUsed() {
        _ = utimensat(AT_FDCWD, directory.string, nil, 0)
    }

    /// The configuration text of the machine `argv` boots for `paths`' lab: the command line with
    /// the lab's own paths replaced, the SHA-256 of each file it names in the lab's state directory,
    /// and the identity (path, size, modification time) of every other file it names.
    static func configuration(argv: [String], paths: LabPaths, extra: [String]) async throws(LabError) -> String {
        let state = paths.stateDirectory.string
        let general = argv.map {
            $0.replacingOccurrences(of: state, with: "STATE").replacingOccurrences(
                of: paths.guestMemory.string, with: "RAM"
            )
            .replacingOccurrences(of: "inject-lab-\(paths.name),", with: "inject-lab-LAB,")
            .replacingOccurrences(of: "process=inject-lab-\(paths.name)", with: "process=inject-lab-LAB")
        }
        var stateFiles: [String] = []
        var otherFiles: [String] = []
        // Memory backends (guest RAM, device stores such as ERST's or CXL's) are the machine's
        // contents, not its shape: the guest writes them as it runs.
        let memories = Set(
            argv.flatMap { $0.split(separator: ",") }.filter { $0.hasPrefix("mem-path=") }.map {
                String($0.dropFirst("mem-path=".count))
            })
        for file in Set(argv.flatMap(Self.filesNamed)).sorted() where !memories.contains(file) {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if file == paths.pidFile.string {
                continue  // QEMU's, from a boot before (the SCI path's first one)
            } else if file.hasPrefix(state + "/") {
                stateFiles.append(file)
            } else if file != paths.guestMemory.string {
                otherFiles.append(LabFileSystem.identity(FilePath(file)))
            }
        }
        let digests: String
        do {
            digests = stateFiles.isEmpty ? "" : try await ToolRunner.run(["sha256sum", "--"] + stateFiles).output
        } catch {
            throw .io(path: state, reason: "cannot digest the lab's boot files: \(error)")
        }
        return
            ([general.joined(separator: " ")]
            + digests.split(separator: "\n").map { $0.replacingOccurrences(of: state, with: "STATE") }
            + otherFiles + extra).joined(separator: "\n")
    }

    /// The absolute paths an argument names: itself, or each `file=`/`path=`/`mem-path=` value.
    static func filesNamed(_ argument: String) -> [String] {
        if argument.hasPrefix("/") && !argument.contains(",") { return [argument] }
        return argument.split(separator: ",").compactMap { part in
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let value = part[part.index(after: equals)...]
            return value.hasPrefix("/") ? String(value) : nil
        }
    }
}
