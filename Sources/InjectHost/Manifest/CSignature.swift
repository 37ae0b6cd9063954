/// A C function declaration as a vendor manifest gives it, such as
/// `int acme_poison(uint32_t socket, uint64_t address, const char *kind, uint32_t *ticket, char *why, size_t why_len)`,
/// restricted to what the host can marshal: fixed-width and plain integers, `size_t`, `bool`,
/// pointers to integers (out-parameters), `char *` (strings in, buffers out) and `void`.
public struct CSignature: Sendable, Equatable {
    /// A C type the host can pass through libffi.
    public enum CType: Sendable, Equatable, CustomStringConvertible {
        case void
        /// An integer of `bytes` width, signed or not.
        case integer(bytes: Int, signed: Bool)
        /// `const char *`: a string the host passes in.
        case constString
        /// `char *`: a buffer the host provides and reads back as text.
        case buffer
        /// A pointer to an integer the function fills in (an out-parameter).
        case outInteger(bytes: Int, signed: Bool)

        public var description: String {
            switch self {
            case .void: return "void"
            case .integer(let bytes, let signed): return "\(signed ? "" : "u")int\(bytes * 8)_t"
            case .constString: return "const char *"
            case .buffer: return "char *"
            case .outInteger(let bytes, let signed): return "\(signed ? "" : "u")int\(bytes * 8)_t *"
            }
        }
    }

    /// One named argument.
    public struct Argument: Sendable, Equatable {
        public var name: String
        public var type: CType
    }

    public var returnType: CType
    public var name: String
    public var arguments: [Argument]

    /// Integer type names and their (width, signedness) on LP64 Linux.
    static let integers: [String: (Int, Bool)] = [
        "int8_t": (1, true), "uint8_t": (1, false), "int16_t": (2, true), "uint16_t": (2, false),
        "int32_t": (4, true), "uint32_t": (4, false), "int64_t": (8, true), "uint64_t": (8, false),
        "char": (1, true), "signed char": (1, true), "unsigned char": (1, false), "short": (2, true),
        "unsigned short": (2, false), "int": (4, true), "unsigned": (4, false), "unsigned int": (4, false),
        "long": (8, true), "unsigned long": (8, false), "long long": (8, true), "unsigned long long": (8, false),
        "size_t": (8, false), "ssize_t": (8, true), "bool": (1, false), "_Bool": (1, false),
    ]

    /// Parses a declaration; the message says what cannot be expressed and why.
    public init(parsing text: String) throws(ManifestError.Reason) {
        var declaration = text.trimmed()
        if declaration.hasSuffix(";") { declaration.removeLast() }
        guard let open = declaration.firstIndex(of: "("), declaration.hasSuffix(")") else {
            throw .signature("expected `type name(arguments)`, got '\(text)'")
        }
        let head = String(declaration[..<open]).trimmed()
        let body = String(declaration[declaration.index(after: open)..<declaration.index(before: declaration.endIndex)])
        let (returnType, functionName) = try Self.declarator(head, position: "the return type")
        guard !functionName.isEmpty else { throw .signature("no function name in '\(text)'") }
        if case .buffer = returnType {
            throw .signature("a returned pointer cannot be marshalled: return an integer status")
        }
        if case .constString = returnType {
            throw .signature("a returned pointer cannot be marshalled: return an integer status")
        }
        if case .outInteger = returnType {
            throw .signature("a returned pointer cannot be marshalled: return an integer status")
        }
        self.returnType = returnType
        self.name = functionName
        let words = body.split(separator: ",").map { String($0).trimmed() }
        if words == ["void"] || words == [""] || words.isEmpty {
            arguments = []
            return
        }
        var arguments: [Argument] = []
        for (index, word) in words.enumerated() {
            if word == "..." {
                throw .signature("variadic functions are not supported: the host cannot know what to pass")
            }
            let (type, name) = try Self.declarator(word, position: "argument \(index + 1)")
            guard !name.isEmpty else {
                throw .signature("argument \(index + 1) ('\(word)') has no name; the manifest maps arguments by name")
            }
            if case .void = type { throw .signature("argument \(name) is void") }
            arguments.append(Argument(name: name, type: type))
        }
        self.arguments = arguments
    }

    /// Splits `const char *name` into its type and name.
    static func declarator(_ text: String, position: String) throws(ManifestError.Reason) -> (CType, String) {
        if text.contains("[") || text.contains("(") {
            throw .signature(
                "\(position) '\(text)' is an array or function pointer, which libffi cannot be told the layout of")
        }
        for keyword in ["struct ", "union ", "enum ", "float", "double"]
        where text.hasPrefix(keyword) || text.contains(" " + keyword) {
            throw .signature(
                "\(position) '\(text)' uses \(keyword.trimmed()): only integers, strings, buffers and integer out-parameters are supported"
            )
        }
        let pointerCount = text.filter { $0 == "*" }.count
        let spaced = text.replacingAll("*", with: " ")
        var tokens = spaced.split(separator: " ").map(String.init)
        let isConst = tokens.contains("const")
        tokens.removeAll { $0 == "const" || $0 == "volatile" }
        // The name is the last token, unless the tokens already form a type.
        var name = ""
        let whole = tokens.joined(separator: " ")
        if tokens.count >= 2 && (pointerCount > 0 || (integers[whole] == nil && whole != "void")) {
            name = tokens.removeLast()
        }
        let base = tokens.joined(separator: " ")
        switch (base, pointerCount) {
        case ("void", 0): return (.void, name)
        case ("char", 1): return (isConst ? .constString : .buffer, name)
        case (_, 0):
            guard let (width, signed) = integers[base] else { throw .signature("\(position): unknown type '\(base)'") }
            return (.integer(bytes: width, signed: signed), name)
        case (_, 1):
            guard let (width, signed) = integers[base] else {
                throw .signature(
                    "\(position): a pointer to '\(base)' cannot be marshalled (only char * and integer pointers)")
            }
            if isConst {
                throw .signature(
                    "\(position): a pointer to const \(base) is input data, which the manifest cannot describe")
            }
            return (.outInteger(bytes: width, signed: signed), name)
        default:
            throw .signature("\(position) '\(text)' has \(pointerCount) levels of pointers; at most one is supported")
        }
    }
}

extension String {
    /// The text with every `target` character replaced.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
