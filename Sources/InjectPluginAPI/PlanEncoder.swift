import InjectPluginABI

/// Hands a ``Plan`` to the host, one service call per step, expectation and confirmation reason.
/// Every pointer passed is borrowed for the duration of the call: the host copies what it keeps.
struct PlanEncoder {
    let host: UnsafePointer<inject_host_api>
    let call: OpaquePointer?
    /// The negotiated ABI minor: steps a host of that version does not know are refused here.
    let minor: UInt16

    func submit(_ plan: Plan) throws -> Int32 {
        // Every step is checked against the negotiated version before the first is handed over.
        for step in plan.steps {
            if let needed = step.action.minimumMinor, needed > minor {
                throw BackendError.unsupported(
                    "this request needs a host of ABI 1.\(needed) or later (\(step.action.name) steps); this host speaks 1.\(minor): update inject"
                )
            }
            if case .notify(_, let arguments) = step.action, minor < 2,
                arguments.contains(where: { $0.value.contains(" ") || $0.value.isEmpty })
            {
                throw BackendError.unsupported(
                    "a notification argument holds a space or is empty, which a host of ABI 1.\(minor) cannot carry: update inject"
                )
            }
        }
        for expectation in plan.expectations {
            if case .counterExact(let path, _, _) = expectation, minor < 3 {
                throw BackendError.unsupported(
                    "this request expects \(path) to move by an exact count, which a host of ABI 1.\(minor) cannot check (1.3 can): update inject"
                )
            }
            switch expectation {
            case .counter(let path, _, _) where path.contains("#") && minor < 4,
                .counterExact(let path, _, _) where path.contains("#") && minor < 4:
                throw BackendError.unsupported(
                    "this request reads the keyed counter \(path), which a host of ABI 1.\(minor) cannot (1.4 can): update inject"
                )
            default: break
            }
        }
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
                return add(step.action, &c)
            }
        }
    }

    /// Fills the kind's fields of `c` and hands it to the host (the strings and buffers it points
    /// to live for the call).
    private func add(_ action: PlanStep.Action, _ c: inout inject_step) -> Int32 {
        switch action {
        case .writeAttribute(let path, let value):
            c.kind = INJECT_STEP_WRITE_ATTRIBUTE.rawValue
            return path.withCString { p in
                value.withCString { v in
                    c.path = p
                    c.value = v
                    return host.pointee.add_step(call, &c)
                }
            }
        case .qmp(let command, let arguments):
            c.kind = INJECT_STEP_QMP.rawValue
            return command.withCString { cmd in
                withOptionalCString(arguments) { args in
                    c.command = cmd
                    c.arguments = args
                    return host.pointee.add_step(call, &c)
                }
            }
        case .exec(let argv):
            c.kind = INJECT_STEP_EXEC.rawValue
            return addExec(argv, &c)
        case .writeMemory(let address, let bytes):
            c.kind = INJECT_STEP_WRITE_MEMORY.rawValue
            c.address = address
            return addBytes(bytes, &c)
        case .notify(let backend, let arguments):
            c.kind = INJECT_STEP_NOTIFY.rawValue
            return addNotify(backend, arguments, &c)
        case .sleep(let microseconds):
            c.kind = INJECT_STEP_SLEEP.rawValue
            c.microseconds = microseconds
            return host.pointee.add_step(call, &c)
        case .ipmi(let netFunction, let command, let data):
            c.kind = INJECT_STEP_IPMI.rawValue
            return addBytes([netFunction, command] + data, &c)
        case .waitMemoryZero(let address, let timeout):
            c.kind = INJECT_STEP_WAIT_MEMORY_ZERO.rawValue
            c.address = address
            c.microseconds = timeout
            return host.pointee.add_step(call, &c)
        case .writeDevice(let path, let bytes):
            c.kind = INJECT_STEP_WRITE_DEVICE.rawValue
            return path.withCString { p in
                c.path = p
                return addBytes(bytes, &c)
            }
        case .repeatSteps(let count, let times, let interval):
            c.kind = INJECT_STEP_REPEAT.rawValue
            c.repeat_steps = UInt32(clamping: count)
            c.repeat_times = times
            c.microseconds = interval
            return host.pointee.add_step(call, &c)
        }
    }

    /// `c` with `bytes` as its data.
    private func addBytes(_ bytes: [UInt8], _ c: inout inject_step) -> Int32 {
        bytes.withUnsafeBufferPointer { buffer in
            c.data = buffer.baseAddress
            c.data_length = buffer.count
            return host.pointee.add_step(call, &c)
        }
    }

    /// `c` with `argv` as its command line.
    private func addExec(_ argv: [String], _ c: inout inject_step) -> Int32 {
        let copies = argv.map { permanentCString($0) }
        defer { copies.forEach { $0.deallocate() } }
        let pointers = copies.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        return pointers.withUnsafeBufferPointer { buffer in
            c.argv = buffer.baseAddress
            c.argc = UInt32(argv.count)
            return host.pointee.add_step(call, &c)
        }
    }

    /// `c` naming `backend`, its arguments as 1.0's words and, for a 1.2 host, as names and values.
    private func addNotify(_ backend: String, _ arguments: [String: String], _ c: inout inject_step) -> Int32 {
        let sorted = arguments.sorted { $0.key < $1.key }
        let text = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let names = sorted.map { permanentCString($0.key) }
        let values = sorted.map { permanentCString($0.value) }
        defer { (names + values).forEach { $0.deallocate() } }
        let namePointers = names.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        let valuePointers = values.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        return backend.withCString { b in
            text.withCString { a in
                namePointers.withUnsafeBufferPointer { n in
                    valuePointers.withUnsafeBufferPointer { v in
                        c.backend = b
                        c.arguments = a
                        if minor >= 2 {
                            c.argument_names = n.baseAddress
                            c.argument_values = v.baseAddress
                            c.argument_count = UInt32(sorted.count)
                        }
                        return host.pointee.add_step(call, &c)
                    }
                }
            }
        }
    }

    private func expect(_ expectation: Expectation) -> Int32 {
        var c = inject_expectation()
        c.struct_size = UInt32(MemoryLayout<inject_expectation>.size)
        let (kind, source, match, delta, note): (inject_expect_kind, String?, String?, Int64, String?)
        switch expectation {
        case .traceEvent(let event, let fields, let n):
            (kind, source, match, delta, note) = (INJECT_EXPECT_TRACE_EVENT, event, fields, 0, n)
        case .kernelLog(let text, let n):
            (kind, source, match, delta, note) = (INJECT_EXPECT_KERNEL_LOG, nil, text, 0, n)
        case .counter(let path, let d, let n):
            (kind, source, match, delta, note) = (INJECT_EXPECT_COUNTER, path, nil, d, n)
        case .counterExact(let path, let d, let n):
            (kind, source, match, delta, note) = (INJECT_EXPECT_COUNTER, path, INJECT_EXPECT_MATCH_EXACT, d, n)
        }
        c.kind = kind.rawValue
        c.delta = delta
        return withOptionalCString(source) { s in
            withOptionalCString(match) { m in
                withOptionalCString(note) { n in
                    c.source = s
                    c.match = m
                    c.note = n
                    return host.pointee.expect(call, &c)
                }
            }
        }
    }
}

extension PlanStep.Action {
    /// The ABI minor that introduced this kind of step, when later than 1.0.
    var minimumMinor: UInt16? {
        switch self {
        case .repeatSteps, .ipmi, .waitMemoryZero: return 1
        case .writeDevice: return 4
        default: return nil
        }
    }

    /// The kind's name, for messages.
    var name: String {
        switch self {
        case .writeAttribute: return "attribute write"
        case .qmp: return "QMP"
        case .exec: return "exec"
        case .writeMemory: return "memory write"
        case .notify: return "notify"
        case .sleep: return "sleep"
        case .repeatSteps: return "repeat"
        case .ipmi: return "IPMI"
        case .waitMemoryZero: return "wait-for-zero"
        case .writeDevice: return "device write"
        }
    }
}

/// Calls `body` with a C string for `string`, or with `nil`.
func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
