import InjectPluginABI

/// The argument of the exported C entry, `inject_plugin_entry`.
public typealias PluginEntry = UnsafeMutablePointer<inject_entry>?

/// Answers the host's entry call for the backend type `backend`: negotiates the ABI version (the
/// lower of the host's minor and this SDK's), builds the C descriptor once, and routes `probe`,
/// `plan` and `decode` to a single instance, using only what the negotiated version has.
///
/// Call it from the one exported function of your plugin:
///
/// ```swift
/// @_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(MyBackend.self, e) }
/// ```
///
/// - Parameters:
///   - backend: the type implementing ``InjectBackend``.
///   - entry: the host's entry record.
/// - Returns: `INJECT_OK`, or `INJECT_E_ABI` when the host speaks another major version.
public func export<B: InjectBackend>(_ backend: B.Type, _ entry: PluginEntry) -> Int32 {
    guard let entry else { return INJECT_E_INVALID.rawValue }
    guard entry.pointee.host_abi_major == INJECT_ABI_MAJOR, let host = entry.pointee.host else {
        entry.pointee.refuse(
            INJECT_E_ABI,
            "plugin speaks ABI \(INJECT_ABI_MAJOR).x, host offered \(entry.pointee.host_abi_major).\(entry.pointee.host_abi_minor)"
        )
        return INJECT_E_ABI.rawValue
    }
    let minor = min(entry.pointee.host_abi_minor, UInt16(INJECT_ABI_MINOR))
    let exported = ExportedBackend(
        backend.init(), descriptor: backend.descriptor, host: HostTable.copy(host), minor: minor)
    entry.pointee.descriptor = UnsafePointer(exported.descriptor)
    return INJECT_OK.rawValue
}

