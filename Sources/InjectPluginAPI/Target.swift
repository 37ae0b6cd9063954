import InjectPluginABI

/// Read-only access to the target, through the host's services.
///
/// A `Target` is valid only during the `probe` or `plan` call that received it.
public struct Target {
    let call: OpaquePointer?
    let host: UnsafePointer<inject_host_api>

    /// The attribute root (`/` unless the user chose `--root`).
    public let root: String
    /// Whether attribute files are reachable.
    public let hasFiles: Bool
    /// Whether a QEMU monitor (QMP) is connected.
    public let hasQMP: Bool
    /// Whether a guest's firmware memory can be written.
    public let hasFirmwareMemory: Bool
    /// Whether IPMI requests reach a BMC (a lab's, one given with `--bmc`, or this machine's in-band).
    public let hasIPMI: Bool

    /// A target read through `host`'s services for `call` (the SDK, and test doubles through SPI).
    @_spi(Testing) public init(call: OpaquePointer?, host: UnsafePointer<inject_host_api>) {
        self.call = call
        self.host = host
        var info = inject_target_info()
        info.struct_size = UInt32(MemoryLayout<inject_target_info>.size)
        _ = host.pointee.target_info(call, &info)
        root = info.root.map { String(cString: $0) } ?? "/"
        hasFiles = info.flags & UInt32(INJECT_TARGET_FILES) != 0
        hasQMP = info.flags & UInt32(INJECT_TARGET_QMP) != 0
        hasFirmwareMemory = info.flags & UInt32(INJECT_TARGET_MEMORY) != 0
        hasIPMI = info.flags & UInt32(INJECT_TARGET_IPMI) != 0
    }

    /// Reads a file of the target as text.
    ///
    /// - Parameter path: relative to the target root, such as `sys/devices/system/cpu/online`.
    /// - Throws: ``BackendError`` with code `.notFound`, `.permission` or `.failed`.
    public func read(_ path: String) throws(BackendError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Reads a file of the target as bytes (an ACPI table, for example).
    public func readBytes(_ path: String) throws(BackendError) -> [UInt8] {
        var capacity = 4096
        while true {
            var length = 0
            var buffer = [CChar](repeating: 0, count: capacity)
            let rc = buffer.withUnsafeMutableBufferPointer {
                host.pointee.read_attribute(call, path, $0.baseAddress, capacity, &length)
            }
            if rc == INJECT_E_TOO_LARGE.rawValue, length > capacity {
                capacity = length
                continue
            }
            guard rc == INJECT_OK.rawValue else { throw Self.error(rc, path) }
            return buffer[..<length].map { UInt8(bitPattern: $0) }
        }
    }

    /// Reads the target's firmware memory (a lab's RAM) at a guest-physical address.
    ///
    /// - Throws: ``BackendError`` `.unsupported` when the host is older than ABI 1.1 or the
    ///   target has no firmware memory, `.failed` when the range is outside it.
    public func readMemory(_ address: UInt64, count: Int) throws(BackendError) -> [UInt8] {
        guard host.pointee.struct_size > INJECT_HOST_API_SIZE_1_0, let read = host.pointee.read_memory else {
            throw BackendError.unsupported("the host is older than ABI 1.1: it cannot read firmware memory")
        }
        var buffer = [UInt8](repeating: 0, count: count)
        let rc = buffer.withUnsafeMutableBufferPointer { read(call, address, $0.baseAddress, count) }
        guard rc == INJECT_OK.rawValue else {
            if rc == INJECT_E_UNSUPPORTED.rawValue {
                throw BackendError.unsupported("the target has no firmware memory (use --lab or --guest-memory)")
            }
            throw BackendError(
                .failed,
                "reading \(count) byte(s) of firmware memory at 0x\(String(address, radix: 16)) failed (code \(rc))")
        }
        return buffer
    }

    /// Finds the PCI device `spec` names, through the host (which owns PCI targeting): an address
    /// `[dddd:]bb:dd.f`, or on a target with a QEMU monitor a QEMU device id.
    ///
    /// - Throws: ``BackendError`` `.invalid` for a spec that is neither, `.notFound` when the target
    ///   has no such device (the host's message names what it has), `.unsupported` on a host older
    ///   than ABI 1.4.
    public func pciDevice(_ spec: String) throws(BackendError) -> PCIDevice {
        guard host.pointee.struct_size >= INJECT_HOST_API_SIZE_1_4, let resolve = host.pointee.resolve_pci_device else {
            throw BackendError.unsupported("the host is older than ABI 1.4: it cannot find PCI devices; update inject")
        }
        var device = inject_pci_device()
        device.struct_size = UInt32(MemoryLayout<inject_pci_device>.size)
        let rc = resolve(call, spec, &device)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        guard rc == INJECT_OK.rawValue else {
            let reason = text(device.reason)
            switch rc {
            case INJECT_E_NOT_FOUND.rawValue: throw BackendError(.notFound, reason)
            case INJECT_E_INVALID.rawValue: throw BackendError.invalid(reason)
            default:
                throw BackendError(
                    .failed, reason.isEmpty ? "finding PCI device '\(spec)' failed (code \(rc))" : reason)
            }
        }
        let id = text(device.qemu_id)
        return PCIDevice(
            address: text(device.address), qemuID: id.isEmpty ? nil : id,
            isPresent: device.flags & UInt32(INJECT_PCI_PRESENT) != 0)
    }

    /// Reads a file, trimmed of surrounding white space, or `nil` when it cannot be read.
    public func value(_ path: String) -> String? {
        (try? read(path))?.trimmingWhitespace
    }

    /// Whether a file or directory exists on the target.
    public func exists(_ path: String) -> Bool {
        var length = 0
        var byte: CChar = 0
        let rc = host.pointee.read_attribute(call, path, &byte, 1, &length)
        // A write-only attribute (such as /proc/sysrq-trigger) exists but fails to read with EIO.
        let found = [INJECT_OK, INJECT_E_TOO_LARGE, INJECT_E_PERMISSION, INJECT_E_IO].map(\.rawValue)
        if found.contains(rc) { return true }
        return (try? list(path)) != nil
    }

    /// The names in a directory of the target, in name order.
    public func list(_ path: String) throws(BackendError) -> [String] {
        final class Names { var items: [String] = [] }
        let names = Names()
        let rc = withExtendedLifetime(names) {
            host.pointee.list_directory(
                call, path,
                { context, name, _ in
                    let names = Unmanaged<Names>.fromOpaque(context!).takeUnretainedValue()
                    names.items.append(String(cString: name!))
                    return 0
                }, Unmanaged.passUnretained(names).toOpaque())
        }
        guard rc == INJECT_OK.rawValue else { throw Self.error(rc, path) }
        return names.items
    }

    /// Writes a line to the host's log.
    public func log(_ message: String, level: inject_log_level = INJECT_LOG_INFO) {
        host.pointee.log(call, Int32(bitPattern: level.rawValue), message)
    }

    /// Monotonic time in nanoseconds.
    public var monotonicNanoseconds: UInt64 { host.pointee.monotonic_ns(call) }
    /// The host's wall-clock time in nanoseconds since 1970 (UTC).
    public var realtimeNanoseconds: UInt64 { host.pointee.realtime_ns(call) }

    static func error(_ rc: Int32, _ path: String) -> BackendError {
        switch rc {
        case INJECT_E_NOT_FOUND.rawValue: return BackendError(.notFound, "\(path) does not exist on the target")
        case INJECT_E_PERMISSION.rawValue: return BackendError(.permission, "\(path): permission denied")
        default: return BackendError(.failed, "\(path) could not be read (code \(rc))")
        }
    }
}

/// A PCI device of the target, as ``Target/pciDevice(_:)`` finds it.
public struct PCIDevice: Sendable, Equatable {
    /// `dddd:bb:dd.f`, lower-case hex: the name the kernel uses in sysfs, logs and tracepoints.
    public var address: String
    /// The QEMU device id (what QEMU's monitor commands take), when the target has a monitor.
    public var qemuID: String?
    /// Whether the target's kernel lists the device.
    public var isPresent: Bool

