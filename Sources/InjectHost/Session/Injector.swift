/// Carries out injections on a session's target, and is the one owner of what every injection
/// shares: the confirmation a destructive request needs, the outcome it declares, the victim
/// process of `expect=sigbus`, a kernel panic and the guest's restart, and the journal's intent
/// and outcome records. `inject run`, `coverage --run` and campaigns (one injection at a time, or
/// in batches where the kernel is) all inject through it.
public struct Injector {
    /// The session whose registry, configuration and target are used.
    public let session: InjectSession
    /// Where intents and outcomes are written; `nil` when journaling is off. It may be set after
    /// ``prepare(_:)``, so that a request is validated before its journal is opened.
    public var journal: Journal?
    /// Whether the user confirmed destructive requests (`--yes`).
    public let confirmed: Bool
    /// Whether every expected event is waited for (`--verify`).
    public let verify: Bool
    /// How long to wait for expected events, and for a declared panic.
    public let verifyTimeout: Double
    /// With `verify`: also say which memory policies acted on the request's page (``PolicyWatch``;
    /// two reads of the kernel log and of rasdaemon's, so single runs rather than campaigns).
    public var watchesPolicies = false
    /// Told about problems that do not stop the injection: observers that could not be armed, a
    /// guest restarted before it, a guest that did not come back.
    public let problems: ([String]) -> Void

    /// Creates an injector.
    public init(
        session: InjectSession, journal: Journal?, confirmed: Bool, verify: Bool = false, verifyTimeout: Double = 5,
        problems: @escaping ([String]) -> Void = { _ in }
    ) {
        self.session = session
        self.journal = journal
        self.confirmed = confirmed
        self.verify = verify
        self.verifyTimeout = verifyTimeout
        self.problems = problems
    }

    /// A request made ready: its plan, and the victim process that holds its page for
    /// `expect=sigbus` (stopped by ``perform(_:)``, or by ``abandon(_:)`` when it is not performed).
    public struct Prepared {
        /// The validated plan.
        public var plan: InjectionPlan
        /// The victim of `expect=sigbus`.
        public var victim: Victim?
    }

    /// What one injection did.
    public struct Outcome: Sendable {
        public var results: [Executor.StepResult]
        /// With `verify`: every expectation, matched or not.
        public var findings: [Verifier.Finding]?
        /// The kernel panic the injection ended in, where the target can tell.
        public var panic: GuestPanic?
        /// Seconds the guest took to come back after it, when it was restarted.
        public var restartSeconds: Double?
        /// With `verify`, for a request naming a page: the memory policies that acted on it
        /// (empty when none did; `nil` when not looked at).
        public var policies: [PolicyAction]?
    }

    private var target: InjectionTarget { session.options.target }

    /// Validates `request` and plans it; for `expect=sigbus` a ``Victim`` is started in the target
    /// first and the request is given its page. Nothing is injected.
    public func prepare(_ request: InjectionRequest) async throws(InjectError) -> Prepared {
        let (request, victim) = try await session.startVictim(for: request)
        do {
            var plan = try session.plan(request)
            if let victim {
                plan.expectations.append(
                    ExpectedEvent(
                        kind: .kernelLog, source: nil, match: victim.killLine, delta: 0,
                        note: "expect=sigbus: the victim reading the page is killed"))
            }
            return Prepared(plan: plan, victim: victim)
        } catch {
            await victim?.stop(on: target)
            throw error
        }
    }

    /// Stops the victim of a prepared injection that will not be performed.
    public func abandon(_ prepared: Prepared) async { await prepared.victim?.stop(on: target) }

    /// Performs a prepared injection: confirmation, a guest left stopped by an earlier panic
    /// brought back, the intent journaled and flushed, observers armed (with `verify`), the steps,
    /// the events, a declared panic awaited, the guest restarted after a panic, the outcome
    /// journaled. The victim is stopped whatever happens.
    ///
    /// - Throws: ``InjectError/confirmationRequired(backend:reasons:)`` before anything is
    ///   journaled, a journal error before anything runs, or the step's failure (journaled).
    public func perform(_ prepared: Prepared) async throws(InjectError) -> Outcome {
        let outcome: Outcome
        do {
            outcome = try await perform(prepared.plan, victim: prepared.victim)
        } catch {
            await prepared.victim?.stop(on: target)
            throw error
        }
        await prepared.victim?.stop(on: target)
        return outcome
    }

    /// Refuses a plan that needs `--yes` when it was not given: the one check of confirmation.
    public func confirm(_ plan: InjectionPlan) throws(InjectError) {
        if !plan.confirmationReasons.isEmpty && !confirmed {
            throw .confirmationRequired(backend: plan.backend, reasons: plan.confirmationReasons)
        }
    }

    /// Performs `plan` (see ``perform(_:)``).
    public func perform(_ plan: InjectionPlan) async throws(InjectError) -> Outcome {
        try await perform(plan, victim: nil)
    }

