import InjectPluginABI

/// Hands a ``Plan`` to the host, one service call per step, expectation and confirmation reason.
/// Every pointer passed is borrowed for the duration of the call: the host copies what it keeps.
struct PlanEncoder {
    let host: UnsafePointer<inject_host_api>
    let call: OpaquePointer?

    func submit(_ plan: Plan) throws -> Int32 {
        for step in plan.steps {
            let rc = add(step)
            guard rc == INJECT_OK.rawValue else { return rc }
        }
        for expectation in plan.expectations {
            let rc = expect(expectation)
            guard rc == INJECT_OK.rawValue else { return rc }
        }
        for reason in plan.confirmationReasons {
            let rc = host.pointee.require_confirmation(call, reason)
            guard rc == INJECT_OK.rawValue else { return rc }
        }
        return INJECT_OK.rawValue
    }

    private func add(_ step: PlanStep) -> Int32 {
        var c = inject_step()
        c.struct_size = UInt32(MemoryLayout<inject_step>.size)
        c.flags = step.isTrigger ? UInt32(INJECT_STEP_TRIGGER) : 0
        return withOptionalCString(step.note) { note in
            withOptionalCString(step.hint) { hint in
                c.note = note
                c.hint = hint
                switch step.action {
                case .writeAttribute(let path, let value):
                    c.kind = INJECT_STEP_WRITE_ATTRIBUTE.rawValue
                    return path.withCString { p in value.withCString { v in
                        c.path = p; c.value = v
                        return host.pointee.add_step(call, &c)
                    } }
                case .qmp(let command, let arguments):
                    c.kind = INJECT_STEP_QMP.rawValue
                    return command.withCString { cmd in withOptionalCString(arguments) { args in
                        c.command = cmd; c.arguments = args
                        return host.pointee.add_step(call, &c)
                    } }
                case .exec(let argv):
                    c.kind = INJECT_STEP_EXEC.rawValue
                    let copies = argv.map { permanentCString($0) }
                    defer { copies.forEach { $0.deallocate() } }
                    let pointers = copies.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
                    return pointers.withUnsafeBufferPointer { buffer in
                        c.argv = buffer.baseAddress; c.argc = UInt32(argv.count)
                        return host.pointee.add_step(call, &c)
                    }
                case .writeMemory(let address, let bytes):
                    c.kind = INJECT_STEP_WRITE_MEMORY.rawValue
                    c.address = address
                    return bytes.withUnsafeBufferPointer { buffer in
                        c.data = buffer.baseAddress; c.data_length = buffer.count
                        return host.pointee.add_step(call, &c)
                    }
                case .notify(let backend, let arguments):
                    c.kind = INJECT_STEP_NOTIFY.rawValue
                    let text = arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    return backend.withCString { b in text.withCString { a in
                        c.backend = b; c.arguments = a
                        return host.pointee.add_step(call, &c)
                    } }
                case .sleep(let microseconds):
                    c.kind = INJECT_STEP_SLEEP.rawValue
                    c.microseconds = microseconds
                    return host.pointee.add_step(call, &c)
                case .ipmi(let netFunction, let command, let data):
                    c.kind = INJECT_STEP_IPMI.rawValue
                    return ([netFunction, command] + data).withUnsafeBufferPointer { buffer in
                        c.data = buffer.baseAddress; c.data_length = buffer.count
                        return host.pointee.add_step(call, &c)
                    }
                case .waitMemoryZero(let address, let timeout):
                    c.kind = INJECT_STEP_WAIT_MEMORY_ZERO.rawValue
                    c.address = address
                    c.microseconds = timeout
                    return host.pointee.add_step(call, &c)
                case .repeatSteps(let count, let times, let interval):
                    c.kind = INJECT_STEP_REPEAT.rawValue
                    c.repeat_steps = UInt32(clamping: count)
                    c.repeat_times = times
                    c.microseconds = interval
                    return host.pointee.add_step(call, &c)
                }
            }
        }
    }

    private func expect(_ expectation: Expectation) -> Int32 {
        var c = inject_expectation()
        c.struct_size = UInt32(MemoryLayout<inject_expectation>.size)
        let (kind, source, match, delta, note): (inject_expect_kind, String?, String?, Int64, String?)
        switch expectation {
        case .traceEvent(let event, let fields, let n): (kind, source, match, delta, note) = (INJECT_EXPECT_TRACE_EVENT, event, fields, 0, n)
        case .kernelLog(let text, let n): (kind, source, match, delta, note) = (INJECT_EXPECT_KERNEL_LOG, nil, text, 0, n)
        case .counter(let path, let d, let n): (kind, source, match, delta, note) = (INJECT_EXPECT_COUNTER, path, nil, d, n)
        }
        c.kind = kind.rawValue
        c.delta = delta
        return withOptionalCString(source) { s in withOptionalCString(match) { m in withOptionalCString(note) { n in
            c.source = s; c.match = m; c.note = n
            return host.pointee.expect(call, &c)
        } } }
    }
}

/// Calls `body` with a C string for `string`, or with `nil`.
func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
