import InjectPluginABI

/// Copies and checks the steps and expectations a plugin hands over during `plan`. Anything
/// malformed is a contract violation that fails the call; nothing is half-accepted.
enum StepReader {
    /// Reads the step at `pointer` (only up to its `struct_size`) and appends it to the call's plan.
    /// The most steps one plan may hold (a repeat step counts once: it costs time, not memory).
    static let maximumSteps = 1_000_000

    static func add(_ pointer: UnsafeRawPointer, to context: CallContext) -> Int32 {
        guard context.mode == .plan else { return context.violate("add_step called outside plan") }
        guard context.steps.count < maximumSteps else {
            return context.violate("more than \(maximumSteps) steps in one plan; use a repeat step for storms")
        }
        guard let (step, size) = ABIStruct.read(pointer, as: inject_step.self, minimum: INJECT_STEP_SIZE_1_0) else {
            return context.violate(
                "inject_step.struct_size \(pointer.loadUnaligned(as: UInt32.self)) is smaller than ABI 1.0's \(INJECT_STEP_SIZE_1_0)"
            )
        }
        guard let kind = StepKinds.table[step.kind] else {
            let known = StepKinds.knownRange
            return context.violate(
                "unknown step kind \(step.kind) (ABI \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR) knows \(known.lowerBound)...\(known.upperBound))"
            )
        }
        let action: any StepAction
        do throws(StepContractViolation) {
            action = try kind.read(step, size: size, earlier: context.steps)
        } catch {
            return context.violate(error.message)
        }
        context.steps.append(
            PlannedStep(
                action: action, backend: context.backend, note: string(step.note),
                hint: string(step.hint), isTrigger: step.flags & UInt32(INJECT_STEP_TRIGGER) != 0))
        return INJECT_OK.rawValue
    }

    /// Reads the expectation at `pointer` (only up to its `struct_size`) into the call's plan.
    static func expect(_ pointer: UnsafeRawPointer, to context: CallContext) -> Int32 {
        guard context.mode == .plan else { return context.violate("expect called outside plan") }
        guard
            let (expectation, _) = ABIStruct.read(
                pointer, as: inject_expectation.self, minimum: INJECT_EXPECTATION_SIZE_1_0)
        else {
            return context.violate(
                "inject_expectation.struct_size is smaller than ABI 1.0's \(INJECT_EXPECTATION_SIZE_1_0)")
        }
        let kind: ExpectedEvent.Kind
        switch expectation.kind {
        case INJECT_EXPECT_TRACE_EVENT.rawValue: kind = .traceEvent
        case INJECT_EXPECT_KERNEL_LOG.rawValue: kind = .kernelLog
        case INJECT_EXPECT_COUNTER.rawValue: kind = .counter
        default: return context.violate("unknown expectation kind \(expectation.kind)")
        }
        context.expectations.append(
            ExpectedEvent(
                kind: kind, source: string(expectation.source),
                match: string(expectation.match), delta: expectation.delta,
                note: string(expectation.note)))
        return INJECT_OK.rawValue
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
