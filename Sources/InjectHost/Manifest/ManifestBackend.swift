/// A backend described by a vendor manifest: the host validates the manifest, dlopens the
/// library, prepares the call with libffi, and turns a request into one vendor-call step.
struct ManifestBackend: Sendable {
    /// How one C argument is filled.
    enum Binding: Sendable, Equatable {
        case parameter(String)
        case constant(UInt64)
        case buffer(Int)
        case sizeOf(String)
        case out
    }

    let info: BackendInfo
    let library: String
    let call: (signature: CSignature, bindings: [Binding], success: VendorCall.Success, message: String?)
    let expectations: [String]
    let confirmation: String?

    /// The largest manifest file read.
    static let maximumManifestBytes = 1 << 20

    /// Why a manifest file cannot be read.
    struct Unreadable: Error { var reason: String }

    /// The bytes of the manifest at `path`: a regular file of at most ``maximumManifestBytes``,
    /// looked at before it is opened.
    static func readBounded(_ path: String) -> Result<[UInt8], Unreadable> {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return .failure(.init(reason: "is not a regular file"))
        }
        guard info.st_size <= maximumManifestBytes else {
            return .failure(.init(reason: "is \(info.st_size) bytes; a manifest holds at most \(maximumManifestBytes)"))
        }
        let bytes: [UInt8]
        do {
            guard let read = try UserFile.read(path, limit: maximumManifestBytes) else {
                return .failure(.init(reason: "vanished while being read"))
            }
            bytes = read
        } catch {
            return .failure(.init(reason: "cannot be read: \(error)"))
        }
        return .success(bytes)
    }

    /// The file name suffix of manifests on the plugin search path.
    static let suffix = ".inject.json"

    /// Reads and validates the manifest at `path` (absolute), and loads its library.
    static func load(_ path: String, pins: PluginPins = .none) throws(ManifestError) -> ManifestBackend {
        func fail(_ key: String, _ reason: ManifestError.Reason) -> ManifestError {
            ManifestError(file: path, key: key, reason: reason)
        }
        let bytes: [UInt8]
        switch readBounded(path) {
        case .success(let read): bytes = read
        case .failure(let problem): throw fail("", .syntax(problem.reason))
        }
        let file = try ManifestFile.decode(bytes, file: path)
        guard file.inject_manifest == 1 else {
            throw fail("inject_manifest", .invalid("version \(file.inject_manifest) is unknown (this host reads 1)"))
        }
        guard DescriptorReader.isValidName(file.name, allowDash: true, limit: 32) else {
            throw fail(
                "name",
                .invalid(
                    "'\(PrintableText.escaped(file.name, limit: 64))' must be 1...32 lowercase letters, digits, '-' and '_', starting with a letter (as for C plugins)"
                ))
        }
        guard file.version.utf8.count <= 64, file.summary.utf8.count <= 256 else {
            throw fail(
                file.version.utf8.count > 64 ? "version" : "summary",
                .invalid("version must be at most 64 bytes and summary at most 256 (as for C plugins)"))
        }
        guard (file.parameters ?? []).count <= DescriptorReader.maximumParameters else {
            throw fail(
                "parameters",
                .invalid(
                    "\(file.parameters!.count) parameters; at most \(DescriptorReader.maximumParameters) (as for C plugins)"
                ))
        }
        for family in file.families ?? []
        where family.utf8.count > 64
            || family.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            throw fail(
                "families",
                .invalid(
                    "'\(PrintableText.escaped(family, limit: 64))': a family is at most 64 bytes without control characters"
                ))
        }
        let specs = try parameters(file, fail)
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let library = file.library.hasPrefix("/") ? file.library : directory + "/" + file.library
        guard access(library, F_OK) == 0 else {
            throw fail(
                "library",
                .library(
                    "\(library) does not exist (the manifest names it; put the vendor's library beside the manifest or give its absolute path)"
                ))
        }
        if let problem = FileTrust.problem(path: library) {
            throw fail("library", .library("untrusted: \(problem)"))
        }
        if let problem = pins.problem(library) { throw fail("library", .library("\(library): \(problem)")) }
        let call = try Self.call(file.call, key: "call", specs: specs, fail)
        // Everything is checked; only now is vendor code loaded (its constructors run).
        guard
            let handle = PluginGuard.run(
                path, "load of \(library) (constructors)", { dlopen(library, RTLD_NOW | RTLD_LOCAL) })
        else {
            throw fail("library", .library(dlerror().map { String(cString: $0) } ?? "dlopen failed"))
        }
        guard dlsym(handle, call.signature.name) != nil else {
            throw fail("call.function", .library("\(library) has no symbol \(call.signature.name)"))
        }
        let info = BackendInfo(
            name: file.name, version: PrintableText.escaped(file.version), summary: PrintableText.escaped(file.summary),
            families: file.families ?? [],
            parameters: specs, path: path, abi: "manifest 1 (libffi)")
        return ManifestBackend(
            info: info, library: library, call: call, expectations: file.call.expect ?? [],
            confirmation: file.confirm)
    }

    private static func parameters(_ file: ManifestFile, _ fail: (String, ManifestError.Reason) -> ManifestError)
        throws(ManifestError) -> [ParameterSpec]
    {
        var specs: [ParameterSpec] = []
        for (index, entry) in (file.parameters ?? []).enumerated() {
            let key = "parameters[\(index)]"
            guard let type = ParameterSpec.ValueType(rawValue: entry.type == "choice" ? "enum" : entry.type) else {
                throw fail(
                    "\(key).type",
                    .invalid(
                        "'\(entry.type)' is not one of "
                            + ParameterSpec.ValueType.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            guard DescriptorReader.isValidName(entry.name, allowDash: false, limit: 64) else {
                throw fail(
                    "\(key).name",
                    .invalid(
                        "'\(PrintableText.escaped(entry.name, limit: 64))' must be 1...64 lowercase letters, digits and '_', starting with a letter"
                    ))
            }
            guard !specs.contains(where: { $0.name == entry.name }) else {
                throw fail("\(key).name", .invalid("'\(entry.name)' is declared twice"))
            }
            if type == .choice && (entry.choices ?? []).isEmpty {
                throw fail("\(key).choices", .invalid("a choice parameter needs its names"))
            }
            for text in (entry.choices ?? []) + [entry.unit ?? ""]
            where text.utf8.count > 64
                || text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                throw fail(
                    "\(key)",
                    .invalid(
                        "'\(PrintableText.escaped(text, limit: 64))': choices and units are at most 64 bytes without control characters"
                    ))
            }
            var bounds: ParameterSpec.Bounds?
            if entry.min != nil || entry.max != nil {
                bounds = .init(min: entry.min ?? 0, max: entry.max ?? .max)
                guard bounds!.min <= bounds!.max else { throw fail("\(key).min", .invalid("min is above max")) }
            }
            let spec = ParameterSpec(
                name: entry.name, type: type, help: PrintableText.escaped(entry.help ?? ""), unit: entry.unit,
                defaultValue: entry.default,
                choices: entry.choices ?? [], isRequired: entry.required ?? false, bounds: bounds)
            if let value = entry.default {
                do { _ = try ValueParser.parse(value, for: spec, backend: file.name, source: .schemaDefault) } catch {
                    throw fail("\(key).default", .invalid("\(error)"))
                }
            }
            specs.append(spec)
        }
        return specs
    }

    private static func call(
        _ entry: ManifestFile.Call, key: String, specs: [ParameterSpec],
        _ fail: (String, ManifestError.Reason) -> ManifestError
    ) throws(ManifestError)
        -> (signature: CSignature, bindings: [Binding], success: VendorCall.Success, message: String?)
    {
        let signature: CSignature
        do { signature = try CSignature(parsing: entry.function) } catch { throw fail("\(key).function", error) }
        if let problem = VendorCall.prepare(signature) { throw fail("\(key).function", .signature(problem)) }
        let given = entry.arguments ?? [:]
        for name in given.keys where !signature.arguments.contains(where: { $0.name == name }) {
            throw fail("\(key).arguments.\(name)", .invalid("\(signature.name) has no argument '\(name)'"))
        }
        var bindings: [Binding] = []
        for argument in signature.arguments {
            let argumentKey = "\(key).arguments.\(argument.name)"
            guard let text = given[argument.name] else { throw fail(argumentKey, .missing) }
            bindings.append(try binding(text, for: argument, specs: specs) { fail(argumentKey, $0) })
        }
        try checkLengths(signature, bindings, key: key, fail)
        let success = try success(entry, signature, key: key, fail)
        if let message = entry.message {
            guard let index = signature.arguments.firstIndex(where: { $0.name == message }),
                case .buffer = bindings[index]
            else {
                throw fail("\(key).message", .invalid("'\(message)' is not a buffer argument"))
            }
        }
        return (signature, bindings, success, entry.message)
    }

    /// What fills one argument (`out`, `buffer N`, `const N`, `size of ARG`, or a parameter's
    /// name), checked against the argument's C type.
    private static func binding(
        _ text: String, for argument: CSignature.Argument, specs: [ParameterSpec],
        _ fail: (ManifestError.Reason) -> ManifestError
    ) throws(ManifestError) -> Binding {
        let words = text.split(separator: " ").map(String.init)
        let binding: Binding
        switch (words.first, words.count) {
        case ("out", 1): binding = .out
        case ("buffer", 2):
            guard let size = Int(words[1]), (1...65536).contains(size) else {
                throw fail(.invalid("a buffer holds 1...65536 bytes, not '\(words[1])'"))
            }
            binding = .buffer(size)
        case ("const", 2):
            guard
                let value = NumberText.unsigned(words[1])
                    ?? NumberText.signed(words[1]).map({ UInt64(bitPattern: $0) })
            else {
                throw fail(.invalid("'\(words[1])' is not a number"))
            }
            binding = .constant(value)
        case ("size", 3) where words[1] == "of":
            binding = .sizeOf(words[2])
        case (let name?, 1):
            guard specs.contains(where: { $0.name == name }) else {
                throw fail(
                    .invalid("'\(name)' is neither a declared parameter nor out, buffer N, const N or size of ARG"))
            }
            binding = .parameter(name)
        default:
            throw fail(.invalid("'\(text)' is not a parameter name, out, buffer N, const N or size of ARG"))
        }
        // The C type must fit the binding.
        switch (binding, argument.type) {
        case (.out, .outInteger), (.buffer, .buffer), (.constant, .integer), (.sizeOf, .integer),
            (.parameter, .integer), (.parameter, .constString):
            return binding
        default:
            throw fail(.invalid("'\(text)' cannot fill a \(argument.type) argument"))
        }
    }

    /// A length the library is told must be the buffer's real size: an integer argument named
    /// like a length, beside a buffer, is accepted only as `size of` that buffer, and every
    /// `size of` names a buffer.
    private static func checkLengths(
        _ signature: CSignature, _ bindings: [Binding], key: String,
        _ fail: (String, ManifestError.Reason) -> ManifestError
    ) throws(ManifestError) {
        let buffers = zip(signature.arguments, bindings).compactMap { argument, binding -> (name: String, size: Int)? in
            if case .buffer(let size) = binding { return (argument.name, size) }
            return nil
        }
        if let smallest = buffers.min(by: { $0.size < $1.size }) {
            for (argument, binding) in zip(signature.arguments, bindings) where looksLikeLength(argument.name) {
                let given: String
                switch binding {
                case .constant(let value): given = "'const \(value)'"
                case .parameter(let name): given = "parameter '\(name)'"
                default: continue
                }
                throw fail(
                    "\(key).arguments.\(argument.name)",
                    .invalid(
                        "\(given) looks like the length of buffer '\(smallest.name)' (\(smallest.size) bytes); bind it with 'size of \(smallest.name)' so the library is told the real size"
                    ))
            }
        }
        for case .sizeOf(let target) in bindings {
            guard let index = signature.arguments.firstIndex(where: { $0.name == target }),
                case .buffer = bindings[index]
            else {
                throw fail("\(key).arguments", .invalid("'size of \(target)' names no buffer argument"))
            }
        }
    }

    /// When the returned integer means success: as the manifest says, else zero (any for void).
    private static func success(
        _ entry: ManifestFile.Call, _ signature: CSignature, key: String,
        _ fail: (String, ManifestError.Reason) -> ManifestError
    ) throws(ManifestError) -> VendorCall.Success {
        let success: VendorCall.Success
        if let text = entry.success {
            guard let value = VendorCall.Success(rawValue: text) else {
                throw fail("\(key).success", .invalid("'\(text)' is not zero, nonnegative, nonzero or any"))
            }
            success = value
        } else {
            success = signature.returnType == .void ? .any : .zero
        }
        if signature.returnType == .void && success != .any {
            throw fail("\(key).success", .invalid("a void function can only succeed (any)"))
        }
        return success
    }

    /// Whether a C argument's name says it is a length or size (`len`, `buf_size`, `maxlen`, `n`,
    /// `bufsz`, `limit`, `cap`, ...). A name this misses is still safe: buffers sit against guard
    /// pages (``VendorCall``), so an overflow is a reported crash, not heap corruption.
    static func looksLikeLength(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["n", "count", "max", "cap", "capacity", "room", "space", "avail"].contains(lower)
            || ["len", "size", "sz", "limit", "bytes", "cnt"].contains(where: { lower.contains($0) })
            || lower.hasSuffix("_count") || lower.hasSuffix("_n") || lower.hasSuffix("_cap")
    }

    /// The step for validated parameters.
    func vendorCall(_ parameters: [ResolvedParameter]) -> VendorCall {
        let values = call.bindings.enumerated().map { index, binding -> VendorCall.Value in
            switch binding {
            case .out: return .out
            case .buffer(let size): return .buffer(size)
            case .constant(let value): return .integer(value)
            case .sizeOf(let name):
                let target = call.signature.arguments.firstIndex { $0.name == name }!
                if case .buffer(let size) = call.bindings[target] { return .integer(UInt64(size)) }
                return .integer(0)
            case .parameter(let name):
                let value = parameters.first { $0.spec.name == name }?.value
                if case .constString = call.signature.arguments[index].type { return .string(value?.text ?? "") }
                return .integer(value?.number ?? 0)
            }
        }
        return VendorCall(
            library: library, signature: call.signature, values: values, success: call.success,
            messageArgument: call.message)
    }
}
