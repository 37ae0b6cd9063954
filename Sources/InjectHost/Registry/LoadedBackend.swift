import InjectPluginABI

/// A plugin that answered its entry and passed validation. Its code stays loaded for the life of
/// the process.
public final class LoadedBackend: @unchecked Sendable {
    /// Name, version, schema, and where it came from.
    public let info: BackendInfo
    private let implementation: Implementation

    /// A plugin compiled against the C ABI, or a vendor library described by a manifest.
    private enum Implementation {
        /// The descriptor as read once at load time (only up to its `struct_size`): the plugin
        /// promises it never changes.
        case native(inject_plugin_descriptor)
        case manifest(ManifestBackend)
    }

    init(info: BackendInfo, descriptor: inject_plugin_descriptor) {
        self.info = info
        self.implementation = .native(descriptor)
    }

    init(manifest: ManifestBackend) {
        self.info = manifest.info
        self.implementation = .manifest(manifest)
    }

    /// The files this backend was loaded from: the shared object, or the manifest and its library.
    public var files: [String] {
        if case .manifest(let manifest) = implementation { return [info.path, manifest.library] }
        return [info.path]
    }

    /// Asks the plugin what `target` supports.
    public func probe(_ target: InjectionTarget, files: any TargetFiles) throws(InjectError) -> [CapabilityReport] {
        guard case .native(let d) = implementation else {
            return [
                CapabilityReport(
                    name: "library", available: true,
                    detail: "vendor library loaded through its manifest (\(info.path))")
            ]
        }
        guard let probe = d.probe else { return [] }
        let context = CallContext(mode: .probe, backend: info.name, target: target, files: files)
        let rc = context.withHandle { call in
            PluginGuard.run(info.name, "probe") { probe(d.state, call) }
        }
        try check(rc, context)
        return context.reportedCapabilities
    }

    /// Asks the plugin for its plan for validated `parameters`.
    func plan(_ parameters: [ResolvedParameter], target: InjectionTarget, files: any TargetFiles) throws(InjectError)
        -> CallContext
    {
        let context = CallContext(mode: .plan, backend: info.name, target: target, files: files)
        guard case .native(let d) = implementation else {
            guard case .manifest(let manifest) = implementation else { return context }
            let call = manifest.vendorCall(parameters)
            context.steps.append(
                PlannedStep(
                    action: call, backend: info.name,
                    note: "the vendor library injects (libffi call into \(manifest.library))", hint: nil,
                    isTrigger: true))
            context.expectations += manifest.expectations.map {
                ExpectedEvent(kind: .kernelLog, source: nil, match: $0, delta: 0, note: nil)
            }
            if let reason = manifest.confirmation { context.confirmationReasons.append(reason) }
            return context
        }
        guard let plan = d.plan else { return context }
        let rc = ParameterMarshal.withValues(parameters) { values, count in
            context.withHandle { call in
                PluginGuard.run(info.name, "plan") { plan(d.state, call, values, count) }
            }
        }
        try check(rc, context)
        return context
    }

    /// Asks the plugin to decode one of its trace events (`system:event` and the kernel's payload)
    /// into named fields; empty when it declares no decoder or fails.
    public func decode(event: String, payload: String, target: InjectionTarget, files: any TargetFiles) -> [(
        name: String, value: String
    )] {
        guard info.decodesEvents, case .native(let d) = implementation, let decode = d.decode else { return [] }
        let context = CallContext(mode: .decode, backend: info.name, target: target, files: files)
        let rc = context.withHandle { call in
            event.withCString { name in
                payload.withCString { text in
                    PluginGuard.run(info.name, "decode") { decode(d.state, call, name, text) }
                }
            }
        }
        guard rc == INJECT_OK.rawValue, context.violation == nil else { return [] }
        return context.fields
    }

    private func check(_ rc: Int32, _ context: CallContext) throws(InjectError) {
        if let violation = context.violation {
            throw .pluginFailed(
                backend: info.name, code: INJECT_E_INVALID.rawValue,
                message: "broke the plugin contract: \(PrintableText.escaped(violation))")
        }
        guard rc == INJECT_OK.rawValue else {
            let message = context.errorMessage ?? "failed without a message (code \(rc))"
            if rc == INJECT_E_INVALID.rawValue && context.mode == .plan {
                throw .invalidRequest(backend: info.name, message: message)
            }
            throw .pluginFailed(backend: info.name, code: rc, message: message)
        }
    }
}

/// Builds the C array of parameter values, keeping every string alive for the call.
enum ParameterMarshal {
    static func withValues<R>(
        _ parameters: [ResolvedParameter],
        _ body: (UnsafePointer<inject_param_value>?, UInt32) -> R
    ) -> R {
        var storage: [[CChar]] = []
        var byteStorage: [[UInt8]] = []
        storage.reserveCapacity(parameters.count * 2)
        for parameter in parameters {
            storage.append(Array(parameter.spec.name.utf8CString))
            storage.append(Array((parameter.value?.text ?? "").utf8CString))
            byteStorage.append(parameter.value.map { $0.fileContents ?? $0.bytes } ?? [])
        }
        return withPointers(storage) { strings in
            withPointers(byteStorage) { bytes in
                var values: [inject_param_value] = []
                for (index, parameter) in parameters.enumerated() {
                    var v = inject_param_value()
                    v.struct_size = UInt32(MemoryLayout<inject_param_value>.size)
                    v.type = abiType(parameter.spec.type).rawValue
                    v.name = strings[index * 2]
                    v.is_set = parameter.value == nil ? 0 : 1
                    v.number = parameter.value?.number ?? 0
                    v.text = strings[index * 2 + 1]
                    v.bytes = bytes[index]
                    v.byte_count = byteStorage[index].count
                    values.append(v)
                }
                return values.withUnsafeBufferPointer { body($0.baseAddress, UInt32($0.count)) }
            }
        }
    }

    /// Calls `body` with stable base pointers of every array.
    private static func withPointers<T, R>(_ arrays: [[T]], _ body: ([UnsafePointer<T>?]) -> R) -> R {
        var pointers: [UnsafeMutableBufferPointer<T>] = []
        defer { pointers.forEach { $0.deallocate() } }
        for array in arrays {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            pointers.append(buffer)
        }
        return body(pointers.map { UnsafePointer($0.baseAddress) })
    }

    static func abiType(_ type: ParameterSpec.ValueType) -> inject_param_type {
        switch type {
        case .u64: return INJECT_PARAM_U64
        case .int: return INJECT_PARAM_INT
        case .bool: return INJECT_PARAM_BOOL
        case .choice: return INJECT_PARAM_ENUM
        case .string: return INJECT_PARAM_STRING
        case .bytes: return INJECT_PARAM_BYTES
        case .address: return INJECT_PARAM_ADDRESS
        case .cpu: return INJECT_PARAM_CPU
        case .cpuList: return INJECT_PARAM_CPU_LIST
        case .size: return INJECT_PARAM_SIZE
        case .file: return INJECT_PARAM_FILE
        }
    }
}
