/// Batches built from plans: a campaign's injections, or a storm's repetitions, when every step
/// is an attribute write.
extension WriteBatch {
    /// The batch of `plans` when every step of every plan is an attribute write (a trigger or
    /// not); `nil` when one has anything else (QMP, memory, a tool, a repeat, a wait).
    public init?(_ plans: [InjectionPlan], intervalMicroseconds: UInt64) {
        var files = FileNumbers()
        var injections: [[Write]] = []
        for plan in plans {
            guard let writes = files.writes(plan.steps) else { return nil }
            injections.append(writes)
        }
        self.init(paths: files.paths, injections: injections, intervalMicroseconds: intervalMicroseconds)
    }

    /// `times` repetitions of `steps` (a storm's repeat) when every step is an attribute write;
    /// `nil` otherwise.
    public init?(repeating steps: [PlannedStep], times: Int, intervalMicroseconds: UInt64) {
        var files = FileNumbers()
        guard let writes = files.writes(steps) else { return nil }
        self.init(
            paths: files.paths, injections: Array(repeating: writes, count: times),
            intervalMicroseconds: intervalMicroseconds)
    }

    /// Whether `plan` can be part of a batch: every step an attribute write.
    public static func accepts(_ plan: InjectionPlan) -> Bool {
        plan.steps.allSatisfy { $0.action is WriteAttributeStep }
    }

    /// The files of a batch being built, numbered in the order they are first written.
    private struct FileNumbers {
        var paths: [String] = []
        var numbers: [String: Int] = [:]

        /// `steps` as writes to numbered files, or `nil` when one is not an attribute write.
        mutating func writes(_ steps: [PlannedStep]) -> [Write]? {
            var writes: [Write] = []
            for step in steps {
                guard let write = step.action as? WriteAttributeStep else { return nil }
                let key = write.path.description
                let number = numbers[key] ?? paths.count
                if number == paths.count {
                    numbers[key] = number
                    paths.append(key)
                }
                writes.append(Write(path: number, value: write.value))
            }
            return writes
        }
    }
}
