#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A campaign: steps of injections with counts, rates and durations, seeded random parameters,
/// and stop conditions, read from a JSON file.
///
/// ```json
/// { "name": "nightly", "seed": 7,
///   "steps": [
///     { "name": "corrected MCE", "backend": "mce", "count": 1000, "rate": 100,
///       "parameters": { "severity": "corrected", "bank": "choice 1|2|3", "addr": "random 0x100000..0x10000000 align 0x1000" } },
///     { "name": "GHES memory", "backend": "ghes", "count": 100, "rate": 4, "duration": 60,
///       "parameters": { "source": "0", "address": "random 0x100000..0x1000000 align 0x1000" } } ],
///   "stop": { "on_failure": true, "on_kernel_log": "Memory failure" } }
/// ```
///
/// A step may declare its outcome (`"expect": "panic"`, see ``ExpectedOutcome``), and a step with
/// `"cases": "soft-inj/*/data/*"` becomes one step per file the pattern matches (relative to the
/// scenario's directory; a directory stands for its files), each injected once with the file as
/// its `file` parameter (or `case_parameter`) and named by its path, so that a JUnit report
/// names every case. A case file declares its own outcome in a comment line, `# expect: panic`,
/// which wins over the step's.
public struct Scenario: Sendable, Equatable {
    /// The largest scenario file read.
    public static let maximumBytes = 16 << 20

    /// One step.
    public struct Step: Sendable, Equatable {
        public var name: String
        public var backend: String
        public var parameters: [(name: String, value: ValueSource)]
        public var count: Int
        /// Injections per second, or `nil` for as fast as they go.
        public var rate: Double?
        /// `"rate": "max"`: as fast as the kernel consumes (batches wait for the kernel's record of
        /// the previous one and shrink after a loss).
        public var pacedToKernel = false
        /// Seconds after which the step stops even if `count` is not reached.
        public var duration: Double?
        /// `count` (default: count the plan's trace events in a tracefs instance), `each` (--verify
        /// every injection) or `none`.
        public var verify: String
        /// What the step shows, for people (the demo prints it); optional in files.
        public var title: String?
        /// The outcome every injection of the step declares (`expect=`).
        public var expect: ExpectedOutcome?

        /// Creates a step; `parameters` are fixed values, random ranges or choices.
        public init(
            name: String, backend: String, parameters: [(name: String, value: ValueSource)], count: Int = 1,
            rate: Double? = nil, duration: Double? = nil, verify: String = "count", title: String? = nil,
            expect: ExpectedOutcome? = nil
        ) {
            self.name = name
            self.backend = backend
            self.parameters = parameters
            self.count = count
            self.rate = rate
            self.duration = duration
            self.verify = verify
            self.title = title
            self.expect = expect
        }

        public static func == (a: Step, b: Step) -> Bool {
            a.name == b.name && a.backend == b.backend && a.count == b.count && a.rate == b.rate
                && a.pacedToKernel == b.pacedToKernel && a.duration == b.duration
                && a.verify == b.verify && a.title == b.title && a.expect == b.expect
                && a.parameters.map(\.name) == b.parameters.map(\.name)
                && a.parameters.map(\.value) == b.parameters.map(\.value)
        }
    }

    /// Where a parameter's value comes from.
    public enum ValueSource: Sendable, Equatable {
        case fixed(String)
        case random(ClosedRange<UInt64>, align: UInt64)
        case choice([String])
    }

    public var name: String
    public var seed: UInt64
    public var steps: [Step]
    public var stopOnFailure: Bool
    public var stopOnKernelLog: String?

    /// Creates a scenario.
    public init(
        name: String, seed: UInt64 = 1, steps: [Step], stopOnFailure: Bool = true, stopOnKernelLog: String? = nil
    ) {
        self.name = name
        self.seed = seed
        self.steps = steps
        self.stopOnFailure = stopOnFailure
        self.stopOnKernelLog = stopOnKernelLog
    }

    private struct File: Decodable {
        struct StepEntry: Decodable {
            var name: String?
            var backend: String
            var parameters: [String: String]?
            /// A number, checked to be whole here (the decoder says only "not valid JSON" for 1.5).
            var count: Double?
            var rate: Rate?
            var duration: Double?
            var verify: String?
            var title: String?
            var expect: String?
            var cases: String?
            var case_parameter: String?
        }
        /// A rate: injections per second, or "max".
        enum Rate: Decodable {
            case perSecond(Double)
            case max
            case other(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let value = try? container.decode(Double.self) {
                    self = .perSecond(value)
                } else {
                    let text = try container.decode(String.self)
                    self = text == "max" ? .max : .other(text)
                }
            }
        }
        struct Stop: Decodable {
            var on_failure: Bool?
            var on_kernel_log: String?
        }
        var name: String?
        var seed: UInt64?
        var steps: [StepEntry]
        var stop: Stop?

