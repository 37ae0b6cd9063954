/// One field of a fixed-layout CPER section.
public struct SectionField: Sendable, Equatable {
    /// The field's name, as parameters and decoders show it (`physical_address`).
    public let name: String
    /// Byte offset in the section.
    public let offset: Int
    /// Size in bytes: 1, 2, 4 or 8 for numbers, more for byte arrays.
    public let size: Int
    /// The validation bit that says the field is valid; fields sharing a bit are valid together.
    public let bit: Int

    /// Whether the field is a number (it is a byte array otherwise).
    public var isNumber: Bool { size <= 8 && size != 3 }
}

/// The layout of a section whose body starts with a 64-bit validation-bits field and then has
/// fields at fixed offsets (platform memory, processor generic, PCIe).
public struct SectionLayout: Sendable, Equatable {
    /// The section type.
    public let type: GUID
    /// A name for people.
    public let name: String
    /// The section's size in bytes.
    public let size: Int
    /// Every field after the validation bits.
    public let fields: [SectionField]

    /// The field called `name`.
    public func field(_ name: String) -> SectionField? { fields.first { $0.name == name } }
}

/// A fixed-layout section: the values of its valid fields. Setting one field of a group that
/// shares a validation bit makes the whole group valid (the others read as zero), so that a
/// section decodes back to exactly what was encoded.
public struct FixedSection: Sendable, Equatable {
    /// The layout.
    public let layout: SectionLayout
    /// Valid numeric fields.
    public private(set) var numbers: [String: UInt64] = [:]
    /// Valid byte-array fields, each exactly the field's size.
    public private(set) var blobs: [String: [UInt8]] = [:]

    /// An empty section (no field valid).
    public init(_ layout: SectionLayout) { self.layout = layout }

    /// A numeric field's value, `nil` when not valid; setting marks its validation group valid.
    public subscript(name: String) -> UInt64? {
        get { numbers[name] }
        set {
            guard let field = layout.field(name), field.isNumber else {
                preconditionFailure("\(layout.name) has no numeric field \(name)")
            }
            if let newValue {
                validate(group: field.bit)
                numbers[name] = field.size == 8 ? newValue : newValue & ((1 << (8 * UInt64(field.size))) - 1)
            } else {
                numbers[name] = nil
            }
        }
    }

    /// Sets a byte-array field (cut or zero-padded to its size) and marks its group valid.
    public mutating func setBytes(_ name: String, _ bytes: [UInt8]) {
        guard let field = layout.field(name), !field.isNumber else {
            preconditionFailure("\(layout.name) has no byte field \(name)")
        }
        validate(group: field.bit)
        blobs[name] = Array(bytes.prefix(field.size)) + [UInt8](repeating: 0, count: max(0, field.size - bytes.count))
    }

    private mutating func validate(group bit: Int) {
        for field in layout.fields where field.bit == bit {
            if field.isNumber {
                numbers[field.name] = numbers[field.name] ?? 0
            } else {
                blobs[field.name] = blobs[field.name] ?? [UInt8](repeating: 0, count: field.size)
            }
        }
    }

    /// The validation bits of the valid fields.
    public var validationBits: UInt64 {
        layout.fields.reduce(0) { bits, field in
            numbers[field.name] != nil || blobs[field.name] != nil ? bits | 1 << UInt64(field.bit) : bits
        }
    }

    /// The section's bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: layout.size)
        withUnsafeBytes(of: validationBits.littleEndian) { out.replaceSubrange(0..<8, with: $0) }
        for field in layout.fields {
            if let value = numbers[field.name] {
                for index in 0..<field.size {
                    out[field.offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
                }
            } else if let blob = blobs[field.name] {
                out.replaceSubrange(field.offset..<field.offset + field.size, with: blob)
            }
        }
        return out
    }

    /// Decodes a section body laid out as `layout`.
    public init(decoding body: [UInt8], as layout: SectionLayout) throws(FormatError) {
        self.layout = layout
        guard body.count >= layout.size else {
            throw .truncated(field: "the \(layout.name) section", offset: 0, needed: layout.size, available: body.count)
        }
        var reader = ByteReader(body)
        let bits: UInt64 = try reader.get("validation bits")
        for field in layout.fields where bits & (1 << UInt64(field.bit)) != 0 {
            let raw = Array(body[field.offset..<field.offset + field.size])
            if field.isNumber {
                numbers[field.name] = raw.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            } else {
                blobs[field.name] = raw
            }
        }
    }

    /// The valid fields in layout order, as `name: value` text.
    public var fieldLines: [String] {
        layout.fields.compactMap { field in
            if let value = numbers[field.name] {
                return "\(field.name): " + (field.size >= 8 ? "0x" + hexText(value, digits: 16) : String(value))
            }
            if let blob = blobs[field.name] {
                let shown = blob.reversed().drop { $0 == 0 }.reversed()
                if field.name == "brand_string" { return "\(field.name): \(String(decoding: shown, as: UTF8.self))" }
                return "\(field.name): " + (shown.isEmpty ? "(zero)" : hexDigits(Array(shown)))
            }
            return nil
        }
    }
}
