
/// Carries out a validated plan on a target, step by step, stopping at the first failure.
public struct Executor {
    /// The target.
    public let target: TargetSpec
    private let files: (any TargetFiles)?

    /// Creates an executor for `target`; `files` are the session's (``InjectSession/targetFiles()``),
    /// opened from `target` when not given.
    public init(target: TargetSpec, files: (any TargetFiles)? = nil) {
        self.target = target
        self.files = files
    }

    /// What one executed step returned.
    public struct StepResult: Sendable, Equatable, Encodable {
        /// The step's position, from 1.
        public var index: Int
        /// The step as shown in a dry run.
        public var step: String
        /// Output worth showing: a QMP reply, a tool's output.
        public var output: String?
        /// Wall time in microseconds.
        public var microseconds: UInt64
    }

    /// Runs every step in order.
    ///
    /// - Parameters:
    ///   - plan: a plan from ``InjectSession/plan(_:)``.
    ///   - confirmed: whether the user passed `--yes`.
    /// - Throws: ``InjectError/confirmationRequired(backend:reasons:)`` before anything runs, or
    ///   ``InjectError/stepFailed(index:step:completed:wasTrigger:error:)``.
    public func run(_ plan: InjectionPlan, confirmed: Bool) async throws(InjectError) -> [StepResult] {
        if !plan.confirmationReasons.isEmpty && !confirmed {
            throw .confirmationRequired(backend: plan.backend, reasons: plan.confirmationReasons)
        }
        let files: any TargetFiles
        if let given = self.files {
            files = given
        } else {
            do throws(TargetError) { files = try target.files() } catch { throw .target(error) }
        }
        var runner = StepRunner(target: target, files: files)
        var results: [StepResult] = []
        var executed = 0
        for (index, step) in plan.steps.enumerated() {
            let started = HostClock.monotonicNanoseconds()
            var output: String?
            if case .repeatSteps(let count, let times, let interval) = step.action {
                // A storm writes the same attribute files again and again: they stay open for it.
                runner.holdFiles = true
                defer { runner.releaseFiles() }
                let inner = Array(plan.steps[(index - count)..<index])
                var time: UInt64 = 1
                var held: [(file: HeldAttribute, bytes: [UInt8])]?
                // The ordinary path for the first time, which holds the files and finds any that
                // refuses positional writes; then, where every step is a held write, the tight loop.
                while time <= times {
                    // Where the files cannot be held here (a lab's guest), the remaining repetitions
                    // of attribute writes go to the target as batches, run where the kernel is.
                    if time > 1, held == nil, WriteBatch(repeating: inner, times: 0, intervalMicroseconds: interval) != nil {
                        while time <= times {
                            let size = Int(min(times - time + 1, 10_000))
                            let batch = WriteBatch(repeating: inner, times: size, intervalMicroseconds: interval)!
                            let outcome: WriteBatch.Outcome
                            do throws(TargetError) { outcome = try files.run(batch) } catch {
                                throw runner.failure(inner[0], index - count, executed, error, " (repetition \(time) of \(times))")
                            }
                            executed += outcome.completed * count
                            time += UInt64(outcome.completed)
                            if let failure = outcome.failure {
                                throw runner.failure(inner[0], index - count, executed, TargetError.tool(argv: ["batch"], reason: failure, hint: inner[0].hint),
                                                     " (repetition \(time) of \(times))")
                            }
                        }
                        break
                    }
                    if interval > 0 { usleep(UInt32(clamping: interval)) }
                    if let writes = held {
                        for (offset, write) in writes.enumerated() {
                            do throws(TargetError) {
                                try write.file.write(write.bytes)
                            } catch {
                                throw runner.failure(inner[offset], index - count + offset, executed, error, " (repetition \(time) of \(times))")
                            }
                            executed += 1
                        }
                    } else {
                        for step in (index - count)..<index {
                            _ = try await runner.perform(plan.steps[step], index: step, executed: executed, repetition: (time, times))
                            executed += 1
                        }
                        if time == 1 { held = runner.heldWrites(inner) }
                    }
                    time += 1
                }
                output = "\(times * UInt64(count)) step(s) run"
            } else {
                output = try await runner.perform(step, index: index, executed: executed)
                executed += 1
            }
            results.append(StepResult(index: index + 1, step: PlanRenderer.describe(step, at: index, root: target.root), output: output,
                                      microseconds: (HostClock.monotonicNanoseconds() - started) / 1000))
        }
        return results
    }
}

/// Performs single steps for ``Executor``, holding the QMP connection across them, and during a
/// repeat the attribute files it writes.
private struct StepRunner {
    let target: TargetSpec
    let files: any TargetFiles
    var qmp: QMPClient?
    /// Whether writes keep their files open (inside a repeat step).
    var holdFiles = false
    /// Files held open, and the ones that refused it (written the ordinary way).
    private var held: [TargetPath: HeldAttribute] = [:]
    private var unholdable: Set<TargetPath> = []

    /// Closes the held files.
    mutating func releaseFiles() {
        held.removeAll()
        unholdable.removeAll()
        holdFiles = false
    }

