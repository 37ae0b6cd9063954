/// Carries out a validated plan on a target, step by step, stopping at the first failure.
public struct Executor {
    /// The target.
    public let target: InjectionTarget
    private let files: (any TargetFiles)?

    /// Creates an executor for `target`; `files` are the session's (``InjectSession/targetFiles()``),
    /// opened from `target` when not given.
    public init(target: InjectionTarget, files: (any TargetFiles)? = nil) {
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

    /// Executes every step in order. Confirmation, the journal and verification are the
    /// ``Injector``'s: this is the plan's steps alone.
    ///
    /// - Parameter plan: a plan from ``InjectSession/plan(_:)``.
    /// - Throws: ``InjectError/stepFailed(index:step:completed:wasTrigger:error:)``.
    public func execute(_ plan: InjectionPlan) async throws(InjectError) -> [StepResult] {
        let files: any TargetFiles
        if let given = self.files {
            files = given
        } else {
            do throws(TargetError) { files = try target.files() } catch { throw .target(error) }
        }
        var performer = StepPerformer(target: target, files: files)
        var results: [StepResult] = []
        var executed = 0
        for (index, step) in plan.steps.enumerated() {
            let started = HostClock.monotonicNanoseconds()
            let output: String?
            if let repeated = step.action as? RepeatStep {
                var storm = Storm(
                    steps: Array(plan.steps[(index - repeated.count)..<index]), first: index - repeated.count,
                    times: repeated.times, intervalMicroseconds: repeated.intervalMicroseconds)
                try await storm.perform(with: &performer, executed: &executed)
                output = "\(repeated.times * UInt64(repeated.count)) step(s) run"
            } else {
                output = try await performer.perform(step, index: index, executed: executed)
                executed += 1
            }
            results.append(
                StepResult(
                    index: index + 1, step: PlanRenderer.describe(step, at: index, root: target.root), output: output,
                    microseconds: (HostClock.monotonicNanoseconds() - started) / 1000))
        }
        return results
    }
}

extension StepPerformer {
    /// The held files and bytes for `steps` when every one is an attribute write whose file is held
    /// (the first repetition, on the ordinary path, held them and set aside any that refused);
    /// `nil` otherwise.
    func heldWrites(_ steps: [PlannedStep]) -> [(file: HeldAttribute, bytes: [UInt8])]? {
        var writes: [(file: HeldAttribute, bytes: [UInt8])] = []
        for step in steps {
            guard let write = step.action as? WriteAttributeStep, let file = held[write.path] else { return nil }
            writes.append((file, Array(write.value.utf8)))
        }
        return writes
    }

    /// Performs `step` (at `index` of the plan, `executed` steps done before it); a failure
    /// becomes ``InjectError/stepFailed(index:step:completed:wasTrigger:error:)``. `repetition` is
    /// set inside a repeat step, to say which time failed.
    mutating func perform(
        _ step: PlannedStep, index: Int, executed: Int,
        repetition: (time: UInt64, of: UInt64)? = nil
    ) async throws(InjectError) -> String? {
        do throws(TargetError) {
            return try await step.action.perform(hint: step.hint, with: &self)
        } catch {
            throw failure(step, index, executed, error, repetition.map { " (repetition \($0.time) of \($0.of))" } ?? "")
        }
    }

    func failure(_ step: PlannedStep, _ index: Int, _ executed: Int, _ error: TargetError, _ suffix: String)
        -> InjectError
    {
        // A guest whose machine is broken (its firmware's helper died) is the likelier cause
        // than the kernel: say so instead of blaming the kernel.
        if let guest = target.guest, error.reachedTheKernel || error.description.contains("Input/output error") {
            let faults = guest.machineFaults()
            if !faults.isEmpty {
                return .target(
                    .guest(
                        name: guest.name,
                        reason:
                            "step \(index + 1) (\(PlanRenderer.describe(step, root: target.root))\(suffix)) failed: \(error); \(faults.joined(separator: "; "))"
                    ))
            }
        }
        return .stepFailed(
            index: index, step: PlanRenderer.describe(step, root: target.root) + suffix, completed: executed,
            wasTrigger: step.isTrigger, error: error)
    }
}
