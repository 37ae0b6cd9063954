/// ARM processor error section (UEFI N.2.4.4): a 40-byte header and error information entries of
/// 32 bytes each (no processor context entries).
public struct ARMProcessorError: Sendable, Equatable {
    /// The section type.
    public static let type = GUID("E19E3D16-BC11-11E4-9CAA-C2051D5D46B0")!

    /// One error information entry.
    public struct ErrorInfo: Sendable, Equatable {
        /// 0 cache, 1 TLB, 2 bus, 3 micro-architectural.
        public var type: UInt8
        /// Validation bits of the entry (multiple error, flags, error information, VA, PA).
        public var validationBits: UInt16
        public var multipleError: UInt16
        public var flags: UInt8
        public var errorInformation: UInt64
        public var virtualFaultAddress: UInt64
        public var physicalFaultAddress: UInt64

        /// Creates an entry; the validation bits follow from what is non-zero, unless given.
        public init(
            type: UInt8, multipleError: UInt16 = 0, flags: UInt8 = 0, errorInformation: UInt64 = 0,
            virtualFaultAddress: UInt64 = 0, physicalFaultAddress: UInt64 = 0, validationBits: UInt16? = nil
        ) {
            self.type = type
            self.multipleError = multipleError
            self.flags = flags
            self.errorInformation = errorInformation
            self.virtualFaultAddress = virtualFaultAddress
            self.physicalFaultAddress = physicalFaultAddress
            self.validationBits =
                validationBits
                ?? [
                    (multipleError != 0, 0), (flags != 0, 1), (errorInformation != 0, 2),
                    (virtualFaultAddress != 0, 3), (physicalFaultAddress != 0, 4),
                ]
                .reduce(0) { $1.0 ? $0 | 1 << $1.1 : $0 }
        }
    }

    /// Header validation bits: 0 MPIDR, 1 affinity level, 2 running state, 3 vendor information.
    public var validationBits: UInt32
    public var affinityLevel: UInt8
    public var mpidr: UInt64
    public var midr: UInt64
    public var runningState: UInt32
    public var psciState: UInt32
    public var errors: [ErrorInfo]

    /// Creates a section with MPIDR and the running state valid.
    public init(
        mpidr: UInt64, midr: UInt64 = 0, affinityLevel: UInt8 = 0, runningState: UInt32 = 1, psciState: UInt32 = 0,
        errors: [ErrorInfo], validationBits: UInt32 = 0b101
    ) {
        self.validationBits = validationBits
        self.affinityLevel = affinityLevel
        self.mpidr = mpidr
        self.midr = midr
        self.runningState = runningState
        self.psciState = psciState
        self.errors = errors
    }

    /// The section's bytes.
    public var bytes: [UInt8] {
        var out = ByteWriter()
        out.put(validationBits)
        out.put(UInt16(errors.count))
        out.put(UInt16(0))  // context information entries
        out.put(UInt32(40 + 32 * errors.count))  // section length
        out.put(affinityLevel)
        out.put([0, 0, 0])
        out.put(mpidr)
        out.put(midr)
        out.put(runningState)
        out.put(psciState)
        for error in errors {
            out.put(UInt8(0))  // version
            out.put(UInt8(32))  // length
            out.put(error.validationBits)
            out.put(error.type)
            out.put(error.multipleError)
            out.put(error.flags)
            out.put(error.errorInformation)
            out.put(error.virtualFaultAddress)
            out.put(error.physicalFaultAddress)
        }
        return out.bytes
    }

    /// Decodes a section body.
    public init(decoding body: [UInt8]) throws(FormatError) {
        var reader = ByteReader(body)
        validationBits = try reader.get("validation bits")
        let errorCount: UInt16 = try reader.get("error information count")
        let contextCount: UInt16 = try reader.get("context information count")
        let length: UInt32 = try reader.get("section length")
        guard Int(length) <= body.count else {
            throw .badLength(
                field: "ARM section length", value: Int(length), reason: "only \(body.count) byte(s) follow")
        }
        affinityLevel = try reader.get("error affinity level")
        _ = try reader.bytes(3, "reserved")
        mpidr = try reader.get("MPIDR_EL1")
        midr = try reader.get("MIDR_EL1")
        runningState = try reader.get("running state")
        psciState = try reader.get("PSCI state")
        errors = []
        for index in 0..<Int(errorCount) {
            _ = try reader.get("error info \(index) version", as: UInt8.self)
            let size: UInt8 = try reader.get("error info \(index) length")
            guard size == 32 else {
                throw .badLength(field: "error info \(index) length", value: Int(size), reason: "entries are 32 bytes")
            }
            let bits: UInt16 = try reader.get("error info \(index) validation")
            let type: UInt8 = try reader.get("error info \(index) type")
            errors.append(
                ErrorInfo(
                    type: type, multipleError: try reader.get("multiple error"), flags: try reader.get("flags"),
                    errorInformation: try reader.get("error information"),
                    virtualFaultAddress: try reader.get("virtual fault address"),
                    physicalFaultAddress: try reader.get("physical fault address"), validationBits: bits))
        }
        _ = contextCount  // context entries are not decoded
    }

    /// The fields as `name: value` text.
    public var fieldLines: [String] {
        var lines = [
            "mpidr: \(hexNumber(mpidr))", "midr: \(hexNumber(midr))",
            "affinity_level: \(affinityLevel)", "running_state: \(runningState)",
        ]
        let types = ["cache", "TLB", "bus", "micro-architectural"]
        for (index, error) in errors.enumerated() {
            lines.append(
                "error \(index): \(error.type < 4 ? types[Int(error.type)] : "type \(error.type)")"
                    + " info \(hexNumber(error.errorInformation))"
                    + " va \(hexNumber(error.virtualFaultAddress)) pa \(hexNumber(error.physicalFaultAddress))")
        }
        return lines
    }
}
