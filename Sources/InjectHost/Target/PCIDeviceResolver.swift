import InjectPluginABI

/// PCI device targeting, owned by the host (ABI 1.4 `resolve_pci_device`): a device named the way
/// the user named it, by address (`[dddd:]bb:dd.f`) or, where a QEMU monitor is connected, by its
/// QEMU device id, becomes its full address and, on a QEMU target, the id QEMU's monitor commands
/// take. QEMU's `query-pci` gives the id for each bus, slot and function (bus numbers as the guest
/// programmed them, so they are the guest's addresses); the target's `sys/bus/pci/devices` says
/// whether its kernel has the device.
public struct PCIDeviceResolver {
    /// A resolved device.
    public struct Device: Sendable, Equatable {
        /// `dddd:bb:dd.f`, lower-case hex.
        public var address: String
        /// The QEMU device id, when the target has a monitor and the device an id.
        public var qemuID: String?
        /// Whether the target's kernel lists the device.
        public var isPresent: Bool
    }

    /// Why a spec names no device.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Neither an address nor (on a QEMU target) an id.
        case invalid(String)
        /// Well formed, but the target has no such device.
        case notFound(String)

        public var description: String {
            switch self {
            case .invalid(let text), .notFound(let text): text
            }
        }

        /// The ABI's result code.
        var code: Int32 {
            switch self {
            case .invalid: INJECT_E_INVALID.rawValue
            case .notFound: INJECT_E_NOT_FOUND.rawValue
            }
        }
    }

    let files: any TargetFiles
    /// Whether the target has a QEMU monitor (QEMU ids are names only there).
    let hasMonitor: Bool
    /// QEMU's devices with ids, from `query-pci`; empty without a monitor or when it did not answer.
    let qemu: [(address: String, id: String)]

    /// A resolver for a target's files and, where it has one, its QEMU monitor (asked once, here).
    public init(files: any TargetFiles, qmpSocket: String?) {
        self.init(
            files: files, hasMonitor: qmpSocket != nil,
            qemu: qmpSocket.flatMap { try? Self.qemuDevices(socketPath: $0) } ?? [])
    }

    /// A resolver with QEMU's devices already asked for (a plugin call resolves many devices).
    init(files: any TargetFiles, hasMonitor: Bool, qemu: [(address: String, id: String)]) {
        self.files = files
        self.hasMonitor = hasMonitor
        self.qemu = qemu
    }

    /// The device `spec` names.
    public func resolve(_ spec: String) throws(Failure) -> Device {
        let text = spec.trimmed()
        if let address = Self.normalizedAddress(text) {
            let present = files.exists("sys/bus/pci/devices/\(address)")
            let id = qemu.first { $0.address == address }?.id
            guard present || id != nil else {
                throw .notFound("the target has no PCI device \(address); it has \(listing(qemu))")
            }
            return Device(address: address, qemuID: id, isPresent: present)
        }
        guard hasMonitor else {
            throw .invalid(
                "'\(text)' is not a PCI address ([dddd:]bb:dd.f, hex, such as 01:00.0); device names are QEMU ids and need a QEMU monitor (\(Setting.lab) or \(Setting.qmpSocket))"
            )
        }
        guard let found = qemu.first(where: { $0.id == text }) else {
            throw .notFound("QEMU has no PCI device with id '\(text)'; it has \(listing(qemu))")
        }
        return Device(
            address: found.address, qemuID: found.id, isPresent: files.exists("sys/bus/pci/devices/\(found.address)"))
    }

    /// What to offer instead: QEMU's ids with their addresses, else the kernel's addresses.
    private func listing(_ qemu: [(address: String, id: String)]) -> String {
        if !qemu.isEmpty {
            return qemu.map { "\($0.id) (\($0.address))" }.joined(separator: ", ")
        }
        let names = ((try? files.list(TargetPath("sys/bus/pci/devices"))) ?? []).map(\.name)
        return names.isEmpty ? "no PCI devices" : names.joined(separator: ", ")
    }

    /// `[dddd:]bb:dd.f` as `dddd:bb:dd.f` (hex, domain 0 when left out), or `nil`.
    public static func normalizedAddress(_ text: String) -> String? {
        var parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { parts.insert("0", at: 0) }
        guard parts.count == 3 else { return nil }
        let slotFunction = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard slotFunction.count == 2,
            let domain = hex(parts[0], max: 0xFFFF), let bus = hex(parts[1], max: 0xFF),
            let slot = hex(String(slotFunction[0]), max: 0x1F), let function = hex(String(slotFunction[1]), max: 7)
        else { return nil }
        return pad(domain, 4) + ":" + pad(bus, 2) + ":" + pad(slot, 2) + "." + String(function)
    }

    private static func hex(_ text: String, max: UInt64) -> UInt64? {
        guard !text.isEmpty, text.count <= 4, let value = UInt64(text, radix: 16), value <= max else { return nil }
        return value
    }

    private static func pad(_ value: UInt64, _ width: Int) -> String {
        let digits = hexText(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Every PCI device QEMU has an id for, from `query-pci`, bridges followed.
    public static func qemuDevices(socketPath: String) throws(TargetError) -> [(address: String, id: String)] {
        let client = try QMPClient(socketPath: socketPath)
        return devices(in: try client.execute("query-pci"))
    }

    /// The devices of a `query-pci` answer (domain 0: QEMU numbers no others there).
    static func devices(in answer: JSONValue) -> [(address: String, id: String)] {
        var found: [(address: String, id: String)] = []
        func visit(_ devices: JSONValue?) {
            guard case .array(let list)? = devices else { return }
            for device in list {
                if case .number(let bus)? = device["bus"], case .number(let slot)? = device["slot"],
                    case .number(let function)? = device["function"], let id = device["qdev_id"]?.stringValue,
                    !id.isEmpty
                {
                    found.append(
                        (
                            address: "0000:" + pad(UInt64(bus), 2) + ":" + pad(UInt64(slot), 2) + "."
                                + String(Int(function)), id: id
                        ))
                }
                visit(device["pci_bridge"]?["devices"])
            }
        }
        if case .array(let buses) = answer {
            for bus in buses { visit(bus["devices"]) }
        }
        return found
    }
}