        /// The keys of each object (``JSONShape``).
        static func allowedKeys(_ path: [String]) -> [String]? {
            switch path {
            case []: return ["name", "seed", "steps", "stop"]
            case ["steps", "*"]:
                return [
                    "name", "backend", "parameters", "count", "rate", "duration", "verify", "title", "expect", "cases",
                    "case_parameter",
                ]
            case ["stop"]: return ["on_failure", "on_kernel_log"]
            default: return nil
            }
        }
    }

    /// Reads and checks a scenario file; the error names the file, the key and what is allowed.
    public static func load(_ path: String) throws(ConfigurationError) -> Scenario {
        func fail(_ reason: String) -> ConfigurationError { .unreadableFile(path: path, reason: reason) }
        let read: [UInt8]?
        do { read = try UserFile.read(path, limit: maximumBytes) } catch { throw fail(error.description) }
        guard let bytes = read else { throw fail("does not exist") }
        if let problem = JSONShape.problem(in: bytes, allowed: File.allowedKeys) { throw fail(problem) }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(bytes)) } catch {
            throw fail("not a scenario: \(JSONShape.describe(error))")
        }
        guard !file.steps.isEmpty else { throw fail("steps: at least one step is needed") }
        var steps: [Step] = []
        for (index, entry) in file.steps.enumerated() {
            let key = "steps[\(index)]"
            let countValue = entry.count ?? 1
            guard countValue == countValue.rounded(), abs(countValue) < 1e15 else {
                throw fail("\(key).count: \(countValue) is not a whole number of injections (1...10000000)")
            }
            let count = Int(countValue)
            guard (1...10_000_000).contains(count) else { throw fail("\(key).count: \(count) is outside 1...10000000") }
            var rate: Double?
            switch entry.rate {
            case .perSecond(let value)?:
                // At least one injection in 1,000 s: the interval between two must fit in 64 bits.
                guard value >= 0.001 && value <= 1_000_000 else {
                    throw fail(
                        "\(key).rate: \(value) is outside 0.001...1000000 per second (or \"max\": as fast as the kernel consumes)"
                    )
                }
                rate = value
            case .other(let text)?:
                throw fail("\(key).rate: '\(text)' is not a number of injections per second or \"max\"")
            case .max?, nil: break
            }
            if let duration = entry.duration, !(duration > 0) {
                throw fail("\(key).duration: \(duration) must be positive seconds")
            }
            var expect: ExpectedOutcome?
            if let text = entry.expect {
                do { expect = try ExpectedOutcome(parsing: text, backend: entry.backend) } catch {
                    throw fail("\(key).expect: '\(text)' is not \(ExpectedOutcome.spellings)")
                }
            }
            let verify =
                entry.verify ?? (expect?.needsEachVerification == true || entry.cases != nil ? "each" : "count")
            guard ["count", "each", "none"].contains(verify) else {
                throw fail("\(key).verify: '\(verify)' is not count, each or none")
            }
            if let expect, expect.needsEachVerification && verify == "count" {
                throw fail(
                    "\(key).verify: a step that expects \(expect) is verified each time (\"verify\": \"each\"), not counted"
                )
            }
            var parameters: [(String, ValueSource)] = []
            for (name, text) in (entry.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
                parameters.append((name, try valueSource(text, key: "\(key).parameters.\(name)", fail)))
            }
            var step = Step(
                name: entry.name ?? "\(entry.backend) #\(index + 1)", backend: entry.backend, parameters: parameters,
                count: count, rate: rate, duration: entry.duration, verify: verify, title: entry.title, expect: expect)
            if case .max? = entry.rate { step.pacedToKernel = true }
            if let pattern = entry.cases {
                steps += try CaseFiles.steps(
                    pattern, from: step, parameter: entry.case_parameter ?? "file", scenario: path, key: "\(key).cases")
            } else {
                steps.append(step)
            }
        }
        return Scenario(
            name: file.name ?? path, seed: file.seed ?? 1, steps: steps,
            stopOnFailure: file.stop?.on_failure ?? true, stopOnKernelLog: file.stop?.on_kernel_log)
    }

    private static func valueSource(_ text: String, key: String, _ fail: (String) -> ConfigurationError)
        throws(ConfigurationError) -> ValueSource
    {
        let words = text.split(separator: " ").map(String.init)
        if words.first == "choice" {
            let names = words.dropFirst().joined(separator: " ").split(separator: "|").map { String($0).trimmed() }
            guard !names.isEmpty else { throw fail("\(key): 'choice' needs names, as in choice 1|2|3") }
            return .choice(names)
        }
        if words.first == "random" {
            let bounds =
                words.count > 1 ? words[1].split(separator: ".", omittingEmptySubsequences: true).map(String.init) : []
            guard bounds.count == 2, let low = NumberText.unsigned(bounds[0]),
                let high = NumberText.unsigned(bounds[1]), low <= high
            else {
                throw fail("\(key): '\(text)' is not random LOW..HIGH [align N]")
            }
            var align: UInt64 = 1
            if words.count == 4, words[2] == "align", let value = NumberText.unsigned(words[3]), value > 0 {
                align = value
            } else if words.count != 2 {
                throw fail("\(key): '\(text)' is not random LOW..HIGH [align N]")
            }
            // The range is kept as its first and last multiples of the alignment, so that every
            // value drawn, and every value validated, is one; a range without one is refused.
            let (up, overflow) = low.addingReportingOverflow((align - low % align) % align)
            let last = high - high % align
            guard !overflow, up <= last else {
                throw fail(
                    "\(key): '\(text)' holds no multiple of \(hexNumber(align)) between \(hexNumber(low)) and \(hexNumber(high))"
                )
            }
            return .random(up...last, align: align)
        }
        return .fixed(text)
    }
}