    /// A device (test doubles).
    public init(address: String, qemuID: String? = nil, isPresent: Bool = true) {
        self.address = address
        self.qemuID = qemuID
        self.isPresent = isPresent
    }

    /// The device's sysfs directory, relative to the target root.
    public var sysfsPath: String { "sys/bus/pci/devices/\(address)" }

    /// The address's parts, as records that name a device carry them (aer_inject's struct, a CPER
    /// section's device id); `nil` when the address is not `dddd:bb:dd.f`.
    public var location: (segment: UInt16, bus: UInt8, device: UInt8, function: UInt8)? {
        let parts = address.split(whereSeparator: { $0 == ":" || $0 == "." }).map { UInt16($0, radix: 16) }
        guard parts.count == 4, let segment = parts[0], let bus = parts[1], let device = parts[2],
            let function = parts[3],
            bus <= 0xFF, device <= 31, function <= 7
        else { return nil }
        return (segment, UInt8(bus), UInt8(device), UInt8(function))
    }

    /// ``location``, or the failure to report: the host always gives a readable address, so an
    /// unreadable one is the host's fault.
    public func requireLocation() throws(BackendError) -> (segment: UInt16, bus: UInt8, device: UInt8, function: UInt8)
    {
        guard let location else { throw BackendError(.failed, "the host gave an unreadable PCI address '\(address)'") }
        return location
    }
}

/// What `plan` receives: the validated values and read access to the target.
public struct PlanRequest {
    /// One value per schema entry.
    public let parameters: ParameterValues
    /// The target.
    public let target: Target

    /// A request (the SDK, and test doubles through SPI).
    @_spi(Testing) public init(parameters: ParameterValues, target: Target) {
        self.parameters = parameters
        self.target = target
    }
}

extension String {
    /// The string without leading and trailing white space.
    public var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
