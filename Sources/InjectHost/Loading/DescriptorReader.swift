import InjectPluginABI

/// Validates a plugin's descriptor completely and copies it into Swift values before any other
/// plugin function runs.
enum DescriptorReader {
    /// The largest schema and family list accepted.
    static let maximumParameters = 256
    static let maximumFamilies = 32

    /// The largest list of modules, trace events or log markers accepted.
    static let maximumDeclarations = 32

    /// Reads the descriptor at `pointer`, only up to the `struct_size` it declares.
    static func read(_ pointer: UnsafeRawPointer, path: String) throws(PluginRefusal.Reason) -> BackendInfo {
        try load(pointer, path: path).info
    }

    /// The descriptor's validated information, and the copy of it (up to its `struct_size`, later
    /// fields zero) through which the host calls the plugin from then on.
    static func load(_ pointer: UnsafeRawPointer, path: String) throws(PluginRefusal.Reason) -> (
        info: BackendInfo, descriptor: inject_plugin_descriptor
    ) {
        guard
            let (d, size) = ABIStruct.read(
                pointer, as: inject_plugin_descriptor.self, minimum: INJECT_DESCRIPTOR_SIZE_1_0)
        else {
            throw .invalidDescriptor(
                "struct_size \(pointer.loadUnaligned(as: UInt32.self)) is smaller than ABI 1.0's \(INJECT_DESCRIPTOR_SIZE_1_0)"
            )
        }
        let hostABI = "\(INJECT_ABI_MAJOR).\(INJECT_ABI_MINOR)"
        let pluginABI = "\(d.abi_major).\(d.abi_minor)"
        guard d.abi_major == INJECT_ABI_MAJOR else { throw .abiMismatch(plugin: pluginABI, host: hostABI) }
        guard d.abi_minor <= INJECT_ABI_MINOR else {
            throw .invalidDescriptor(
                "plugin answered ABI \(pluginABI), newer than the host's \(hostABI); the entry must answer the lower of the host's minor and its own"
            )
        }
        let name = try text(d.name, "name")
        guard isValidName(name, allowDash: true, limit: 32) else {
            throw .invalidDescriptor(
                "backend name '\(PrintableText.escaped(name, limit: 64))' must match [a-z][a-z0-9_-]* and be at most 32 bytes"
            )
        }
        guard d.plan != nil else { throw .invalidDescriptor("\(name): plan is NULL") }
        guard d.family_count <= maximumFamilies, d.family_count == 0 || d.families != nil else {
            throw .invalidDescriptor("\(name): families must be 0...\(maximumFamilies) non-NULL strings")
        }
        var families: [String] = []
        for index in 0..<Int(d.family_count) {
            families.append(try word(d.families![index], "\(name): families[\(index)]"))
        }
        guard d.param_count <= maximumParameters, d.param_count == 0 || d.params != nil else {
            throw .invalidDescriptor("\(name): params must be 0...\(maximumParameters) entries")
        }
        var parameters: [ParameterSpec] = []
        for index in 0..<Int(d.param_count) {
            guard
                let (p, _) = ABIStruct.element(
                    UnsafeRawPointer(d.params!), index, as: inject_param_spec.self, minimum: INJECT_PARAM_SPEC_SIZE_1_0)
            else {
                throw .invalidDescriptor(
                    "\(name): params[\(index)].struct_size is smaller than ABI 1.0's \(INJECT_PARAM_SPEC_SIZE_1_0)")
            }
            let spec = try parameter(p, index: index, backend: name)
            guard !parameters.contains(where: { $0.name == spec.name }) else {
                throw .invalidDescriptor("\(name): parameter '\(spec.name)' is declared twice")
            }
            parameters.append(spec)
        }
        let version = try text(d.version, "version")
        let summary = try text(d.summary, "summary")
        guard version.utf8.count <= 64, summary.utf8.count <= 256 else {
            throw .invalidDescriptor("\(name): version must be at most 64 bytes and summary at most 256")
        }
        var info = BackendInfo(
            name: name, version: PrintableText.escaped(version), summary: PrintableText.escaped(summary),
            families: families, parameters: parameters, path: path, abi: pluginABI)
        if size >= INJECT_DESCRIPTOR_SIZE_1_2 && d.abi_minor >= 2 {
            info.kernelModules = try list(d.kernel_modules, d.kernel_module_count, "\(name): kernel_modules")
            info.traceEvents = try list(d.trace_events, d.trace_event_count, "\(name): trace_events")
            info.logMarkers = try list(d.log_markers, d.log_marker_count, "\(name): log_markers")
            for event in info.traceEvents where event.split(separator: ":").count != 2 {
                throw .invalidDescriptor("\(name): trace event '\(event.prefix(64))' is not system:event")
            }
            info.decodesEvents = d.decode != nil
        }
        if size >= INJECT_DESCRIPTOR_SIZE_1_5 && d.abi_minor >= 5 { try readLossesAndTables(d, into: &info) }
        return (info, d)
    }

