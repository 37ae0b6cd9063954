/// One injection as `inject run` and campaigns carry it out: confirmation checked, observers armed
/// (with `verify`), the intent journaled and flushed before anything runs, the plan executed, the
/// events awaited, the outcome journaled.
public enum InjectionRun {
    /// What the run did.
    public struct Outcome: Sendable {
        public var results: [Executor.StepResult]
        /// With `verify`: every expectation, matched or not.
        public var findings: [Verifier.Finding]?
        /// The kernel panic the injection ended in, where the target can tell.
        public var panic: GuestPanic?
        /// Seconds the guest took to come back after it, when it was restarted.
        public var restartSeconds: Double?
    }

    /// Restarts a guest that stopped on a panic before this run (an injection without `--verify`
    /// or `expect=` leaves it to the next one); what happened, for the caller to show.
    static func recoverGuest(_ target: TargetSpec) async throws(InjectError) -> String? {
        guard let guest = target.guest, let panic = guest.panic() else { return nil }
        do {
            let seconds = try await guest.restart()
            return "\(guest.name) had stopped on a kernel panic (\(panic.message)); restarted it in \((seconds * 10).rounded() / 10) s"
        } catch {
            throw .target(error)
        }
    }

    /// The journal intent of `plan` on `target`: who, what, with which parameters and steps.
    static func intent(_ plan: InjectionPlan, target: TargetSpec) -> JournalRecord {
        var record = JournalRecord(kind: "intent", id: "\(getpid())-\(Journal.now())-\(UInt32.random(in: 0...UInt32.max))",
                                   time: Journal.now(), user: Journal.user(), target: target.summary, backend: plan.backend,
                                   parameters: plan.parameters.compactMap { p in p.value.map { "\(p.spec.name)=\($0.text)" } },
                                   steps: plan.steps.enumerated().map { PlanRenderer.describe($0.element, at: $0.offset, root: target.root) })
        record.expect = plan.outcome?.description
        return record
    }

    /// Performs `plan` on `target`.
    ///
    /// - Parameter problems: told about observers that could not be armed.
    /// - Throws: ``InjectError/confirmationRequired(backend:reasons:)`` before anything is journaled,
    ///   a journal error before anything runs, or the step's failure (journaled as the outcome).
    public static func perform(_ plan: InjectionPlan, target: TargetSpec, files: any TargetFiles, journal: Journal?,
                               confirmed: Bool, verify: Bool, verifyTimeout: Double,
                               problems: ([String]) -> Void = { _ in }) async throws(InjectError) -> Outcome {
        if !plan.confirmationReasons.isEmpty && !confirmed {
            throw .confirmationRequired(backend: plan.backend, reasons: plan.confirmationReasons)
        }
        if let recovered = try await recoverGuest(target) { problems([recovered]) }
        var record = intent(plan, target: target)
        if let journal, let problem = journal.append(record) { throw .journal(.intent(path: journal.path, reason: problem)) }
        // Plugin code that ends the process from here on (a vendor call) leaves a failed outcome.
        journal?.armOutcome(of: record)
        defer { journal?.disarmOutcome() }
        // Observers are armed once the intent is on disk, so that a journal failure leaves none behind.
        let verifier = verify ? Verifier(target: target, files: files, processID: getpid()) : nil
        let armed = await verifier?.arm(plan)
        if let armed, !armed.problems.isEmpty { problems(armed.problems) }
        record.kind = "outcome"
        record.steps = nil
        let results: [Executor.StepResult]
        do {
            results = try await Executor(target: target, files: files).run(plan, confirmed: confirmed)
        } catch {
            record.time = Journal.now()
            record.outcome = "failed"
            record.error = error.description
            if armed != nil { verifier?.removeInstance() }
            // The step's failure is what the user must see; a journal that also fails is said after it.
            if let journal, let problem = journal.append(record) {
                throw .stepFailedUnjournaled(error.description, journal: JournalError.outcome(path: journal.path, reason: problem, outcome: "failed"))
            }
            throw error
        }
        var findings: [Verifier.Finding]?
        var panic: GuestPanic?
        if let verifier, let armed {
            (findings, panic) = await verifier.collect(plan, armed: armed, timeoutSeconds: verifyTimeout)
        } else if plan.outcome?.isPanic == true && target.reportsPanics {
            // Declared fatal: wait for it, so that the journal holds it and the guest comes back.
            let deadline = HostClock.monotonicNanoseconds() + UInt64(verifyTimeout * 1e9)
            repeat {
                panic = target.panic()
                if panic == nil { usleep(100_000) }
            } while panic == nil && HostClock.monotonicNanoseconds() < deadline
        }
        record.time = Journal.now()
        if let findings {
            let matched = findings.filter(\.matched).count
            record.verified = "\(matched) of \(findings.count) expected events"
            record.outcome = matched == findings.count ? "ok" : "unverified"
        } else {
            record.outcome = "ok"
        }
        var restartSeconds: Double?
        if let panic {
            record.panic = panic.message
            if plan.outcome?.isPanic != true { record.outcome = "panicked" }
            if let guest = target.guest {
                do { restartSeconds = try await guest.restart() } catch { problems(["the guest did not come back after the panic: \(error)"]) }
                record.restarted = restartSeconds != nil
            }
        }
        if let journal, let problem = journal.append(record) {
            throw .journal(.outcome(path: journal.path, reason: problem, outcome: record.outcome ?? "ok"))
        }
        return Outcome(results: results, findings: findings, panic: panic, restartSeconds: restartSeconds)
    }
}
