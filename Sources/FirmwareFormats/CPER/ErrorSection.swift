/// The body of one generic error data entry.
public enum ErrorSection: Sendable, Equatable {
    /// Platform memory, processor generic or PCIe: fixed layouts.
    case fixed(FixedSection)
    /// An ARM processor error.
    case arm(ARMProcessorError)
    /// Any other section, by type and raw bytes (a vendor's, for example).
    case raw(type: GUID, bytes: [UInt8])

    /// The section type.
    public var type: GUID {
        switch self {
        case .fixed(let section): return section.layout.type
        case .arm: return ARMProcessorError.type
        case .raw(let type, _): return type
        }
    }

    /// A name for people.
    public var name: String {
        switch self {
        case .fixed(let section): return section.layout.name
        case .arm: return "ARM processor error"
        case .raw: return "section \(type)"
        }
    }

    /// The body's bytes.
    public var bytes: [UInt8] {
        switch self {
        case .fixed(let section): return section.bytes
        case .arm(let section): return section.bytes
        case .raw(_, let bytes): return bytes
        }
    }

    /// Decodes a body of section type `type`; unknown types are kept raw.
    public init(type: GUID, body: [UInt8]) throws(FormatError) {
        if let layout = SectionLayouts.all.first(where: { $0.type == type }) {
            self = .fixed(try FixedSection(decoding: body, as: layout))
        } else if type == ARMProcessorError.type {
            self = .arm(try ARMProcessorError(decoding: body))
        } else {
            self = .raw(type: type, bytes: body)
        }
    }

    /// The fields as `name: value` text.
    public var fieldLines: [String] {
        switch self {
        case .fixed(let section): return section.fieldLines
        case .arm(let section): return section.fieldLines
        case .raw(_, let bytes): return ["bytes (\(bytes.count)): " + hexDigits(bytes)]
        }
    }
}
