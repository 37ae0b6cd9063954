import InjectPluginAPI

/// One injection, as the user asked for it: the device, the status bits of each register, and
/// the TLP header (and prefix) to log. `name=value` requests and aer-inject files both become these.
public struct AERRequest: Sendable, Equatable {
    /// The device as the user named it (`01:00.0`, `0000:01:00.0`, a QEMU id); `nil` when not named.
    public var device: String?
    /// Correctable Error Status bits.
    public var correctable: UInt32 = 0
    /// Uncorrectable Error Status bits.
    public var uncorrectable: UInt32 = 0
    /// The TLP header log, four words, when given.
    public var header: [UInt32]?
    /// The TLP prefix log, four words, when given (QEMU only).
    public var prefix: [UInt32]?
    /// Where it came from, for messages (`file:line`, or `the request`).
    public var origin = "the request"

    /// A request.
    public init(
        device: String? = nil, correctable: UInt32 = 0, uncorrectable: UInt32 = 0,
        header: [UInt32]? = nil, prefix: [UInt32]? = nil, origin: String = "the request"
    ) {
        self.device = device
        self.correctable = correctable
        self.uncorrectable = uncorrectable
        self.header = header
        self.prefix = prefix
        self.origin = origin
    }

    /// The errors asked for, correctable first, in bit order.
    public var errors: [AERError] {
        AERError.decode(correctable, .correctable).errors + AERError.decode(uncorrectable, .uncorrectable).errors
    }

    /// Whether the two requests ask for the same injection (wherever they came from).
    public func sameInjection(as other: AERRequest) -> Bool {
        var a = self
        var b = other
        a.origin = ""
        b.origin = ""
        return a == b
    }
}

/// The words of a `header=` or `prefix=` value: four 32-bit numbers separated by commas or spaces.
enum LogWords {
    static func parse(_ text: String, name: String) throws -> [UInt32] {
        let words = text.split { $0 == "," || $0 == " " }.map(String.init)
        let values = words.compactMap(CNumber.parse)
        guard words.count == 4, values.count == 4, values.allSatisfy({ $0 <= UInt64(UInt32.max) }) else {
            throw BackendError.invalid("\(name)=\(text) must be four 32-bit words (0x40000001,0x0100000f,0xfe000000,0)")
        }
        return values.map { UInt32($0) }
    }
}

/// Numbers as C writes them (and the aer-inject tool reads them): `0x` hex, a leading `0` octal,
/// else decimal.
enum CNumber {
    static func parse(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
        if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        return UInt64(lower)
    }
}
