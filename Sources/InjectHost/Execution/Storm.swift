/// A repeat step's repetitions: the first on the ordinary path (which holds the attribute files
/// open and finds any that refuses positional writes), then, where every step is a held write, a
/// tight loop of writes; where the files cannot be held here (a lab's guest) and every step is an
/// attribute write, the remaining repetitions go to the target as batches, run where the kernel is.
struct Storm {
    /// The repeated steps, and the index of the first in the plan.
    let steps: [PlannedStep]
    let first: Int
    let times: UInt64
    let intervalMicroseconds: UInt64
    /// The next repetition, from 1.
    private var time: UInt64 = 1

    init(steps: [PlannedStep], first: Int, times: UInt64, intervalMicroseconds: UInt64) {
        self.steps = steps
        self.first = first
        self.times = times
        self.intervalMicroseconds = intervalMicroseconds
    }

    private var repetition: String { " (repetition \(time) of \(times))" }

    /// Performs every repetition; `executed` counts the steps done.
    mutating func perform(with performer: inout StepPerformer, executed: inout Int) async throws(InjectError) {
        // A storm writes the same attribute files again and again: they stay open for it.
        performer.holdFiles = true
        defer { performer.releaseFiles() }
        var held: [(file: HeldAttribute, bytes: [UInt8])]?
        while time <= times {
            if time > 1, held == nil,
                WriteBatch(repeating: steps, times: 0, intervalMicroseconds: intervalMicroseconds) != nil
            {
                try inBatches(performer, executed: &executed)
                return
            }
            if let writes = held {
                try writeHeld(writes, performer, executed: &executed)
                return
            }
            if intervalMicroseconds > 0 { usleep(UInt32(clamping: intervalMicroseconds)) }
            for (offset, step) in steps.enumerated() {
                _ = try await performer.perform(
                    step, index: first + offset, executed: executed, repetition: (time, times))
                executed += 1
            }
            if time == 1 { held = performer.heldWrites(steps) }
            time += 1
        }
    }

    /// The remaining repetitions through the held files: one write each, the tight loop.
    private mutating func writeHeld(
        _ writes: [(file: HeldAttribute, bytes: [UInt8])], _ performer: borrowing StepPerformer,
        executed: inout Int
    ) throws(InjectError) {
        while time <= times {
            if intervalMicroseconds > 0 { usleep(UInt32(clamping: intervalMicroseconds)) }
            for (offset, write) in writes.enumerated() {
                do throws(TargetError) {
                    try write.file.write(write.bytes)
                } catch {
                    throw performer.failure(steps[offset], first + offset, executed, error, repetition)
                }
                executed += 1
            }
            time += 1
        }
    }

    /// The remaining repetitions as batches of at most 10,000, carried out by the target.
    private mutating func inBatches(_ performer: StepPerformer, executed: inout Int) throws(InjectError) {
        while time <= times {
            let size = Int(min(times - time + 1, 10_000))
            let batch = WriteBatch(repeating: steps, times: size, intervalMicroseconds: intervalMicroseconds)!
            let outcome: WriteBatch.Outcome
            do throws(TargetError) { outcome = try performer.files.perform(batch) } catch {
                throw performer.failure(steps[0], first, executed, error, repetition)
            }
            executed += outcome.completed * steps.count
            time += UInt64(outcome.completed)
            if let failure = outcome.failure {
                let error = TargetError.tool(argv: ["batch"], reason: failure, hint: steps[0].hint)
                throw performer.failure(steps[0], first, executed, error, repetition)
            }
        }
    }
}
