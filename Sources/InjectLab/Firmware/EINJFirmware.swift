import FirmwareFormats
import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The lab's EINJ firmware, run by the host beside QEMU (`inject lab firmware`, started by `lab up`):
/// it watches the EINJ doorbell in the guest RAM file, validates the parameters as a platform
/// would, and produces the error the type asks for as a CPER record in the right GHES source
/// (corrected ones through the polled source, uncorrectable ones through the NMI source, with the
/// NMI raised over QMP). The record is held until the trigger table's doorbell rings, so the
/// kernel's `notrigger` works as on a server.
public struct EINJFirmware {
    /// What the emulator has done, shown by `lab status`.
    public struct Counts: Codable, Sendable, Equatable {
        /// Injections accepted (command status success).
        public var accepted = 0
        /// Injections refused (command status invalid), with the last reason.
        public var refused = 0
        /// Errors delivered into a GHES source.
        public var delivered = 0
        /// Whether an accepted error waits for its trigger.
        public var pending = false
        /// The last thing that happened, for people.
        public var last = ""
    }

    /// An accepted error waiting for its trigger.
    public struct PendingError {
        /// How the platform produces it.
        public enum Delivery {
            /// CPER records in the GHES source for their severity, one after the other (each once
            /// the OS consumed the one before).
            case records([GenericErrorStatusBlock], corrected: Bool)
            /// An error set in a device's registers (QEMU's monitor command), which the device
            /// itself then reports to the OS.
            case device(command: String, arguments: JSONValue)
        }
        var type: UInt32
        var delivery: Delivery
        var summary: String

        /// An error of EINJ type `type`, produced by `delivery`; `summary` for `lab status`.
        public init(type: UInt32, delivery: Delivery, summary: String) {
            self.type = type
            self.delivery = delivery
            self.summary = summary
        }
    }

    let layout: FirmwareLayout
    let memory: FilePath
    let memoryBytes: UInt64
    let cpus: Int
    let types: UInt32
    let qmpSocket: String
    let countsFile: FilePath
    /// The lab's devices: the EINJ types beyond the platform's own are theirs to produce.
    let devices: [any LabDevice]

    /// Serves the lab whose record is at `paths` until its QEMU exits.
    public static func serve(_ paths: LabPaths) throws(LabError) -> Never {
        // A daemon holds nothing of whoever started it: a caller's pipe left open here would keep
        // that caller waiting for end of file for as long as the lab runs.
        closeInheritedDescriptors()
        guard let record = LabRecord.load(paths.record) else {
            throw .notRunning(name: paths.name)
        }
        let firmware = EINJFirmware(
            layout: .lab, memory: FilePath(record.guestMemory), memoryBytes: UInt64(record.memoryMiB) << 20,
            cpus: record.cpus, types: record.einjTypes ?? EINJRegisters.defaultTypes,
            qmpSocket: record.qmpSocket, countsFile: paths.firmwareCounts,
            devices: LabDevices.machine(with: record.devices ?? []))
        try firmware.run(qemu: record.pid, name: paths.name)
    }

