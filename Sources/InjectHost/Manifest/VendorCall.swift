import CLibFFI

/// One call into a vendor library, as a plan step: the function, and each argument's value.
public struct VendorCall: Sendable, Equatable {
    /// What the host passes for one argument.
    public enum Value: Sendable, Equatable {
        /// An integer (a parameter's number, a constant, or a buffer's size).
        case integer(UInt64)
        /// A string (a parameter's text), passed as `const char *`.
        case string(String)
        /// A zeroed buffer of this many bytes, read back as text.
        case buffer(Int)
        /// An integer the function fills in, reported after the call.
        case out
    }

    /// When the returned integer means success.
    public enum Success: String, Sendable, Equatable {
        case zero, nonnegative, nonzero, any
    }

    /// The library's absolute path (already loaded by the registry).
    public var library: String
    public var signature: CSignature
    public var values: [Value]
    public var success: Success
    /// The buffer argument whose text explains a failure.
    public var messageArgument: String?

    /// What one call returned.
    public struct Outcome: Sendable, Equatable {
        public var returned: Int64
        /// Out-parameters and buffers, by argument name, in argument order.
        public var outputs: [(name: String, value: String)]

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.returned == b.returned && a.outputs.map(\.name) == b.outputs.map(\.name)
                && a.outputs.map(\.value) == b.outputs.map(\.value)
        }
    }

    /// The call as one line, such as `acme_poison(pa=0x1000, ticket=<out>, why=<128-byte buffer>)`.
    public var description: String {
        let words = zip(signature.arguments, values).map { argument, value -> String in
            switch value {
            case .integer(let number): return "\(argument.name)=\(hexNumber(number))"
            case .string(let text): return "\(argument.name)=\"\(text)\""
            case .buffer(let size): return "\(argument.name)=<\(size)-byte buffer>"
            case .out: return "\(argument.name)=<out>"
            }
        }
        let file = library.split(separator: "/").last.map(String.init) ?? library
        return "call \(file):\(signature.name)(\(words.joined(separator: ", ")))"
    }

    /// Prepares the libffi call interface, or says why libffi refuses it.
    static func prepare(_ signature: CSignature) -> String? {
        let interface = CallInterface(signature)
        return interface.status == FFI_OK
            ? nil : "libffi cannot prepare this signature (ffi_prep_cif status \(interface.status.rawValue))"
    }

    /// Calls the function.
    ///
    /// - Throws: ``TargetError/tool(argv:reason:hint:)`` when the library or symbol is gone, or the
    ///   return value means failure (with the message buffer's text).
    func perform() throws(TargetError) -> Outcome {
        guard
            let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)
                ?? PluginGuard.run(library, "load (constructors)", { dlopen(library, RTLD_NOW | RTLD_LOCAL) }),
            let symbol = dlsym(handle, signature.name)
        else {
            throw .tool(
                argv: [signature.name], reason: "\(library) or its symbol \(signature.name) cannot be loaded", hint: nil
            )
        }
        let arguments = Arguments(values)
        defer { arguments.release() }
        let interface = CallInterface(signature)
        var argumentPointers = (0..<values.count).map {
            UnsafeMutableRawPointer(arguments.slots + $0) as UnsafeMutableRawPointer?
        }
        var result: UInt64 = 0
        interface.withCIF { cif in
            argumentPointers.withUnsafeMutableBufferPointer { pointers in
                PluginGuard.run(library, "vendor function \(signature.name)") {
                    ffi_call(
                        cif, unsafeBitCast(symbol, to: (@convention(c) () -> Void).self), &result, pointers.baseAddress)
                }
            }
        }
        let returned = returnedValue(result)
        let (outputs, texts) = arguments.outputs(signature.arguments)
        guard succeeded(returned) else {
            let message = messageArgument.flatMap { texts[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            throw .tool(
                argv: [signature.name],
                reason: "returned \(returned)" + (message.map { ": \($0)" } ?? " (the library gave no message)"),
                hint: nil)
        }
        return Outcome(returned: returned, outputs: outputs)
    }

    /// The returned integer, sign- or zero-extended from its declared width.
    private func returnedValue(_ result: UInt64) -> Int64 {
        switch signature.returnType {
        case .integer(let bytes, true):
            let shift = UInt64(64 - 8 * bytes)
            return Int64(bitPattern: result << shift) >> Int64(shift)
        case .integer(let bytes, false):
            return Int64(bitPattern: bytes == 8 ? result : result & ((1 << UInt64(8 * bytes)) - 1))
        default:
            return 0
        }
    }

    /// Whether `returned` means success, as the manifest says.
    private func succeeded(_ returned: Int64) -> Bool {
        switch success {
        case .zero: returned == 0
        case .nonnegative: returned >= 0
        case .nonzero: returned != 0
        case .any: true
        }
    }

    /// The storage of a call's arguments: 8 bytes each, pointers to separate allocations (strings,
    /// zeroed buffers, out-integers), read back after the call and freed by ``release()``.
    ///
    /// Each allocation is mapped on its own pages and ends where an inaccessible page begins, with
    /// another before it: a library that writes past a buffer (told a wrong length by a manifest
    /// the checks did not catch) faults at once, and the guard names the call, instead of
    /// corrupting the host's heap.
    private struct Arguments {
        let values: [Value]
        let slots: UnsafeMutablePointer<UInt64>
        private(set) var allocations: [UnsafeMutableRawPointer] = []
        private var mappings: [(base: UnsafeMutableRawPointer, length: Int)] = []

        init(_ values: [Value]) {
            self.values = values
            slots = UnsafeMutablePointer<UInt64>.allocate(capacity: max(values.count, 1))
            slots.initialize(repeating: 0, count: max(values.count, 1))
            for (index, value) in values.enumerated() {
                switch value {
                case .integer(let number):
                    slots[index] = number
                case .string(let text):
                    let bytes = Array(text.utf8CString)
                    let memory = allocate(bytes.count)
                    bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                    slots[index] = UInt64(UInt(bitPattern: memory))
                case .buffer(let size):
                    slots[index] = UInt64(UInt(bitPattern: allocate(size + 1)))
                case .out:
                    slots[index] = UInt64(UInt(bitPattern: allocate(8)))
                }
            }
        }

        /// Zeroed memory of `count` bytes between two guard pages, kept until ``release()``.
        private mutating func allocate(_ count: Int) -> UnsafeMutableRawPointer {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            // Whole 8-byte words, so that the end (at the guard) keeps out-integers aligned.
            let rounded = (count + 7) & ~7
            let dataPages = (rounded + page - 1) / page * page
            let length = dataPages + 2 * page
            guard let base = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED,
                mprotect(base + page, dataPages, PROT_READ | PROT_WRITE) == 0
            else {
                // No mapping to be had: plain memory, as before the guard pages.
                let memory = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: 8)
                memory.initializeMemory(as: UInt8.self, repeating: 0, count: rounded)
                allocations.append(memory)
                mappings.append((memory, 0))
                return memory
            }
            let memory = base + page + dataPages - rounded  // zeroed by mmap
            allocations.append(memory)
            mappings.append((base, length))
            return memory
        }

        func release() {
            slots.deallocate()
            for mapping in mappings {
                if mapping.length == 0 { mapping.base.deallocate() } else { munmap(mapping.base, mapping.length) }
            }
        }

        /// Out-parameters and buffers after the call, by argument name, and the buffers' texts.
        func outputs(_ arguments: [CSignature.Argument]) -> ([(name: String, value: String)], [String: String]) {
            var outputs: [(name: String, value: String)] = []
            var texts: [String: String] = [:]
            var allocationIndex = 0
            for (argument, value) in zip(arguments, values) {
                switch value {
                case .string:
                    allocationIndex += 1
                case .buffer(let size):
                    // Only the buffer's own bytes are read, up to the first NUL, whatever the library wrote.
                    let bytes = UnsafeBufferPointer(
                        start: allocations[allocationIndex].assumingMemoryBound(to: UInt8.self), count: size)
                    let text = PrintableText.escaped(String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self))
                    texts[argument.name] = text
                    outputs.append((argument.name, text))
                    allocationIndex += 1
                case .out:
                    let raw = allocations[allocationIndex].load(as: UInt64.self)
                    var number = raw
                    if case .outInteger(let bytes, _) = argument.type, bytes < 8 {
                        number = raw & ((1 << UInt64(8 * bytes)) - 1)
                    }
                    outputs.append((argument.name, String(number)))
                    allocationIndex += 1
                case .integer:
                    break
                }
            }
            return (outputs, texts)
        }
    }
}

