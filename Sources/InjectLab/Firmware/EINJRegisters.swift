import FirmwareFormats

/// Where the lab's EINJ firmware keeps its registers, inside the firmware window (all 64-bit,
/// SystemMemory, so the kernel reaches them with plain loads and stores and the host's emulator
/// sees them in the guest RAM file):
///
/// | offset | register | who writes it |
/// | --- | --- | --- |
/// | 0x00 | command (the doorbell) | the OS (EXECUTE writes 1); the emulator clears it |
/// | 0x08 | busy | the OS sets it (EXECUTE, before the doorbell); the emulator clears it when done |
/// | 0x10 | command status (0 success, 1 busy/failed, 2 invalid) | the emulator |
/// | 0x18 | error types offered | the emulator, at boot |
/// | 0x20 | trigger table address | the emulator, at boot |
/// | 0x28 | operation (1 between BEGIN and END) | the OS |
/// | 0x30 | EINJv2 error types offered (GET_ERROR_TYPE_V2) | the emulator, at boot |
/// | 0x100 | SET_ERROR_TYPE_WITH_ADDRESS parameters, then the EINJv2 extension (room for ``v2Components``) | the OS; the emulator sets the extension's length and revision at boot |
/// | 0x1000 | the trigger error action table | the emulator, at boot |
/// | 0x2000 | trigger (the trigger table's doorbell) | the OS (TRIGGER_ERROR), or whoever releases a `notrigger` error (`busybox devmem 0x100F2000 64 1`) |
///
/// The trigger sits on a page of its own: the kernel holds the EINJ registers' page while einj is
/// loaded, and /dev/mem refuses pages a driver holds (CONFIG_IO_STRICT_DEVMEM).
public struct EINJRegisters: Sendable, Equatable, Codable {
    /// The first register's guest-physical address.
    public var base: UInt64

    public var command: UInt64 { base }
    public var busy: UInt64 { base + 0x08 }
    public var status: UInt64 { base + 0x10 }
    public var capabilities: UInt64 { base + 0x18 }
    public var triggerTablePointer: UInt64 { base + 0x20 }
    public var operation: UInt64 { base + 0x28 }
    public var capabilitiesV2: UInt64 { base + 0x30 }
    public var trigger: UInt64 { base + 0x2000 }
    public var parameters: UInt64 { base + 0x100 }
    public var triggerTable: UInt64 { base + 0x1000 }

    /// Command status values (ACPI 6.5 table 18.27).
    public enum Status: UInt64, Sendable {
        case success = 0
        case failed = 1
        case invalid = 2
    }

    /// The error types the lab offers unless told otherwise: processor, memory and PCIe,
    /// correctable and uncorrectable non-fatal (the fatal ones panic the guest).
    public static let defaultTypes: UInt32 = 0x1 | 0x2 | 0x8 | 0x10 | 0x40 | 0x80
    /// The types the platform itself produces (processor, memory and PCIe; correctable,
    /// uncorrectable non-fatal and fatal); the lab's devices add theirs (``LabDevice/einjTypes``).
    public static let platformTypes: UInt32 = 0x1FF
    /// Every type the emulator can produce, the EINJv2 ones in the lab's bits (``v2Shift``).
    public static var supportedTypes: UInt32 { LabDevices.supportedEINJTypes | supportedV2Types << v2Shift }

    /// The EINJv2 types the emulator produces: processor (0x1) and memory (0x2) errors, one
    /// record per component.
    public static let supportedV2Types: UInt32 = 0x3
    /// The components an EINJv2 injection may name (the extension's room).
    public static let v2Components = 4
    /// Where the lab's offer keeps its EINJv2 types: bits 18-20 (reserved among GET_ERROR_TYPE's
    /// types, so never the register's), shifted out into GET_ERROR_TYPE_V2's register at boot.
    public static let v2Shift: UInt32 = 18

    /// GET_ERROR_TYPE's types for the lab's `offer`: its classic types, and bit 30 (the EINJv2
    /// extension) when it offers EINJv2 types.
    public static func classicTypes(_ offer: UInt32) -> UInt32 {
        offer & ~(0x7 << v2Shift) | (v2Types(offer) != 0 ? EINJv2Extension.supportBit : 0)
    }

    /// The EINJv2 types of the lab's `offer` (GET_ERROR_TYPE_V2's register).
    public static func v2Types(_ offer: UInt32) -> UInt32 { offer >> v2Shift & 0x7 }

    /// The EINJ table that points the OS at these registers; with EINJv2 types in `offer`, also
    /// GET_ERROR_TYPE_V2 (a kernel without EINJv2 never runs it).
    public func table(offer: UInt32) -> EINJ {
        func register(_ address: UInt64) -> GenericAddress { .memory(address) }
        let v2: [EINJ.Entry] =
            Self.v2Types(offer) != 0
            ? [.init(.getErrorTypeV2, .readRegister, register(capabilitiesV2), mask: 0xFFFF_FFFF)] : []
        return EINJ(
            entries: [
                .init(.beginOperation, .writeRegisterValue, register(operation), value: 1),
                .init(.getTriggerErrorActionTable, .readRegister, register(triggerTablePointer)),
                .init(.setErrorTypeWithAddress, .writeRegister, register(parameters)),
                .init(.getErrorType, .readRegister, register(capabilities), mask: 0xFFFF_FFFF),
                .init(.endOperation, .writeRegisterValue, register(operation), value: 0),
                // Busy is set by the OS itself before the doorbell, so it never reads a stale "done".
                .init(.executeOperation, .writeRegisterValue, register(busy), value: 1),
                .init(.executeOperation, .writeRegisterValue, register(command), value: 1),
                .init(.checkBusyStatus, .readRegisterValue, register(busy), value: 1, mask: 1),
                .init(.getCommandStatus, .readRegister, register(status), mask: 0xFF),
            ] + v2)
    }

    /// The trigger table: one write to the trigger register.
    public var triggerTableContents: EINJ.TriggerTable {
        EINJ.TriggerTable(entries: [.init(.triggerError, .writeRegisterValue, .memory(trigger), value: 1)])
    }

    /// What the registers hold before the guest boots, offering `offer`.
    public func initialContents(types offer: UInt32) -> [(address: UInt64, bytes: [UInt8])] {
        var registers = ByteWriter()
        let values: [UInt64] = [
            0, 0, 0, UInt64(Self.classicTypes(offer)), triggerTable, 0, UInt64(Self.v2Types(offer)),
        ]
        for value in values { registers.put(value) }
        let parameterBlock =
            [UInt8](repeating: 0, count: EINJParameters.size)
            + EINJv2Extension(capacity: Self.v2Components).encoded()
        return [
            (base, registers.bytes), (parameters, parameterBlock),
            (triggerTable, triggerTableContents.encoded()),
            (trigger, [UInt8](repeating: 0, count: 8)),
        ]
    }
}