    /// The held files and bytes for `steps` when every one is an attribute write whose file is held
    /// (the first repetition, on the ordinary path, held them and set aside any that refused);
    /// `nil` otherwise.
    func heldWrites(_ steps: [PlannedStep]) -> [(file: HeldAttribute, bytes: [UInt8])]? {
        var writes: [(file: HeldAttribute, bytes: [UInt8])] = []
        for step in steps {
            guard case .writeAttribute(let path, let value) = step.action, let file = held[path] else { return nil }
            writes.append((file, Array(value.utf8)))
        }
        return writes
    }

    /// Writes through a held file where it can, else opens the file as usual.
    private mutating func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError) {
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

    init(target: TargetSpec, files: any TargetFiles) {
        self.target = target
        self.files = files
    }

    /// Performs a step; returns what is worth showing (a QMP reply, a tool's output).
    /// `repetition` is set inside a repeat step, to say which time failed.
    mutating func perform(_ step: PlannedStep, index: Int, executed: Int,
                          repetition: (time: UInt64, of: UInt64)? = nil) async throws(InjectError) -> String? {
        do throws(TargetError) {
            switch step.action {
            case .writeAttribute(let path, let value):
                try write(value, to: path, hint: step.hint)
            case .exec(let argv):
                return try await ToolRunner.run(argv, hint: step.hint).output
            case .vendorCall(let call):
                let outcome = try call.perform()
                let shown = outcome.outputs.filter { !$0.value.isEmpty }.map { "\($0.name)=\($0.value)" }
                return (["returned \(outcome.returned)"] + shown).joined(separator: ", ")
            case .ipmi(let request):
                guard let route = target.ipmiRoute else { throw TargetError.noIPMI }
                let response = try await IPMIClient.send(request, route: route)
                return response.isEmpty ? nil : "response " + hexDigits(response, separator: " ")
            case .qmp(let command, let arguments):
                return try qmp(command, arguments, hint: step.hint)
            case .writeDevice(let path, let bytes):
                try files.writeDevice(bytes, to: path, hint: step.hint)
            case .writeMemory(let address, let bytes):
                guard let memory = target.guestMemory else { throw TargetError.noFirmwareMemory }
                try AttributeFiles.write(bytes, at: Int64(bitPattern: address), of: memory)
            case .waitMemoryZero(let address, let microseconds):
                try waitUntilZero(address, microseconds: microseconds)
            case .sleep(let microseconds):
                usleep(UInt32(clamping: microseconds))
            case .notify(let backend, _):
                throw TargetError.tool(argv: ["notify", backend], reason: "notification was not routed by the planner", hint: nil)
            case .repeatSteps:
                break                               // the executor runs repetitions itself
            }
            return nil
        } catch {
            throw failure(step, index, executed, error, repetition.map { " (repetition \($0.time) of \($0.of))" } ?? "")
        }
    }

    /// Runs a QMP command on the session's connection; a refusal says which QEMU answered and
    /// what the plan suggests instead.
    private mutating func qmp(_ command: String, _ arguments: JSONValue?, hint: String?) throws(TargetError) -> String {
        guard let socket = target.qmpSocket else { throw TargetError.noQMP(command: command) }
        if qmp == nil { qmp = try QMPClient(socketPath: socket) }
        do throws(TargetError) {
            let reply = try qmp!.execute(command, arguments: arguments)
            // HMP reports a failure only as text in a successful QMP reply.
            if command == "human-monitor-command", let text = reply.stringValue, QMPClient.isHMPFailure(text) {
                throw TargetError.qmpCommandFailed(command: command, errorClass: "HMP", message: text.trimmed())
            }
            return reply.description
        } catch .qmpCommandFailed(let failed, let errorClass, let message) {
            var text = message
            if errorClass == "CommandNotFound", let version = try? qmp!.execute("query-version")["qemu"] {
                let number = ["major", "minor", "micro"].compactMap { version[$0]?.description }.joined(separator: ".")
                text += " (this QEMU is \(number))"
            }
            if let hint { text += "; \(hint)" }
            throw TargetError.qmpCommandFailed(command: failed, errorClass: errorClass, message: text)
        }
    }

    /// Waits until the 32-bit word at `address` of firmware memory reads zero.
    private func waitUntilZero(_ address: UInt64, microseconds: UInt64) throws(TargetError) {
        guard let memory = target.guestMemory else { throw TargetError.noFirmwareMemory }
        let deadline = HostClock.monotonicNanoseconds() + microseconds * 1000
        while try AttributeFiles.read(4, at: Int64(bitPattern: address), of: memory) != [0, 0, 0, 0] {
            guard HostClock.monotonicNanoseconds() < deadline else {
                throw TargetError.recordNotConsumed(address: address, milliseconds: microseconds / 1000)
            }
            usleep(1000)
        }
    }

    func failure(_ step: PlannedStep, _ index: Int, _ executed: Int, _ error: TargetError, _ suffix: String) -> InjectError {
        .stepFailed(index: index, step: PlanRenderer.describe(step, root: target.root) + suffix, completed: executed,
                    wasTrigger: step.isTrigger, error: error)
    }
}
