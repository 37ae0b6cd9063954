#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Injections made only of attribute writes, carried out together where the target's kernel is:
/// every file opened once and held for the batch (rewritten at offset 0, one system call per
/// write; a non-seekable file takes plain writes on its descriptor, and a file that cannot be held
/// is opened for each write), the writes of each injection in order, the injections paced by
/// `intervalMicroseconds` (a ``Pacer``: a ceiling, never caught up in a burst). A lab's agent runs
/// a batch inside the guest, at guest-native speed, so that a campaign crosses the agent once per
/// batch instead of once per write.
public struct WriteBatch: Sendable, Codable, Equatable {
    /// One write: an index into ``paths`` and the value.
    public struct Write: Sendable, Codable, Hashable {
        public var path: Int
        public var value: String
    }

    /// The files written, relative to the target's root.
    public var paths: [String]
    /// Each injection's writes, in order.
    public var injections: [[Write]]
    /// Time from the start of one injection to the start of the next (0: as fast as possible).
    public var intervalMicroseconds: UInt64

    /// What a batch did.
    public struct Outcome: Sendable, Codable, Equatable {
        /// Injections carried out whole.
        public var completed: Int
        /// Why the next one failed, naming its file and the error; `nil` when all were carried out.
        public var failure: String?
        /// The errno of that failure.
        public var errno: Int32?
        /// Wall time of the batch, from the first write to the last.
        public var nanoseconds: UInt64
        /// Files held open to the end (the rest were opened for each write).
        public var heldFiles: Int
        /// Injections that started behind the pacing schedule by more than one interval (the
        /// schedule restarted from each of them instead of catching up).
        public var late: Int

        public init(
            completed: Int, failure: String? = nil, errno: Int32? = nil, nanoseconds: UInt64 = 0, heldFiles: Int = 0,
            late: Int = 0
        ) {
            self.completed = completed
            self.failure = failure
            self.errno = errno
            self.nanoseconds = nanoseconds
            self.heldFiles = heldFiles
            self.late = late
        }
    }

    public init(paths: [String], injections: [[Write]], intervalMicroseconds: UInt64) {
        self.paths = paths
        self.injections = injections
        self.intervalMicroseconds = intervalMicroseconds
    }

    /// The batch in the compact text form a lab's agent takes: every distinct write once, then each
    /// injection as the numbers of its writes (a campaign's writes repeat; a JSON batch of a
    /// thousand machine checks is four times larger and slow to parse under TCG).
    ///
    ///     inject-batch 1 INTERVAL_US
    ///     p PATH                       a file, numbered from 0
    ///     w PATH_NUMBER VALUE          a write, numbered from 0
    ///     i WRITE_NUMBER ...           an injection
    ///
    /// Paths and values are percent-escaped (`%`, space, newline, carriage return, tab).
    public var encoded: [UInt8] {
        var out = "inject-batch 1 \(intervalMicroseconds)\n"
        for path in paths { out += "p \(Self.escape(path))\n" }
        var numbers: [Write: Int] = [:]
        var lines: [String] = []
        for writes in injections {
            var line = "i"
            for write in writes {
                let number: Int
                if let known = numbers[write] {
                    number = known
                } else {
                    number = numbers.count
                    numbers[write] = number
                    out += "w \(write.path) \(Self.escape(write.value))\n"
                }
                line += " \(number)"
            }
            lines.append(line)
        }
        return Array((out + lines.joined(separator: "\n") + "\n").utf8)
    }

    /// A batch from ``encoded``; `nil` when malformed.
    public init?(encoded bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first?.split(separator: " "), header.count == 3, header[0] == "inject-batch",
            header[1] == "1",
            let interval = UInt64(header[2])
        else { return nil }
        var paths: [String] = []
        var writes: [Write] = []
        var injections: [[Write]] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            switch fields.first {
            case "p":
                guard fields.count == 2, let path = Self.unescape(fields[1]) else { return nil }
                paths.append(path)
            case "w":
                guard fields.count == 3, let index = Int(fields[1]), paths.indices.contains(index),
                    let value = Self.unescape(fields[2])
                else { return nil }
                writes.append(Write(path: index, value: value))
            case "i":
                var injection: [Write] = []
                for field in fields.dropFirst() {
                    guard let number = Int(field), writes.indices.contains(number) else { return nil }
                    injection.append(writes[number])
                }
                injections.append(injection)
            default:
                return nil
            }
        }
        self.init(paths: paths, injections: injections, intervalMicroseconds: interval)
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "%": out += "%25"
            case " ": out += "%20"
            case "\n": out += "%0A"
            case "\r": out += "%0D"
            case "\t": out += "%09"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    private static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                    let value = UInt8(
                        String(decoding: utf8[first...utf8.index(after: first)], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                index = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Carries the batch out on `files` (this machine's, or the guest's own when the agent runs
    /// it), holding each file where `files` can; stops at the first failed write.
    public func perform(on files: any TargetFiles) -> Outcome {
        var held: [HeldAttribute?] = []
        var targets: [TargetPath] = []
        for path in paths {
            guard let target = try? TargetPath(path) else {
                return Outcome(completed: 0, failure: "\(path): not a path beneath the target's root", errno: EINVAL)
            }
            targets.append(target)
            held.append(try? files.hold(target, hint: nil))
        }
        var heldCount: Int { held.compactMap { $0 }.count }
        let started = HostClock.monotonicNanoseconds()
        var pacer = Pacer(intervalNanoseconds: intervalMicroseconds * 1000, start: started)
        for (number, writes) in injections.enumerated() {
            pacer.wait(for: number)
            for write in writes {
                do throws(TargetError) {
                    if let file = held[write.path], try file.write(write.value) { continue }
                    // The held file refused the write (or the file could not be held): opened for this write.
                    held[write.path] = nil
                    try files.write(write.value, to: targets[write.path], hint: nil)
                } catch {
                    return Outcome(
                        completed: number, failure: "injection \(number + 1): \(paths[write.path]): \(error)",
                        errno: Self.code(error),
                        nanoseconds: HostClock.monotonicNanoseconds() - started, heldFiles: heldCount, late: pacer.late)
                }
            }
        }
        return Outcome(
            completed: injections.count, nanoseconds: HostClock.monotonicNanoseconds() - started, heldFiles: heldCount,
            late: pacer.late)
    }

    /// The errno a failed write stands for.
    private static func code(_ error: TargetError) -> Int32 {
        switch error {
        case .system(_, _, let errno, _): errno.rawValue
        case .notFound: ENOENT
        case .permissionDenied: EACCES
        default: EIO
        }
    }
}