    /// The most loss markers a descriptor may declare.
    static let maximumLossMarkers = 8

    /// ABI 1.5: the loss markers (text with `*`, and a reason each) and the consumer's tables.
    private static func readLossesAndTables(_ d: inject_plugin_descriptor, into info: inout BackendInfo)
        throws(PluginRefusal.Reason)
    {
        let name = info.name
        guard d.loss_marker_count <= UInt32(maximumLossMarkers) else {
            throw .invalidDescriptor("\(name): loss_markers must be 0...\(maximumLossMarkers) strings")
        }
        let matches = try list(d.loss_markers, d.loss_marker_count, "\(name): loss_markers")
        let reasons = try list(d.loss_reasons, d.loss_marker_count, "\(name): loss_reasons", limit: 128)
        for match in matches
        where match.contains("\"") || match.contains("\\")
            || match.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            throw .invalidDescriptor(
                "\(name): loss marker '\(PrintableText.escaped(match, limit: 64))' holds a quote, a backslash or a control character"
            )
        }
        info.lossMarkers = zip(matches, reasons).map { KernelLossMarker(match: $0, reason: PrintableText.escaped($1)) }
        let events = try list(d.consumer_events, d.consumer_table_count, "\(name): consumer_events")
        let tables = try list(d.consumer_tables, d.consumer_table_count, "\(name): consumer_tables")
        for (event, table) in zip(events, tables) {
            guard event.split(separator: ":").count == 2, isValidName(table, allowDash: false, limit: 64) else {
                throw .invalidDescriptor(
                    "\(name): consumer table '\(PrintableText.escaped(table, limit: 64))' of '\(PrintableText.escaped(event, limit: 64))' must be [a-z][a-z0-9_]* for a system:event"
                )
            }
            guard info.consumerTables.updateValue(table, forKey: event) == nil else {
                throw .invalidDescriptor("\(name): consumer_events names \(event) twice")
            }
        }
    }

    /// A declared list of 0...32 short strings.
    private static func list(
        _ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: UInt32, _ field: String,
        limit: Int = 64
    ) throws(PluginRefusal.Reason) -> [String] {
        guard count <= UInt32(maximumDeclarations), count == 0 || array != nil else {
            throw .invalidDescriptor("\(field) must be 0...\(maximumDeclarations) non-NULL strings")
        }
        var strings: [String] = []
        for index in 0..<Int(count) {
            let string = try text(array![index], "\(field)[\(index)]")
            guard !string.isEmpty, string.utf8.count <= limit else {
                throw .invalidDescriptor("\(field)[\(index)] must be 1...\(limit) bytes")
            }
            strings.append(string)
        }
        return strings
    }

    private static func parameter(_ p: inject_param_spec, index: Int, backend: String) throws(PluginRefusal.Reason)
        -> ParameterSpec
    {
        let name = try text(p.name, "params[\(index)].name")
        guard isValidName(name, allowDash: false, limit: 64) else {
            throw .invalidDescriptor(
                "\(backend): parameter name '\(PrintableText.escaped(name, limit: 64))' must match [a-z][a-z0-9_]* and be at most 64 bytes"
            )
        }
        let types: [UInt32: ParameterSpec.ValueType] = [
            INJECT_PARAM_U64.rawValue: .u64, INJECT_PARAM_INT.rawValue: .int, INJECT_PARAM_BOOL.rawValue: .bool,
            INJECT_PARAM_ENUM.rawValue: .choice, INJECT_PARAM_STRING.rawValue: .string,
            INJECT_PARAM_BYTES.rawValue: .bytes,
            INJECT_PARAM_ADDRESS.rawValue: .address, INJECT_PARAM_CPU.rawValue: .cpu,
            INJECT_PARAM_CPU_LIST.rawValue: .cpuList, INJECT_PARAM_SIZE.rawValue: .size,
            INJECT_PARAM_FILE.rawValue: .file,
        ]
        guard let type = types[p.type] else {
            throw .invalidDescriptor("\(backend): parameter \(name) has unknown type \(p.type)")
        }
        var choices: [String] = []
        if type == .choice {
            guard p.choice_count > 0, p.choice_count <= 256, let list = p.choices else {
                throw .invalidDescriptor("\(backend): enum parameter \(name) needs 1...256 choices")
            }
            for i in 0..<Int(p.choice_count) { choices.append(try word(list[i], "\(backend): \(name).choices[\(i)]")) }
        }
        var bounds: ParameterSpec.Bounds?
        if p.flags & UInt32(INJECT_PARAM_HAS_RANGE) != 0 {
            let ordered = type == .int ? Int64(bitPattern: p.min) <= Int64(bitPattern: p.max) : p.min <= p.max
            guard ordered else { throw .invalidDescriptor("\(backend): parameter \(name) has min > max") }
            bounds = .init(min: p.min, max: p.max)
        }
        var unit: String?
        if let pointer = p.unit { unit = try word(pointer, "\(backend): \(name).unit", allowEmpty: true) }
        var defaultValue: String?
        if let pointer = p.default_value {
            defaultValue = try word(pointer, "\(backend): \(name).default", limit: 1024, allowEmpty: true)
        }
        let spec = ParameterSpec(
            name: name, type: type, help: p.help.map { HostServices.boundedText($0) } ?? "",
            unit: unit.flatMap { $0.isEmpty ? nil : $0 }, defaultValue: defaultValue, choices: choices,
            isRequired: p.flags & UInt32(INJECT_PARAM_REQUIRED) != 0, bounds: bounds)
        if let defaultValue = spec.defaultValue {
            do {
                _ = try ValueParser.parse(defaultValue, for: spec, backend: backend, source: .schemaDefault)
            } catch {
                throw .invalidDescriptor("\(backend): default of \(name) is invalid: \(error)")
            }
        }
        return spec
    }

    /// A short printable string (a family, a choice, a unit, a default): no control characters.
    private static func word(
        _ pointer: UnsafePointer<CChar>?, _ field: String, limit: Int = 64, allowEmpty: Bool = false
    ) throws(PluginRefusal.Reason) -> String {
        let string = try text(pointer, field)
        guard allowEmpty || !string.isEmpty, string.utf8.count <= limit,
            !string.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .invalidDescriptor(
                "\(field) must be \(allowEmpty ? 0 : 1)...\(limit) bytes without control characters")
        }
        return string
    }

    private static func text(_ pointer: UnsafePointer<CChar>?, _ field: String) throws(PluginRefusal.Reason) -> String {
        guard let pointer else { throw .invalidDescriptor("\(field) is NULL") }
        guard let string = String(validatingCString: pointer) else { throw .invalidDescriptor("\(field) is not UTF-8") }
        return string
    }

    static func isValidName(_ name: String, allowDash: Bool, limit: Int) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            name.utf8.count <= limit
        else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || (allowDash && byte == UInt8(ascii: "-"))
        }
    }
}
