import InjectPluginABI
@_spi(Testing) import InjectPluginAPI
import Synchronization

/// A target held in memory, for unit tests of a backend's `probe` and `plan` without a host, a
/// kernel or a lab: its files, firmware memory and capabilities are what the test says.
///
/// ```swift
/// let target = TestTarget(files: ["sys/kernel/debug/mce-inject/bank": ""])
/// let plan = try target.plan(MCEBackend(), ["cpu": "1", "bank": "4"])
/// #expect(plan.steps.last?.isTrigger == true)
/// ```
///
/// Values are given as a user would type them; the schema's defaults fill the rest, parsed the
/// simple way (decimal, `0x` hex, K/M/G/T sizes, booleans, choice names). The host's full
/// validation is not repeated here: test it through the host.
public final class TestTarget: @unchecked Sendable {
    /// File contents by path relative to the root; directories are implied by the paths.
    public var files: [String: [UInt8]]
    /// Firmware memory: bytes at guest-physical addresses.
    public var memory: [UInt64: [UInt8]]
    public var root = "/"
    public var hasQMP: Bool
    public var hasFirmwareMemory: Bool
    public var hasIPMI: Bool
    /// QEMU device ids by PCI address (`0000:01:00.0`), for ``Target/pciDevice(_:)`` on a
    /// target with a monitor; a device is present when a file lies under its sysfs directory.
    public var qemuDevices: [String: String] = [:]
    /// The wall clock the backend sees, in nanoseconds since 1970.
    public var realtimeNanoseconds: UInt64 = 1_796_000_000_000_000_000

    /// A target with `files` (text) and the given capabilities.
    public init(
        files: [String: String] = [:], memory: [UInt64: [UInt8]] = [:], hasQMP: Bool = false,
        hasFirmwareMemory: Bool = false, hasIPMI: Bool = false
    ) {
        self.files = files.mapValues { Array($0.utf8) }
        self.memory = memory
        self.hasQMP = hasQMP
        self.hasFirmwareMemory = hasFirmwareMemory || !memory.isEmpty
        self.hasIPMI = hasIPMI
    }

    /// `backend`'s plan for `values` (with the schema's defaults for the rest).
    public func plan<B: InjectBackend>(_ backend: B, _ values: [String: String] = [:]) throws -> Plan {
        let parameters = try Self.values(B.descriptor, values)
        return try withTarget { target in try backend.plan(PlanRequest(parameters: parameters, target: target)) }
    }

    /// `backend`'s probe of this target.
    public func probe<B: InjectBackend>(_ backend: B) throws -> [Capability] {
        try withTarget { target in try backend.probe(target) }
    }

    // MARK: - The fake host

    private static let live = Mutex<[UInt: TestTarget]>([:])
    private static let serial = Atomic<UInt>(1)

    private func withTarget<R>(_ body: (Target) throws -> R) throws -> R {
        let token = Self.serial.add(1, ordering: .relaxed).newValue << 4
        Self.live.withLock { $0[token] = self }
        defer { _ = Self.live.withLock { $0.removeValue(forKey: token) } }
        let root = Array(self.root.utf8CString)
        return try root.withUnsafeBufferPointer { rootPointer in
            rootCString = rootPointer.baseAddress
            defer { rootCString = nil }
            return try body(Target(call: OpaquePointer(bitPattern: token), host: Self.host))
        }
    }

    private var rootCString: UnsafePointer<CChar>?

