#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One line of the journal: an intent (written and flushed to disk before the trigger) or the
/// outcome that follows it, tied together by `id`.
public struct JournalRecord: Codable, Sendable, Equatable {
    /// `intent` or `outcome`.
    public var kind: String
    /// Pairs an intent with its outcome.
    public var id: String
    /// UTC, ISO 8601 with milliseconds.
    public var time: String
    public var user: String
    public var target: String
    public var backend: String
    /// Parameters that have a value, as `name=value`.
    public var parameters: [String]
    /// The steps, as `--dry-run` shows them (intent only).
    public var steps: [String]?
    /// `ok`, `failed` or `unverified` (outcome only).
    public var outcome: String?
    /// The error, when the run failed.
    public var error: String?
    /// Matched and expected events, with `--verify`.
    public var verified: String?

    /// Creates a record.
    public init(kind: String, id: String, time: String, user: String, target: String, backend: String, parameters: [String],
                steps: [String]? = nil, outcome: String? = nil, error: String? = nil, verified: String? = nil) {
        self.kind = kind
        self.id = id
        self.time = time
        self.user = user
        self.target = target
        self.backend = backend
        self.parameters = parameters
        self.steps = steps
        self.outcome = outcome
        self.error = error
        self.verified = verified
    }
}

/// The append-only journal: JSON lines, each written with one `write` and flushed with `fsync`, so
/// that after a crash or a kernel panic the last intent is on disk.
public final class Journal {
    /// The journal file.
    public let path: String
    private let fd: FileDescriptor

    /// Opens (creating it and its directory) the journal at `path`.
    public init(path: String) throws(TargetError) {
        self.path = path
        try AttributeFiles.makeDirectories(FilePath(path).removingLastComponent(), mode: [.ownerReadWriteExecute, .groupRead, .groupExecute],
                                           hint: "use --journal FILE or --no-journal")
        do {
            fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
                                         permissions: [.ownerReadWrite, .groupRead])
        } catch let error as Errno {
            throw AttributeFiles.map(error, path, "open", "use --journal FILE or --no-journal")
        } catch {
            throw .system(path: path, operation: "open", errno: .ioError, hint: nil)
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

    /// Appends `record` and waits until it is on disk.
    public func append(_ record: JournalRecord) throws(TargetError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record) else { return }
        do {
            _ = try fd.writeAll(Array(data) + [10])
            guard fsync(fd.rawValue) == 0 else { throw Errno(rawValue: errno) }
        } catch let error as Errno {
            throw AttributeFiles.map(error, path, "write", nil)
        } catch {
            throw .system(path: path, operation: "write", errno: .ioError, hint: nil)
        }
    }

    /// Every record of the journal at `path`; lines that are not records (a torn last line after a
    /// crash) are skipped.
    public static func read(_ path: String) throws(TargetError) -> [JournalRecord] {
        let bytes: [UInt8]
        do {
            guard let read = try AttributeFiles.readWholeFile(FilePath(path)) else { throw TargetError.notFound(path: path, hint: "no injection was journaled yet") }
            bytes = read
        } catch let error as TargetError {
            throw error
        } catch {
            throw .system(path: path, operation: "read", errno: .ioError, hint: nil)
        }
        let decoder = JSONDecoder()
        return bytes.split(separator: 10).compactMap { try? decoder.decode(JournalRecord.self, from: Data($0)) }
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
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }

    /// The invoking user's name (or uid).
    public static func user() -> String {
        let uid = getuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(uid)"
    }
}
