#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The append-only journal: JSON lines, each written with one `write` of the complete line and
/// flushed with `fsync`, so that after a crash or a kernel panic the last intent is on disk. A
/// write that does not go through whole (a full disk) is cut back off, so the file only ever
/// holds complete records; writers take turns with a lock on the file.
public final class Journal {
    /// The journal file.
    public let path: String
    private let fd: FileDescriptor

    /// Opens (creating it and its directory) the journal at `path`.
    ///
    /// - Throws: ``JournalError/open(path:reason:)``.
    public init(path: String) throws(JournalError) {
        self.path = path
        guard !path.isEmpty else { throw .open(path: "''", reason: "the path is empty") }
        do {
            try FileIO.makeDirectories(
                FilePath(path).removingLastComponent(), mode: [.ownerReadWriteExecute, .groupRead, .groupExecute])
        } catch {
            throw .open(path: path, reason: "its directory cannot be made: \(error)")
        }
        do {
            // Read-write, so that an append can look at the last byte on the same descriptor.
            fd = try FileDescriptor.open(
                FilePath(path), .readWrite, options: [.append, .create, .closeOnExec, .noFollow, .nonBlocking],
                permissions: [.ownerReadWrite, .groupRead])
        } catch Errno.tooManySymbolicLinkLevels {
            throw .open(path: path, reason: "it is a symbolic link; a journal is written only to a file itself")
        } catch let error as Errno {
            throw .open(path: path, reason: "\(error)")
        } catch {
            throw .open(path: path, reason: "\(error)")
        }
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            try? fd.close()
            throw .open(path: path, reason: "not a regular file")
        }
        guard info.st_uid == geteuid() || info.st_uid == 0 else {
            try? fd.close()
            throw .open(path: path, reason: "it is owned by uid \(info.st_uid), not by you (uid \(geteuid())) or root")
        }
    }

    deinit { try? fd.close() }

    /// The default journal: `/var/log/inject/journal.jsonl` for root, else
    /// `$XDG_STATE_HOME/inject/journal.jsonl` (`~/.local/state/inject/journal.jsonl`).
    public static func defaultPath(environment: [String: String]) -> String {
        if geteuid() == 0 { return "/var/log/inject/journal.jsonl" }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/inject/journal.jsonl" }
        return (environment["HOME"] ?? "/tmp") + "/.local/state/inject/journal.jsonl"
    }

    /// Prepares the `failed` outcome of `intent` that ``PluginGuard`` appends if plugin code ends
    /// the process before the real outcome is written (it adds the cause to the error text).
    func armOutcome(of intent: JournalRecord) {
        var outcome = intent.outcome(.failed)
        let marker = "\u{1}CAUSE\u{1}"
        outcome.error = marker
        guard let data = Self.encode(outcome) else { return }
        let bytes = Array(data)
        let escapedMarker = Array("\\u0001CAUSE\\u0001".utf8)
        guard let start = bytes.firstRange(of: escapedMarker) else { return }
        PluginGuard.setPendingOutcome(
            fd: fd.rawValue, prefix: Array(bytes[..<start.lowerBound]), suffix: Array(bytes[start.upperBound...]) + [10]
        )
    }

    /// One record as it is written: compact JSON, keys sorted, slashes as they are.
    private static func encode(_ record: JournalRecord) -> Data? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(record)
    }

    /// Forgets the prepared outcome (the real one is written).
    func disarmOutcome() { PluginGuard.clearPendingOutcome() }

    /// Appends `record` as one complete line and waits until it is on disk; on failure the file
    /// is cut back to what it held before.
    ///
    /// - Returns: `nil`, or the reason the record could not be written.
    @discardableResult
    public func append(_ record: JournalRecord) -> String? { append(contentsOf: [record]) }

    /// Appends `records` (a campaign batch's intents, or their outcomes) as complete lines in one
    /// write and waits once until they are on disk; on failure none of them stays.
    ///
    /// - Returns: `nil`, or the reason the records could not be written.
    @discardableResult
    public func append(contentsOf records: [JournalRecord]) -> String? {
        var lines: [UInt8] = []
        for record in records {
            guard let data = Self.encode(record) else { return "the record cannot be encoded" }
            lines += Array(data) + [10]
        }
        guard !lines.isEmpty else { return nil }
        guard flock(fd.rawValue, LOCK_EX) == 0 else { return "cannot lock: \(Errno(rawValue: errno))" }
        defer { flock(fd.rawValue, LOCK_UN) }
        let size = lseek(fd.rawValue, 0, SEEK_END)
        guard size >= 0 else { return "\(Errno(rawValue: errno))" }
        // A line cut short by an earlier crash is ended first, so that these records stand alone.
        var line = lines
        if size > 0 {
            var last: UInt8 = 10
            _ = pread(fd.rawValue, &last, 1, size - 1)
            if last != 10 { line.insert(10, at: 0) }
        }
        let written = line.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
        let failure = written < 0 ? Errno(rawValue: errno) : nil
        guard written == line.count else {
            _ = ftruncate(fd.rawValue, size)
            return failure.map { "\($0)" }
                ?? "only \(max(written, 0)) of \(line.count) bytes could be written (is the disk full?)"
        }
        guard fsync(fd.rawValue) == 0 else {
            let error = Errno(rawValue: errno)
            _ = ftruncate(fd.rawValue, size)
            return "fsync: \(error)"
        }
        return nil
    }

    /// What a journal file holds: every complete record, and the lines that are not records.
    public struct Contents: Sendable {
        public var records: [JournalRecord]
        /// 1-based line numbers of lines that are not records (cut by a crash, or edited).
        public var brokenLines: [Int]
    }

    /// Every record of the journal at `path`, and the line numbers of lines that are not records.
    public static func read(_ path: String) throws(JournalError) -> Contents {
        let bytes: [UInt8]
        do {
            // Regular files only (a FIFO is refused, not waited on); a journal may be large.
            guard let read = try UserFile.read(path, limit: Int.max) else {
                throw JournalError.read(path: path, reason: "it does not exist: no injection was journaled yet")
            }
            bytes = read
        } catch let error as JournalError {
            throw error
        } catch {
            throw .read(path: path, reason: "\(error)")
        }
        let decoder = JSONDecoder()
        var contents = Contents(records: [], brokenLines: [])
        for (index, line) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            if let record = try? decoder.decode(JournalRecord.self, from: Data(line)) {
                contents.records.append(record)
            } else {
                contents.brokenLines.append(index + 1)
            }
        }
        return contents
    }

    /// The current time as ISO 8601 UTC with milliseconds.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = String(spec.tv_nsec / 1_000_000)
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }

    /// The invoking user's name (or uid).
    public static func user() -> String {
        let uid = getuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(uid)"
    }
}