    private static func from(_ call: OpaquePointer?) -> TestTarget? {
        guard let call else { return nil }
        return live.withLock { $0[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(call)))] }
    }

    private nonisolated(unsafe) static let host: UnsafePointer<inject_host_api> = {
        let table = UnsafeMutablePointer<inject_host_api>.allocate(capacity: 1)
        table.initialize(to: inject_host_api())
        table.pointee.struct_size = UInt32(MemoryLayout<inject_host_api>.size)
        table.pointee.abi_major = UInt16(INJECT_ABI_MAJOR)
        table.pointee.abi_minor = UInt16(INJECT_ABI_MINOR)
        table.pointee.log = { _, _, _ in }
        table.pointee.set_error = { _, _, _ in }
        table.pointee.target_info = { call, out in
            guard let target = TestTarget.from(call), let out else { return INJECT_E_INVALID.rawValue }
            out.pointee.flags =
                UInt32(INJECT_TARGET_FILES) | (target.hasQMP ? UInt32(INJECT_TARGET_QMP) : 0)
                | (target.hasFirmwareMemory ? UInt32(INJECT_TARGET_MEMORY) : 0)
                | (target.hasIPMI ? UInt32(INJECT_TARGET_IPMI) : 0)
            out.pointee.root = target.rootCString
            return INJECT_OK.rawValue
        }
        table.pointee.read_attribute = { call, path, buffer, capacity, length in
            guard let target = TestTarget.from(call), let path else { return INJECT_E_INVALID.rawValue }
            guard let bytes = target.files[String(cString: path)] else {
                return target.isDirectory(String(cString: path)) ? INJECT_E_IO.rawValue : INJECT_E_NOT_FOUND.rawValue
            }
            length?.pointee = bytes.count
            guard bytes.count <= capacity else { return INJECT_E_TOO_LARGE.rawValue }
            if let buffer {
                bytes.withUnsafeBytes {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: bytes.count)
                }
            }
            return INJECT_OK.rawValue
        }
        table.pointee.list_directory = { call, path, visit, context in
            guard let target = TestTarget.from(call), let path, let visit else { return INJECT_E_INVALID.rawValue }
            let entries = target.entries(String(cString: path))
            guard !entries.isEmpty else { return INJECT_E_NOT_FOUND.rawValue }
            for (name, isDirectory) in entries where visit(context, name, isDirectory ? 1 : 0) != 0 { break }
            return INJECT_OK.rawValue
        }
        table.pointee.resolve_pci_device = { call, spec, out in
            guard let target = TestTarget.from(call), let spec, let out else { return INJECT_E_INVALID.rawValue }
            return target.resolve(String(cString: spec), out)
        }
        table.pointee.monotonic_ns = { _ in 0 }
        table.pointee.realtime_ns = { call in TestTarget.from(call)?.realtimeNanoseconds ?? 0 }
        table.pointee.read_memory = { call, address, buffer, length in
            guard let target = TestTarget.from(call), let buffer else { return INJECT_E_INVALID.rawValue }
            guard target.hasFirmwareMemory else { return INJECT_E_UNSUPPORTED.rawValue }
            for offset in 0..<length {
                let at = address + UInt64(offset)
                guard
                    let (base, bytes) = target.memory.first(where: {
                        at >= $0.key && at < $0.key + UInt64($0.value.count)
                    })
                else {
                    return INJECT_E_IO.rawValue
                }
                buffer[offset] = bytes[Int(at - base)]
            }
            return INJECT_OK.rawValue
        }
        return UnsafePointer(table)
    }()

    /// The fake `resolve_pci_device`: full or bus-relative addresses as given (no normalization
    /// beyond the domain), QEMU ids from ``qemuDevices``.
    private func resolve(_ spec: String, _ out: UnsafeMutablePointer<inject_pci_device>) -> Int32 {
        func copy<T>(_ text: String, _ field: inout T) {
            withUnsafeMutableBytes(of: &field) { buffer in
                let bytes = Array(text.utf8.prefix(buffer.count - 1))
                buffer.copyBytes(from: bytes)
                buffer[bytes.count] = 0
            }
        }
        let isAddress = spec.contains(":") && spec.contains(".")
        let address =
            isAddress
            ? (spec.split(separator: ":").count == 2 ? "0000:" + spec : spec)
            : (hasQMP ? qemuDevices.first { $0.value == spec }?.key : nil)
        guard let address else {
            copy(
                hasQMP ? "QEMU has no PCI device with id '\(spec)'" : "'\(spec)' is not a PCI address",
                &out.pointee.reason)
            return hasQMP ? INJECT_E_NOT_FOUND.rawValue : INJECT_E_INVALID.rawValue
        }
        let present = isDirectory("sys/bus/pci/devices/" + address)
        guard present || qemuDevices[address] != nil else {
            copy("the target has no PCI device \(address)", &out.pointee.reason)
            return INJECT_E_NOT_FOUND.rawValue
        }
        out.pointee.flags = present ? UInt32(INJECT_PCI_PRESENT) : 0
        copy(address, &out.pointee.address)
        copy(hasQMP ? qemuDevices[address] ?? "" : "", &out.pointee.qemu_id)
        return INJECT_OK.rawValue
    }

    private func isDirectory(_ path: String) -> Bool { files.keys.contains { $0.hasPrefix(path + "/") } }

    private func entries(_ path: String) -> [(String, Bool)] {
        let prefix = path.isEmpty ? "" : path + "/"
        var found: [String: Bool] = [:]
        for key in files.keys where key.hasPrefix(prefix) {
            let rest = key.dropFirst(prefix.count).split(separator: "/", maxSplits: 1)
            guard let name = rest.first else { continue }
            found[String(name)] = (found[String(name)] ?? false) || rest.count > 1
        }
        return found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    // MARK: - Values

    /// Why a test's value could not be read.
    public struct InvalidValue: Error, CustomStringConvertible {
        public var description: String
    }

    /// `given` (as a user would type them) with the schema's defaults, parsed the simple way.
    public static func values(_ descriptor: BackendDescriptor, _ given: [String: String]) throws -> ParameterValues {
        for name in given.keys where !descriptor.parameters.contains(where: { $0.name == name }) {
            throw InvalidValue(description: "\(descriptor.name) has no parameter '\(name)'")
        }
        var values: [String: ParameterValue] = [:]
        for parameter in descriptor.parameters {
            guard let text = given[parameter.name] ?? parameter.defaultValue else {
                values[parameter.name] = ParameterValue(isSet: false, number: 0, text: "", bytes: [])
                continue
            }
            values[parameter.name] = try value(text, parameter)
        }
        return ParameterValues(values)
    }

    static func value(_ text: String, _ parameter: Parameter) throws -> ParameterValue {
        func number(_ text: String) throws -> UInt64 {
            let lower = text.lowercased()
            let parsed = lower.hasPrefix("0x") ? UInt64(lower.dropFirst(2), radix: 16) : UInt64(lower)
            guard let parsed else { throw InvalidValue(description: "\(parameter.name)=\(text) is not a number") }
            return parsed
        }
        switch parameter.kind {
        case .choice(let names):
            guard let index = names.firstIndex(of: text) else {
                throw InvalidValue(description: "\(parameter.name)=\(text) is not one of \(names)")
            }
            return ParameterValue(isSet: true, number: UInt64(index), text: text, bytes: [])
        case .bool:
            let on = ["true", "yes", "on", "1"].contains(text.lowercased())
            return ParameterValue(isSet: true, number: on ? 1 : 0, text: on ? "true" : "false", bytes: [])
        case .string, .cpuList:
            return ParameterValue(isSet: true, number: 0, text: text, bytes: [])
        case .file:
            // A test gives a file's contents; it arrives as the host would send one file named "test".
            return ParameterValue(
                isSet: true, number: 1, text: "test",
                bytes: [UInt8(INJECT_FILE_SEPARATOR)] + Array("test\n".utf8) + Array(text.utf8))
        case .bytes:
            let digits = text.filter { $0 != ":" }
            var bytes: [UInt8] = []
            var index = digits.startIndex
            while index < digits.endIndex {
                let next = digits.index(index, offsetBy: 2, limitedBy: digits.endIndex) ?? digits.endIndex
                guard let byte = UInt8(digits[index..<next], radix: 16) else {
                    throw InvalidValue(description: "\(parameter.name)=\(text) is not hex bytes")
                }
                bytes.append(byte)
                index = next
            }
            return ParameterValue(isSet: true, number: 0, text: text, bytes: bytes)
        case .int:
            guard let signed = Int64(text) else {
                throw InvalidValue(description: "\(parameter.name)=\(text) is not an integer")
            }
            return ParameterValue(isSet: true, number: UInt64(bitPattern: signed), text: text, bytes: [])
        case .size:
            let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
            if let last = text.uppercased().last, let unit = units[last] {
                return ParameterValue(
                    isSet: true, number: try number(String(text.dropLast())) * unit, text: text, bytes: [])
            }
            return ParameterValue(isSet: true, number: try number(text), text: text, bytes: [])
        case .u64, .address, .cpu:
            let value = try number(text)
            return ParameterValue(isSet: true, number: value, text: text, bytes: [])
        }
    }
}
