import FirmwareFormats
import InjectHost

/// EINJv2 on the lab's platform (ACPI 6.5's extension, ``EINJv2Extension``): an injection names
/// components, and the platform reports the error once per component. The lab's components are
/// its DIMMs for memory errors (1 to 4, ``LabMemoryDevices`` in table order) and its CPUs' APIC IDs
/// for processor errors. Each component's record carries the component in the data entry's FRU ID
/// and its syndrome in the FRU text (`synd 0x...`, up to 15 hex digits: no CPER memory or processor
/// field holds a syndrome); a memory record names the DIMM by its SMBIOS handle, as a platform's
/// does. EINJv2 types say no severity: the lab reports them as corrected errors.
extension EINJFirmware {
    /// Validates an EINJv2 injection as the platform's firmware would: a type it offers, at least
    /// one component, each one it has; the records to deliver, or why not (the OS's write then
    /// fails with the command status "invalid").
    func acceptV2(_ parameters: EINJParameters, extension bytes: [UInt8]) -> Result<PendingError, Refusal> {
        let offered = EINJRegisters.v2Types(types)
        let type = parameters.type
        guard offered != 0 else {
            return .failure(
                Refusal(text: "EINJv2 is not offered by this platform (\(Setting.einjTypes.named("V2_0x2")) offers it)")
            )
        }
        guard type.nonzeroBitCount == 1, type & offered != 0 else {
            return .failure(
                Refusal(text: "EINJv2 error type \(hexNumber(type)) is not offered (\(hexNumber(offered)))"))
        }
        let extensionBlock: EINJv2Extension
        do { extensionBlock = try EINJv2Extension(parsing: bytes) } catch {
            return .failure(Refusal(text: "the EINJv2 extension cannot be read: \(error)"))
        }
        guard !extensionBlock.components.isEmpty else {
            return .failure(Refusal(text: "an EINJv2 injection names no component"))
        }
        var entries: [(section: ErrorSection, component: EINJv2Extension.Component, name: String)] = []
        for component in extensionBlock.components {
            switch memoryOrProcessor(type, component, parameters) {
            case .success(let made): entries.append((made.section, component, made.name))
            case .failure(let refusal): return .failure(refusal)
            }
        }
        let blocks = entries.map { entry in
            GenericErrorStatusBlock(entries: [
                GenericErrorDataEntry(
                    severity: .corrected, fruID: GUID(bytes: entry.component.id),
                    fruText: String(("synd " + EINJv2Extension.Component.hex(entry.component.syndrome)).prefix(20)),
                    timestamp: Self.now(), section: entry.section)
            ])
        }
        let names = entries.map(\.name).joined(separator: ", ")
        return .success(
            PendingError(
                type: type, delivery: .records(blocks, corrected: true),
                summary: "EINJv2 \(type == 0x2 ? "memory" : "processor") error, \(entries.count) component(s): \(names)"
            ))
    }

    /// The section for one component of a memory (0x2) or processor (0x1) error, and its name.
    private func memoryOrProcessor(
        _ type: UInt32, _ component: EINJv2Extension.Component, _ parameters: EINJParameters
    ) -> Result<(section: ErrorSection, name: String), Refusal> {
        let id = EINJv2Extension.Component.hex(component.id)
        let small = component.id.dropFirst(4).allSatisfy { $0 == 0 }
        let number =
            small ? component.id.prefix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) } : -1
        if type == 0x2 {
            let dimms = LabMemoryDevices(memoryMiB: Int(memoryBytes >> 20)).devices
            guard (1...dimms.count).contains(number) else {
                return .failure(
                    Refusal(
                        text:
                            "component \(id) is not one of this platform's memory components (0x1-\(hexNumber(UInt64(dimms.count))): its DIMMs)"
                    ))
            }
            guard parameters.flags & 0x2 != 0, parameters.memoryAddress < memoryBytes else {
                return .failure(Refusal(text: "an EINJv2 memory error needs a guest RAM address (flags bit 1)"))
            }
            let dimm = dimms[number - 1]
            var memory = FixedSection(SectionLayouts.platformMemory)
            memory["physical_address"] = parameters.memoryAddress
            if parameters.memoryRange != 0 { memory["physical_address_mask"] = parameters.memoryRange }
            memory["module_handle"] = UInt64(dimm.handle)
            return .success((.fixed(memory), "\(id) \(dimm.bankLocator) \(dimm.deviceLocator)"))
        }
        guard number >= 0, number < cpus else {
            return .failure(
                Refusal(
                    text:
                        "component \(id) is not one of this platform's processors (APIC IDs 0x0-\(hexNumber(UInt64(cpus - 1))))"
                ))
        }
        var processor = FixedSection(SectionLayouts.processorGeneric)
        processor["processor_type"] = 0
        processor["isa"] = 2
        processor["error_type"] = 1
        processor["processor_id"] = UInt64(number)
        return .success((.fixed(processor), "\(id) APIC \(number)"))
    }
}