extension inject_entry {
    /// Fills the refusal fields.
    mutating func refuse(_ code: inject_result, _ message: String) {
        error_code = code.rawValue
        withUnsafeMutableBytes(of: &error_message) { buffer in
            let bytes = Array(message.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
    }
}

/// The live backend and its C descriptor. Created once per load and never freed: the descriptor
/// must outlive every call, and the host never unloads a plugin.
final class ExportedBackend {
    let backend: any InjectBackend
    let host: UnsafePointer<inject_host_api>
    let descriptor: UnsafeMutablePointer<inject_plugin_descriptor>
    /// The negotiated ABI minor version.
    let minor: UInt16

    init(
        _ backend: any InjectBackend, descriptor info: BackendDescriptor, host: UnsafePointer<inject_host_api>,
        minor: UInt16
    ) {
        self.backend = backend
        self.host = host
        self.minor = minor
        descriptor = .allocate(capacity: 1)
        // A host older than 1.3 knows no file parameters: they are left out, and a plan that
        // needs one finds it unset and says so.
        let parameters = info.parameters.filter { minor >= 3 || $0.kind != .file }
        let params = UnsafeMutablePointer<inject_param_spec>.allocate(capacity: max(parameters.count, 1))
        for (index, parameter) in parameters.enumerated() {
            let shape = parameter.kind.abiShape
            var spec = inject_param_spec()
            spec.struct_size = UInt32(MemoryLayout<inject_param_spec>.size)
            spec.type = shape.type.rawValue
            spec.name = UnsafePointer(permanentCString(parameter.name))
            spec.help = UnsafePointer(permanentCString(parameter.help))
            spec.unit = parameter.unit.map { UnsafePointer(permanentCString($0)) }
            spec.default_value = parameter.defaultValue.map { UnsafePointer(permanentCString($0)) }
            spec.choices = permanentCStringArray(shape.choices)
            spec.choice_count = UInt32(shape.choices.count)
            spec.flags = parameter.isRequired ? UInt32(INJECT_PARAM_REQUIRED) : 0
            if let bounds = shape.bounds {
                spec.flags |= UInt32(INJECT_PARAM_HAS_RANGE)
                spec.min = bounds.min
                spec.max = bounds.max
            }
            (params + index).initialize(to: spec)
        }
        var d = inject_plugin_descriptor()
        d.struct_size = UInt32(MemoryLayout<inject_plugin_descriptor>.size)
        d.abi_major = UInt16(INJECT_ABI_MAJOR)
        d.abi_minor = minor
        d.name = UnsafePointer(permanentCString(info.name))
        d.version = UnsafePointer(permanentCString(info.version))
        d.summary = UnsafePointer(permanentCString(info.summary))
        d.families = permanentCStringArray(info.families)
        d.family_count = UInt32(info.families.count)
        d.params = UnsafePointer(params)
        d.param_count = UInt32(parameters.count)
        d.probe = { state, call in ExportedBackend.from(state).runProbe(call) }
        d.plan = { state, call, values, count in ExportedBackend.from(state).runPlan(call, values, Int(count)) }
        if minor >= 2 {
            d.kernel_modules = permanentCStringArray(info.kernelModules)
            d.kernel_module_count = UInt32(info.kernelModules.count)
            d.trace_events = permanentCStringArray(info.traceEvents)
            d.trace_event_count = UInt32(info.traceEvents.count)
            d.log_markers = permanentCStringArray(info.logMarkers)
            d.log_marker_count = UInt32(info.logMarkers.count)
            d.decode = { state, call, event, payload in ExportedBackend.from(state).runDecode(call, event, payload) }
            if minor < 5 { d.struct_size = INJECT_DESCRIPTOR_SIZE_1_2 }
            if minor >= 5 {
                d.loss_markers = permanentCStringArray(info.lossMarkers.map(\.match))
                d.loss_reasons = permanentCStringArray(info.lossMarkers.map(\.reason))
                d.loss_marker_count = UInt32(info.lossMarkers.count)
                let tables = info.consumerTables.sorted { $0.key < $1.key }
                d.consumer_events = permanentCStringArray(tables.map(\.key))
                d.consumer_tables = permanentCStringArray(tables.map(\.value))
                d.consumer_table_count = UInt32(tables.count)
            }
        } else {
            // An older host reads the descriptor only up to the size its version had.
            d.struct_size = INJECT_DESCRIPTOR_SIZE_1_0
        }
        descriptor.initialize(to: d)
        descriptor.pointee.state = Unmanaged.passRetained(self).toOpaque()
    }

    static func from(_ state: UnsafeMutableRawPointer?) -> ExportedBackend {
        Unmanaged<ExportedBackend>.fromOpaque(state!).takeUnretainedValue()
    }

    func runProbe(_ call: OpaquePointer?) -> Int32 {
        let target = Target(call: call, host: host)
        return reportingErrors(call) {
            for capability in try backend.probe(target) {
                let rc = capability.name.withCString { name in
                    capability.detail.withCString { detail in
                        var c = inject_capability()
                        c.struct_size = UInt32(MemoryLayout<inject_capability>.size)
                        c.available = capability.isAvailable ? 1 : 0
                        c.name = name
                        c.detail = detail
                        return host.pointee.report_capability(call, &c)
                    }
                }
                guard rc == INJECT_OK.rawValue else { return rc }
            }
            return INJECT_OK.rawValue
        }
    }

    func runPlan(_ call: OpaquePointer?, _ values: UnsafePointer<inject_param_value>?, _ count: Int) -> Int32 {
        let request = PlanRequest(
            parameters: ParameterValues(values, count: count),
            target: Target(call: call, host: host))
        return reportingErrors(call) {
            try PlanEncoder(host: host, call: call, minor: minor).submit(try backend.plan(request))
        }
    }

    func runDecode(_ call: OpaquePointer?, _ event: UnsafePointer<CChar>?, _ payload: UnsafePointer<CChar>?) -> Int32 {
        guard let event, let payload, let add = host.pointee.add_field else { return INJECT_E_INVALID.rawValue }
        for (name, value) in backend.decode(event: String(cString: event), payload: String(cString: payload)).sorted(
            by: { $0.key < $1.key })
        {
            let rc = add(call, name, value)
            guard rc == INJECT_OK.rawValue else { return rc }
        }
        return INJECT_OK.rawValue
    }

    /// Runs `body`, turning a thrown error into `set_error` plus its code.
    func reportingErrors(_ call: OpaquePointer?, _ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let error as BackendError {
            host.pointee.set_error(call, error.code.rawValue, error.message)
            return error.code.rawValue
        } catch {
            host.pointee.set_error(call, INJECT_E_FAILED.rawValue, "\(error)")
            return INJECT_E_FAILED.rawValue
        }
    }
}

/// A NUL-terminated copy of `string` that lives until the process exits.
func permanentCString(_ string: String) -> UnsafeMutablePointer<CChar> {
    let utf8 = Array(string.utf8CString)
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
    pointer.initialize(from: utf8, count: utf8.count)
    return pointer
}

/// A C array of permanent strings, or `nil` when `strings` is empty.
func permanentCStringArray(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?>? {
    guard !strings.isEmpty else { return nil }
    let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: strings.count)
    for (index, string) in strings.enumerated() {
        (array + index).initialize(to: UnsafePointer(permanentCString(string)))
    }
    return UnsafePointer(array)
}