/// A prepared libffi call interface with the type array it points into.
final class CallInterface {
    private var cif = ffi_cif()
    private let types: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    let status: ffi_status

    init(_ signature: CSignature) {
        func type(_ c: CSignature.CType) -> UnsafeMutablePointer<ffi_type> {
            switch c {
            case .void: return inject_ffi_void()
            case .integer(let bytes, let signed): return inject_ffi_integer(Int32(bytes), signed ? 1 : 0)
            case .constString, .buffer, .outInteger: return inject_ffi_pointer()
            }
        }
        let count = signature.arguments.count
        types = .allocate(capacity: max(count, 1))
        for (index, argument) in signature.arguments.enumerated() { types[index] = type(argument.type) }
        status = ffi_prep_cif(
            &cif, FFI_DEFAULT_ABI, UInt32(count), type(signature.returnType), count == 0 ? nil : types)
    }

    deinit { types.deallocate() }

    func withCIF(_ body: (UnsafeMutablePointer<ffi_cif>) -> Void) { body(&cif) }
}

/// A vendor library call is a step of a manifest backend's plan (not an ABI step kind: manifest
/// backends are planned by the host itself).
extension VendorCall: StepAction {
    public static let kind = "call"

    public func describe(root: FilePath) -> String { description }

    public func encodeFields(into container: inout KeyedEncodingContainer<StepField>) throws {
        try container.encode(description, forKey: .command)
    }

    public func perform(hint: String?, with performer: inout StepPerformer) async throws(TargetError) -> String? {
        let outcome = try perform()
        let shown = outcome.outputs.filter { !$0.value.isEmpty }.map { "\($0.name)=\($0.value)" }
        return (["returned \(outcome.returned)"] + shown).joined(separator: ", ")
    }
}
