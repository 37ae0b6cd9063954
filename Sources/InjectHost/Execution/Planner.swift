import InjectPluginABI

/// Builds a complete plan for a request: resolves and validates parameters, asks the backend for
/// its steps, and routes every notification step to the backend it names (plugins never call each
/// other). Nothing touches the target here.
struct Planner {
    let registry: Registry
    let sources: (_ assignments: [ParameterAssignment]) throws(ConfigurationError) -> ConfigurationSources
    let target: InjectionTarget
    let files: any TargetFiles

    /// The deepest chain of notifications followed before declaring a loop.
    static let maximumDepth = 4

    func plan(_ given: InjectionRequest) throws(InjectError) -> InjectionPlan {
        let request: InjectionRequest
        do { request = try given.separatingOutcome() } catch { throw .configuration(error) }
        let backend = try registry.backend(named: request.backend)
        let parameters = try resolve(backend.info, request.assignments)
        var plan = InjectionPlan(
            backend: backend.info.name, parameters: parameters, steps: [], expectations: [],
            confirmationReasons: [], outcome: request.outcome)
        try append(backend, parameters, to: &plan, chain: [backend.info.name])
        try request.outcome?.complete(&plan)
        return plan
    }

    func resolve(_ info: BackendInfo, _ assignments: [ParameterAssignment], requireAll: Bool = true) throws(InjectError)
        -> [ResolvedParameter]
    {
        do {
            let resolver = ParameterResolver(backend: info.name, schema: info.parameters)
            return try resolver.resolve(try sources(assignments), requireAll: requireAll)
        } catch {
            throw .configuration(error)
        }
    }

    private func append(
        _ backend: LoadedBackend, _ parameters: [ResolvedParameter], to plan: inout InjectionPlan,
        chain: [String]
    ) throws(InjectError) {
        let answer = try backend.plan(parameters, target: target, files: files)
        plan.expectations += answer.expectations
        plan.lossMarkers += backend.info.lossMarkers.filter { !plan.lossMarkers.contains($0) }
        plan.consumerTables.merge(backend.info.consumerTables) { first, _ in first }
        plan.confirmationReasons += answer.confirmationReasons
        // Where each of the backend's steps begins in the plan, once notifications are expanded.
        var starts: [Int] = []
        for step in answer.steps {
            starts.append(plan.steps.count)
            if let repeated = step.action as? RepeatStep {
                let first = starts[starts.count - 1 - repeated.count]
                guard !plan.steps[first...].contains(where: { $0.action is RepeatStep }) else {
                    throw .pluginFailed(
                        backend: backend.info.name, code: INJECT_E_INVALID.rawValue,
                        message: "a repeat step covers a notification whose plan repeats steps itself")
                }
                var expanded = step
                expanded.action = RepeatStep(
                    count: plan.steps.count - first, times: repeated.times,
                    intervalMicroseconds: repeated.intervalMicroseconds)
                plan.steps.append(expanded)
                continue
            }
            guard let notify = step.action as? NotifyStep else {
                plan.steps.append(step)
                continue
            }
            guard chain.count < Self.maximumDepth, !chain.contains(notify.backend) else {
                throw .notificationLoop(chain: chain + [notify.backend])
            }
            let notifier = try registry.backend(named: notify.backend)
            try append(
                notifier, try resolve(notifier.info, notify.assignments), to: &plan, chain: chain + [notify.backend])
        }
    }
}
