import InjectPluginAPI

/// A device's error-reporting registers, read from its configuration space
/// (`sys/bus/pci/devices/ADDR/config`, all 4 KiB when read as root): the Device Control
/// register's reporting enables and the AER capability's masks and severity.
public struct AERRegisters: Sendable, Equatable {
    /// Device Control bits 0-3: correctable, non-fatal, fatal, unsupported-request reporting.
    public var deviceControl: UInt16
    /// Uncorrectable Error Mask.
    public var uncorrectableMask: UInt32
    /// Uncorrectable Error Severity (a set bit is fatal).
    public var severity: UInt32
    /// Correctable Error Mask.
    public var correctableMask: UInt32
    /// The PCI Express device/port type (0 endpoint, 4 root port, 5 upstream, 6 downstream port).
    public var portType: UInt8 = 0

    /// The registers in `config`, or `nil` when it has no PCI Express or no AER capability.
    public init?(config: [UInt8]) {
        func word(_ offset: Int) -> UInt16? {
            offset + 2 <= config.count ? UInt16(config[offset]) | UInt16(config[offset + 1]) << 8 : nil
        }
        func dword(_ offset: Int) -> UInt32? {
            guard let low = word(offset), let high = word(offset + 2) else { return nil }
            return UInt32(low) | UInt32(high) << 16
        }
        // The PCI Express capability (id 0x10) in the standard list.
        var pointer = Int(config.count > 0x34 ? config[0x34] & 0xFC : 0)
        var express: Int?
        for _ in 0..<48 where pointer >= 0x40 && pointer + 1 < config.count {
            if config[pointer] == 0x10 {
                express = pointer
                break
            }
            pointer = Int(config[pointer + 1] & 0xFC)
        }
        // The AER extended capability (id 0x0001) from 0x100 on.
        var extended = 0x100
        var aer: Int?
        for _ in 0..<480 where extended >= 0x100 {
            guard let header = dword(extended), header != 0, header != 0xFFFF_FFFF else { break }
            if header & 0xFFFF == 1 {
                aer = extended
                break
            }
            extended = Int(header >> 20) & 0xFFC
        }
        guard let express, let aer, let control = word(express + 8), let uncorrectableMask = dword(aer + 8),
            let severity = dword(aer + 12), let correctableMask = dword(aer + 20)
        else { return nil }
        deviceControl = control
        portType = express + 2 < config.count ? config[express + 2] >> 4 : 0
        self.uncorrectableMask = uncorrectableMask
        self.severity = severity
        self.correctableMask = correctableMask
    }

    /// Registers as a test gives them.
    public init(
        deviceControl: UInt16 = 0xF, uncorrectableMask: UInt32 = 0, severity: UInt32 = AERError.defaultSeverity,
        correctableMask: UInt32 = 0xE000
    ) {
        self.deviceControl = deviceControl
        self.uncorrectableMask = uncorrectableMask
        self.severity = severity
        self.correctableMask = correctableMask
    }

    /// The registers of the device at `address` on `target`, or `nil` when its configuration
    /// space cannot be read that far.
    public static func read(_ address: String, on target: Target) -> AERRegisters? {
        (try? target.readBytes("sys/bus/pci/devices/\(address)/config")).flatMap { AERRegisters(config: $0) }
    }

    /// Whether the device sends messages for errors of each class (Device Control bits 0-2).
    public var reportsCorrectable: Bool { deviceControl & 1 != 0 }
    public var reportsNonFatal: Bool { deviceControl & 2 != 0 }
    public var reportsFatal: Bool { deviceControl & 4 != 0 }
    /// Whether the kernel reads this device's registers after a fatal error: only a port's (a
    /// fatal error may have taken an endpoint's link down, so its status is not read).
    public var readAfterFatal: Bool { [4, 6, 9, 10].contains(portType) }
}