    private func run(qemu: Int32, name: String) throws(LabError) -> Never {
        let fd = open(memory.string, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: memory.string, reason: "\(Errno(rawValue: errno))") }
        let registers = layout.einj
        var counts = Counts()
        var pending: PendingError?
        save(counts)
        var tick = 0
        while true {
            tick += 1
            if tick % 500 == 0, !Lab.isQEMU(qemu, name: name) { exit(0) }
            // Unbuffered reads: the guest writes the registers behind any buffer's back.
            if read(fd, registers.command) != 0 {
                write(fd, registers.command, 0)
                let result = accept(fd)
                switch result {
                case .success(let error):
                    pending = error
                    counts.accepted += 1
                    counts.pending = true
                    counts.last = "accepted \(error.summary)"
                    write(fd, registers.status, EINJRegisters.Status.success.rawValue)
                case .failure(let reason):
                    counts.refused += 1
                    counts.last = "refused: \(reason.text)"
                    write(fd, registers.status, EINJRegisters.Status.invalid.rawValue)
                }
                write(fd, registers.busy, 0)
                save(counts)
            }
            if read(fd, registers.trigger) != 0 {
                write(fd, registers.trigger, 0)
                if let error = pending {
                    pending = nil
                    counts.pending = false
                    counts.last =
                        deliver(fd, error)
                        ? "delivered \(error.summary)"
                        : "could not deliver \(error.summary): the OS did not consume the previous record"
                    if !counts.last.hasPrefix("could") { counts.delivered += 1 }
                } else {
                    counts.last = "triggered with nothing pending"
                }
                save(counts)
            }
            usleep(1_000)
        }
    }

    /// Why a request is refused, as a platform's firmware would say it.
    public struct Refusal: Error {
        public var text: String
        public init(text: String) { self.text = text }
    }

    /// Reads and validates the parameters the OS wrote; the error to produce, or why not.
    func accept(_ fd: Int32) -> Result<PendingError, Refusal> {
        let extensionSize = EINJv2Extension(capacity: EINJRegisters.v2Components).encoded().count
        guard
            let bytes = try? FileIO.read(
                EINJParameters.size + extensionSize, at: Int64(layout.einj.parameters), of: memory),
            let parameters = try? EINJParameters(parsing: bytes)
        else { return .failure(Refusal(text: "the parameters cannot be read")) }
        if parameters.flags & EINJv2Extension.flag != 0 {
            return acceptV2(parameters, extension: Array(bytes.dropFirst(EINJv2Extension.offset)))
        }
        let type = parameters.type
        guard type.nonzeroBitCount == 1, type & EINJRegisters.classicTypes(types) & ~EINJv2Extension.supportBit != 0
        else {
            return .failure(
                Refusal(
                    text:
                        "error type \(hexNumber(type)) is not offered (\(hexNumber(EINJRegisters.classicTypes(types))))"
                ))
        }
        if let device = devices.first(where: { type & $0.einjTypes != 0 }) {
            return device.einjError(type: type, parameters: parameters, qmpSocket: qmpSocket)
        }
        guard type & EINJRegisters.platformTypes != 0 else {
            return .failure(Refusal(text: "error type \(hexNumber(type)) is produced by no device of this lab"))
        }
        let severity: CPERSeverity = type & 0x49 != 0 ? .corrected : type & 0x92 != 0 ? .recoverable : .fatal
        let section: ErrorSection
        let summary: String
        switch type {
        case 0x8, 0x10, 0x20:
            guard parameters.flags & 0x2 != 0 else {
                return .failure(Refusal(text: "a memory error needs an address (flags bit 1)"))
            }
            let address = parameters.memoryAddress
            guard address < memoryBytes, !(layout.base..<layout.base + layout.size).contains(address) else {
                return .failure(
                    Refusal(
                        text:
                            "address \(hexNumber(address)) is not guest RAM (0...\(hexNumber(memoryBytes - 1)), outside the firmware window)"
                    ))
            }
            var memory = FixedSection(SectionLayouts.platformMemory)
            memory["physical_address"] = address
            if parameters.memoryRange != 0 { memory["physical_address_mask"] = parameters.memoryRange }
            section = .fixed(memory)
            summary = "memory \(severity) at \(hexNumber(address))"
        case 0x1, 0x2, 0x4:
            let apic = parameters.flags & 0x1 != 0 ? parameters.apicID : 0
            guard apic < UInt32(cpus) else {
                return .failure(Refusal(text: "APIC ID \(apic) is not one of the \(cpus) CPU(s)"))
            }
            var processor = FixedSection(SectionLayouts.processorGeneric)
            processor["processor_type"] = 0
            processor["isa"] = 2
            processor["error_type"] = 1
            processor["processor_id"] = UInt64(apic)
            section = .fixed(processor)
            summary = "processor \(severity) on APIC \(apic)"
        default:
            guard parameters.flags & 0x4 != 0 else {
                return .failure(Refusal(text: "a PCIe error needs a device (flags bit 2, SBDF)"))
            }
            let sbdf = PCIeSBDF(raw: parameters.pcieSBDF)
            var pcie = FixedSection(SectionLayouts.pcie)
            pcie["segment"] = UInt64(sbdf.segment)
            pcie["bus"] = UInt64(sbdf.bus)
            pcie["device"] = UInt64(sbdf.device)
            pcie["function"] = UInt64(sbdf.function)
            section = .fixed(pcie)
            summary = "PCIe \(severity) at \(sbdf.text)"
        }
        let entry = GenericErrorDataEntry(severity: severity, fruText: "EINJ", timestamp: Self.now(), section: section)
        return .success(
            PendingError(
                type: type,
                delivery: .records([GenericErrorStatusBlock(entries: [entry])], corrected: severity == .corrected),
                summary: summary))
    }

    /// The time stamp of a record made now.
    static func now() -> UInt64 {
        CPERTimestamp.encode(secondsSince1970: HostClock.realtimeNanoseconds() / 1_000_000_000)
    }

    /// Writes the record into its source's block once the OS consumed the previous one, and raises
    /// the NMI for uncorrectable errors.
    func deliver(_ fd: Int32, _ error: PendingError) -> Bool {
        switch error.delivery {
        case .device(let command, let arguments):
            return (try? QMPClient(socketPath: qmpSocket, timeoutSeconds: 3).execute(command, arguments: arguments))
                != nil
        case .records(let blocks, let corrected):
            return blocks.allSatisfy { deliver(fd, $0, corrected: corrected) }
        }
    }

    /// Writes one record into its source's block once the OS consumed the previous one.
    private func deliver(_ fd: Int32, _ block: GenericErrorStatusBlock, corrected: Bool) -> Bool {
        guard let source = layout.source(forCorrected: corrected) else { return false }
        for _ in 0..<5000 where read(fd, source.blockAddress, bytes: 4) != 0 { usleep(1_000) }
        guard read(fd, source.blockAddress, bytes: 4) == 0 else { return false }
        let bytes = block.bytes
        guard bytes.count <= Int(source.blockLength),
            (try? FileIO.write(bytes, at: Int64(source.blockAddress), of: memory)) != nil
        else { return false }
        if source.notification == .nmi {
            _ = try? QMPClient(socketPath: qmpSocket, timeoutSeconds: 3).execute("inject-nmi")
        }
        return true
    }

    private func read(_ fd: Int32, _ address: UInt64, bytes: Int = 8) -> UInt64 {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { pread(fd, $0.baseAddress, bytes, off_t(address)) }
        return UInt64(littleEndian: value)
    }

    private func write(_ fd: Int32, _ address: UInt64, _ value: UInt64) {
        var little = value.littleEndian
        _ = withUnsafeBytes(of: &little) { pwrite(fd, $0.baseAddress, 8, off_t(address)) }
    }

    private func save(_ counts: Counts) {
        guard let data = try? JSONEncoder().encode(counts) else { return }
        try? LabFileSystem.replace(countsFile, with: Array(data))
    }

    /// Closes every descriptor but standard input, output and error.
    private static func closeInheritedDescriptors() {
        let descriptors = (try? FileIO.listDirectory(FilePath("/proc/self/fd")))?.compactMap { Int32($0.name) } ?? []
        for fd in descriptors where fd > 2 { close(fd) }
    }

    /// The emulator's counts for the lab at `paths`, when it runs.
    public static func counts(_ paths: LabPaths) -> Counts? {
        guard let bytes = try? FileIO.readWholeFile(paths.firmwareCounts) else { return nil }
        return try? JSONDecoder().decode(Counts.self, from: Data(bytes))
    }
}