/// A small seeded generator (SplitMix64), so that a campaign is repeatable from its seed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Scenario.Step {
    /// This step's request for one injection, its values drawn from `generator`.
    public func request(using generator: inout SeededGenerator) -> InjectionRequest {
        declaring(
            InjectionRequest(
                backend, parameters.map { ParameterAssignment($0.name, .text($0.value.value(using: &generator))) }))
    }

    /// `request` with the step's declared outcome.
    private func declaring(_ request: InjectionRequest) -> InjectionRequest {
        var request = request
        request.outcome = expect
        return request
    }

    /// Requests that together use every value the step can draw: each choice, and both ends of
    /// each random range (the other parameters at their first value), to validate before running.
    public var extremeRequests: [InjectionRequest] {
        func first(_ source: Scenario.ValueSource) -> String {
            var generator = SeededGenerator(seed: 0)
            switch source {
            case .choice(let names): return names[0]
            case .random(let range, _): return hexNumber(range.lowerBound)
            case .fixed: return source.value(using: &generator)
            }
        }
        let base = parameters.map { ($0.name, first($0.value)) }
        func request(_ set: [(String, String)]) -> InjectionRequest {
            declaring(InjectionRequest(backend, set.map { ParameterAssignment($0.0, .text($0.1)) }))
        }
        var sets = [request(base)]
        for (index, parameter) in parameters.enumerated() {
            let values: [String]
            switch parameter.value {
            case .choice(let names): values = Array(names.dropFirst())
            case .random(let range, _): values = [hexNumber(range.upperBound)]
            case .fixed: values = []
            }
            for value in values {
                var set = base
                set[index].1 = value
                sets.append(request(set))
            }
        }
        return sets
    }
}

extension Scenario.ValueSource {
    /// The source as a scenario file spells it.
    public var summary: String {
        switch self {
        case .fixed(let text): return text
        case .choice(let names): return "choice " + names.joined(separator: "|")
        case .random(let range, let align):
            return "random \(hexNumber(range.lowerBound))..\(hexNumber(range.upperBound))"
                + (align > 1 ? " align \(hexNumber(align))" : "")
        }
    }

    /// This source's value for one injection.
    public func value(using generator: inout SeededGenerator) -> String {
        switch self {
        case .fixed(let text): return text
        case .choice(let names): return names[Int(generator.next() % UInt64(names.count))]
        case .random(let range, let align):
            let span = (range.upperBound - range.lowerBound) / align
            let pick = range.lowerBound + (span == .max ? generator.next() : generator.next() % (span + 1)) * align
            return hexNumber(pick)
        }
    }
}