    /// Performs `plan`; with `victim`, what its SIGBUS carried is among the findings.
    private func perform(_ plan: InjectionPlan, victim: Victim?) async throws(InjectError) -> Outcome {
        try confirm(plan)
        let panics = PanicWatch(target)
        do throws(TargetError) {
            if let recovered = try await panics.recoverEarlierPanic() { problems([recovered]) }
        } catch {
            throw .target(error)
        }
        let files = try session.targetFiles()
        let intent = try journalIntents([plan])[0]
        // Plugin code that ends the process from here on (a vendor call) leaves a failed outcome.
        journal?.armOutcome(of: intent)
        defer { journal?.disarmOutcome() }
        // Observers are armed once the intent is on disk, so that a journal failure leaves none behind.
        let verifier = verify ? Verifier(target: target, files: files, processID: getpid()) : nil
        let armed = await verifier?.arm(plan)
        if let armed, !armed.problems.isEmpty { problems(armed.problems) }
        let policyArmed =
            verify && (watchesPolicies || plan.outcome?.namesPolicies == true) && plan.outcome?.isPanic != true
            ? await PolicyWatch.arm(plan, target: target) : nil
        let results: [Executor.StepResult]
        do {
            results = try await Executor(target: target, files: files).execute(plan)
        } catch {
            if armed != nil { verifier?.removeInstance() }
            try journalFailure(of: intent, error)
            throw error
        }
        var outcome = Outcome(results: results)
        if let verifier, let armed {
            let collecting = HostClock.monotonicNanoseconds()
            (outcome.findings, outcome.panic) = await verifier.collect(
                plan, armed: armed, timeoutSeconds: verifyTimeout)
            if let policyArmed, outcome.panic == nil {
                let actions = await PolicyWatch.collect(policyArmed, target: target, since: collecting)
                outcome.policies = actions
                // expect=policy:NAME: that policy acted on the page at this error.
                if case .policy(let name) = plan.outcome {
                    outcome.findings?.append(PolicyWatch.finding(name, pfn: policyArmed.pfn, actions: actions))
                }
            } else if case .policy(let name) = plan.outcome, outcome.panic == nil {
                outcome.findings?.append(
                    Verifier.Finding(
                        kind: .outcome, expected: "a \(name) policy acts on the request's page", matched: false,
                        evidence: "the kernel log and rasdaemon's log cannot be read on \(target.summary)"))
            }
        } else if plan.outcome?.isPanic == true {
            // Declared fatal: wait for it, so that the journal holds it and the guest comes back.
            outcome.panic = panics.awaitPanic(seconds: verifyTimeout)
        }
        // What the victim's SIGBUS carried, as the victim's handler wrote it.
        if let victim, outcome.findings != nil, outcome.panic == nil {
            outcome.findings?.append(await victim.sigbusFinding(on: target))
        }
        if let panic = outcome.panic {
            let restarting = HostClock.monotonicNanoseconds()
            outcome.restartSeconds = await restart(panics, after: panic)
            // The platform's record of the panic, where the restarted kernel has a persistent store.
            if outcome.restartSeconds != nil, outcome.findings != nil,
                let stored = await PersistentPanicRecord.finding(target, panic: panic, since: restarting)
            {
                outcome.findings?.append(stored)
            }
        }
        // The journal's outcome counts every finding, the stored record's too.
        var record = intent.outcome(Self.result(of: outcome, declared: plan.outcome))
        if let findings = outcome.findings {
            record.verified = "\(findings.filter(\.matched).count) of \(findings.count) expected events"
        }
        if let panic = outcome.panic {
            record.panic = panic.message
            record.restarted = target.guest != nil ? outcome.restartSeconds != nil : nil
        }
        try journalOutcomes([record])
        return outcome
    }

    /// How an injection that ran every step ended: `panicked` for a panic it did not declare,
    /// `unverified` for a missed event, else `ok`.
    static func result(of outcome: Outcome, declared: ExpectedOutcome?) -> JournalRecord.Result {
        if outcome.panic != nil && declared?.isPanic != true { return .panicked }
        if let findings = outcome.findings, !findings.allSatisfy(\.matched) { return .unverified }
        return .ok
    }

    /// Boots the guest again after `panic`; the seconds it took, or `nil` (a failure is told).
    private func restart(_ panics: PanicWatch, after panic: GuestPanic) async -> Double? {
        do throws(TargetError) {
            return try await panics.restart()
        } catch {
            problems(["the guest did not come back after the panic: \(error)"])
            return nil
        }
    }

    // MARK: - Journal records

    /// Journals the intents of `plans` in one write, flushed before anything runs.
    ///
    /// - Returns: the intents, for their outcomes.
    /// - Throws: ``InjectError/journal(_:)`` when they could not be written.
    func journalIntents(_ plans: [InjectionPlan]) throws(InjectError) -> [JournalRecord] {
        let records = plans.map { JournalRecord.intent(of: $0, on: target) }
        if let journal, let problem = journal.append(contentsOf: records) {
            throw .journal(.intent(path: journal.path, reason: problem))
        }
        return records
    }

    /// Journals outcomes in one write.
    ///
    /// - Throws: ``InjectError/journal(_:)`` naming the first record's result.
    func journalOutcomes(_ records: [JournalRecord]) throws(InjectError) {
        guard let journal, let problem = journal.append(contentsOf: records) else { return }
        throw .journal(.outcome(path: journal.path, reason: problem, outcome: records.first?.outcome?.rawValue ?? "ok"))
    }

    /// Journals the failure of `intent`; a journal that fails too is said after the step's failure.
    private func journalFailure(of intent: JournalRecord, _ error: InjectError) throws(InjectError) {
        guard let journal, let problem = journal.append(intent.outcome(.failed, error: error.description)) else {
            return
        }
        throw .stepFailedUnjournaled(
            error.description, journal: JournalError.outcome(path: journal.path, reason: problem, outcome: "failed"))
    }
}
