import InjectHost

/// The one place where files from the host reach a lab's guest: a directory in the guest's own
/// tmpfs (`/run/inject/exchange`) that `inject lab exec --copy` fills through the agent. No host
/// directory is shared with the guest; a file gets there only as a copy the user asked for.
public enum LabExchange {
    /// The guest's exchange directory; `lab exec` runs its commands here.
    public static let guestDirectory = "/run/inject/exchange"
    /// The largest file copied in: the guest's state lives in its RAM (a tmpfs overlay).
    public static let maximumBytes = 64 << 20

    /// A host file checked for copying: its bytes and the name and mode it gets in the guest.
    public struct File: Sendable, Equatable {
        /// The name in ``guestDirectory`` (the host file's last component).
        public let name: String
        /// The permission bits it gets (the host file's, without set-id and sticky bits).
        public let mode: UInt16
        /// Its contents.
        public let bytes: [UInt8]

        /// Where it lands in the guest.
        public var guestPath: String { LabExchange.guestDirectory + "/" + name }

        /// Reads `path` (a regular file of at most ``maximumBytes``) or says why it cannot be copied.
        public init(reading path: FilePath) throws(LabError) {
            guard let component = path.lastComponent?.string, component != "..", component != "." else {
                throw .io(
                    path: path.string, reason: "name a file to copy into the guest (a path ending in a file name)")
            }
            var status = stat()
            guard stat(path.string, &status) == 0 else {
                throw .io(path: path.string, reason: "cannot copy it into the guest: \(Errno(rawValue: errno))")
            }
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw .io(path: path.string, reason: "only regular files are copied into the guest (this is not one)")
            }
            guard status.st_size <= Self.maximumBytesAsOffset else {
                throw .io(
                    path: path.string,
                    reason:
                        "\(status.st_size) bytes is more than the \(LabExchange.maximumBytes >> 20) MiB a file copied into the guest may have (its RAM holds it); copy a smaller file or build it in the guest"
                )
            }
            let contents: [UInt8]?
            do {
                contents = try FileIO.readWholeFile(path)
            } catch {
                throw .io(path: path.string, reason: "cannot read it: \(error)")
            }
            guard let contents, contents.count <= LabExchange.maximumBytes else {
                throw .io(path: path.string, reason: "it changed while being read; copy it again")
            }
            name = component
            mode = UInt16(status.st_mode & 0o777)
            bytes = contents
        }

        private static let maximumBytesAsOffset = off_t(LabExchange.maximumBytes)
    }
}

extension Lab {
    /// Copies `files` into the guest's exchange directory (replacing files of the same name) and
    /// returns their guest paths. Two files of one name are refused before anything is copied.
    public func copyIn(_ files: [LabExchange.File]) throws(LabError) -> [String] {
        var seen = Set<String>()
        for file in files where !seen.insert(file.name).inserted {
            throw .io(
                path: file.name,
                reason: "two files to copy share the name \(file.name); they would land on one guest path")
        }
        let record = try running()
        let agent = try AgentClient.shared(paths)
        let stillAlive = { Self.isQEMU(record.pid, name: self.paths.name) ? nil : "QEMU exited" + self.consoleTail() }
        let prepared = try agent.run("mkdir -p \(LabExchange.guestDirectory)", stillAlive: stillAlive)
        guard prepared.status == 0 else {
            throw .agent("cannot make \(LabExchange.guestDirectory) in the guest: \(prepared.errorText)")
        }
        for file in files {
            let target = shellQuote(file.guestPath)
            let mode = String(file.mode, radix: 8)
            let created = try agent.run(
                "rm -f \(target) && : > \(target) && chmod \(mode) \(target)", stillAlive: stillAlive)
            guard created.status == 0 else {
                throw .agent("cannot create \(file.guestPath) in the guest: \(created.errorText)")
            }
            // Long enough for the channel as measured (20 MB in about 8 s under TCG) and then some.
            let seconds = 30 + file.bytes.count / 1_000_000
            let written = try agent.request(
                .write, Array(file.guestPath.utf8), file.bytes, timeoutSeconds: seconds, stillAlive: stillAlive)
            guard written.status == 0 else {
                throw .agent("cannot write \(file.guestPath) in the guest: \(written.errorText)")
            }
        }
        return files.map(\.guestPath)
    }
}
