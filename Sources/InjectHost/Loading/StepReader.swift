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
            return context.violate("inject_step.struct_size \(pointer.loadUnaligned(as: UInt32.self)) is smaller than ABI 1.0's \(INJECT_STEP_SIZE_1_0)")
        }
        let hasABI1_1Fields = size >= INJECT_STEP_SIZE_1_1
        let action: PlannedStep.Action
        switch step.kind {
        case INJECT_STEP_WRITE_ATTRIBUTE.rawValue:
            guard let path = string(step.path), let value = string(step.value) else {
                return context.violate("a write step needs path and value")
            }
            guard let target = try? TargetPath(path) else {
                return context.violate(TargetError.unsafePath(path).description)
            }
            action = .writeAttribute(path: target, value: value)
        case INJECT_STEP_QMP.rawValue:
            guard let command = string(step.command), !command.isEmpty else {
                return context.violate("a QMP step needs a command")
            }
            var arguments: JSONValue?
            if let text = string(step.arguments), !text.trimmed().isEmpty {
                guard let parsed = try? JSONValue.parse(text), case .object = parsed else {
                    return context.violate("QMP arguments for \(command) are not a JSON object: \(text)")
                }
                arguments = parsed
            }
            action = .qmp(command: command, arguments: arguments)
        case INJECT_STEP_EXEC.rawValue:
            guard step.argc > 0, step.argc <= 256, let argv = step.argv else {
                return context.violate("an exec step needs 1...256 arguments")
            }
            var words: [String] = []
            for index in 0..<Int(step.argc) {
                guard let word = string(argv[index]) else { return context.violate("exec argv[\(index)] is NULL") }
                words.append(word)
            }
            action = .exec(argv: words)
        case INJECT_STEP_WRITE_MEMORY.rawValue:
            guard step.data_length > 0, step.data_length <= 1 << 20, let data = step.data else {
                return context.violate("a memory step needs 1 byte to 1 MiB of data")
            }
            action = .writeMemory(address: step.address, bytes: Array(UnsafeBufferPointer(start: data, count: step.data_length)))
        case INJECT_STEP_NOTIFY.rawValue:
            guard let backend = string(step.backend), !backend.isEmpty else {
                return context.violate("a notify step needs a backend name")
            }
            if size >= INJECT_STEP_SIZE_1_2 && step.argument_count > 0 {
                guard step.argument_count <= 256, let names = step.argument_names, let values = step.argument_values else {
                    return context.violate("a notify step's arguments need 1...256 names and values")
                }
                var assignments: [ParameterAssignment] = []
                for index in 0..<Int(step.argument_count) {
                    guard let name = string(names[index]), let value = string(values[index]) else {
                        return context.violate("notify argument \(index) has a NULL name or value")
                    }
                    assignments.append(ParameterAssignment(name, .text(value)))
                }
                action = .notify(backend: backend, assignments: assignments)
            } else {
                let words = (string(step.arguments) ?? "").split(separator: " ").map(String.init)
                guard let request = try? InjectionRequest(backend, words: words) else {
                    return context.violate("notify arguments must be name=value words: \(string(step.arguments) ?? "")")
                }
                action = .notify(backend: backend, assignments: request.assignments)
            }
        case INJECT_STEP_SLEEP.rawValue:
            guard step.microseconds <= 60_000_000 else { return context.violate("a sleep step may last at most 60 s") }
            action = .sleep(microseconds: step.microseconds)
        case INJECT_STEP_REPEAT.rawValue:
            guard hasABI1_1Fields else { return context.violate("a repeat step needs ABI 1.1's inject_step (struct_size \(INJECT_STEP_SIZE_1_1))") }
            let count = Int(step.repeat_steps)
            guard count >= 1, count <= context.steps.count else {
                return context.violate("a repeat step covers 1...\(context.steps.count) earlier steps, not \(count)")
            }
            guard !context.steps.suffix(count).contains(where: { if case .repeatSteps = $0.action { true } else { false } }) else {
                return context.violate("a repeat step may not repeat another repeat step")
            }
            guard step.repeat_times >= 1, step.repeat_times <= 10_000_000 else {
                return context.violate("a repeat step runs 1...10000000 more times, not \(step.repeat_times)")
            }
            guard step.microseconds <= 60_000_000 else { return context.violate("a repeat step pauses at most 60 s") }
            action = .repeatSteps(count: count, times: step.repeat_times, intervalMicroseconds: step.microseconds)
        case INJECT_STEP_IPMI.rawValue:
            guard step.data_length >= 2, step.data_length <= 64, let data = step.data else {
                return context.violate("an IPMI step needs 2...64 bytes: network function, command, request data")
            }
            let bytes = Array(UnsafeBufferPointer(start: data, count: step.data_length))
            action = .ipmi(IPMIRequest(netFunction: bytes[0], command: bytes[1], data: Array(bytes.dropFirst(2))))
        case INJECT_STEP_WAIT_MEMORY_ZERO.rawValue:
            guard step.microseconds <= 60_000_000 else { return context.violate("a wait step waits at most 60 s") }
            action = .waitMemoryZero(address: step.address, microseconds: step.microseconds)
        case INJECT_STEP_WRITE_DEVICE.rawValue:
            guard let path = string(step.path), step.data_length > 0, step.data_length <= 4096, let data = step.data else {
                return context.violate("a device write step needs a path and 1...4096 bytes of data")
            }
            guard let target = try? TargetPath(path) else {
                return context.violate(TargetError.unsafePath(path).description)
            }
            action = .writeDevice(path: target, bytes: Array(UnsafeBufferPointer(start: data, count: step.data_length)))
        default:
            return context.violate("unknown step kind \(step.kind) (ABI \(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR) knows 1...10)")
        }
        context.steps.append(PlannedStep(action: action, backend: context.backend, note: string(step.note),
                                         hint: string(step.hint), isTrigger: step.flags & UInt32(INJECT_STEP_TRIGGER) != 0))
        return INJECT_OK.rawValue
    }

    /// Reads the expectation at `pointer` (only up to its `struct_size`) into the call's plan.
    static func expect(_ pointer: UnsafeRawPointer, to context: CallContext) -> Int32 {
        guard context.mode == .plan else { return context.violate("expect called outside plan") }
        guard let (expectation, _) = ABIStruct.read(pointer, as: inject_expectation.self, minimum: INJECT_EXPECTATION_SIZE_1_0) else {
            return context.violate("inject_expectation.struct_size is smaller than ABI 1.0's \(INJECT_EXPECTATION_SIZE_1_0)")
        }
        let kind: ExpectedEvent.Kind
        switch expectation.kind {
        case INJECT_EXPECT_TRACE_EVENT.rawValue: kind = .traceEvent
        case INJECT_EXPECT_KERNEL_LOG.rawValue: kind = .kernelLog
        case INJECT_EXPECT_COUNTER.rawValue: kind = .counter
        default: return context.violate("unknown expectation kind \(expectation.kind)")
        }
        context.expectations.append(ExpectedEvent(kind: kind, source: string(expectation.source),
                                                  match: string(expectation.match), delta: expectation.delta,
                                                  note: string(expectation.note)))
        return INJECT_OK.rawValue
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
