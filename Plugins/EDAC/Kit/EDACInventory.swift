import FirmwareFormats
import InjectPluginAPI

/// What a target's EDAC core shows (`/sys/devices/system/edac/mc`): memory controllers, their
/// DIMMs (or ranks) with labels, locations, sizes and counters, and, from the SMBIOS table
/// (``SMBIOSMemoryMap``), the memory devices that ghes_edac's DIMMs stand for.
struct EDACInventory {
    /// One DIMM (`dimmN`, or `rankN` on chip-select based drivers).
    struct DIMM: Equatable {
        var controller: Int
        var index: Int
        /// `dimm1` or `rank1`.
        var name: String
        var label: String
        /// `dimm_location`, such as `channel 1 slot 0` or `memory 1`.
        var location: String
        var sizeMiB: Int?
        var correctedCount: Int64?
        var uncorrectedCount: Int64?

        /// The sysfs directory, relative to the root.
        var path: String { "\(EDACInventory.controllers)/mc\(controller)/\(name)" }
        /// The layer indices the location names (`channel 1 slot 0` is [1, 0]).
        var layers: [UInt64] {
            let words = location.split(separator: " ")
            return stride(from: 1, to: words.count, by: 2).compactMap { UInt64(words[$0]) }
        }
        /// One line for `probe`.
        var summary: String {
            "'\(label)'" + (location.trimmingWhitespace.isEmpty ? "" : " at \(location.trimmingWhitespace)")
                + (sizeMiB.map { ", \($0) MiB" } ?? "")
                + ", ce \(correctedCount.map(String.init) ?? "?") ue \(uncorrectedCount.map(String.init) ?? "?")"
        }
    }

    /// One memory controller (`mcN`).
    struct Controller {
        var index: Int
        /// `mc_name`: the driver's controller name (`ghes_edac`, `Skylake Socket#0 IMC#0`, ...).
        var name: String
        var sizeMiB: Int?
        var correctedCount: Int64?
        var uncorrectedCount: Int64?
        var correctedWithoutLocation: Int64?
        var dimms: [DIMM]

        var path: String { "\(EDACInventory.controllers)/mc\(index)" }
        /// Whether GHES records reach it (ghes_edac registers one controller for all DIMMs).
        var isGHES: Bool { name == "ghes_edac" }
    }

    static let controllers = "sys/devices/system/edac/mc"

    var controllers: [Controller]
    /// The SMBIOS memory devices behind ghes_edac's DIMMs.
    var memoryMap: SMBIOSMemoryMap

    /// Reads everything, counters included (`probe`).
    init(_ target: Target) {
        controllers = Self.controllerIndices(target).compactMap { Self.controller($0, in: target, counts: true) }
        memoryMap = SMBIOSMemoryMap(target)
    }

    /// The indices of the registered controllers (`mcN`), in order.
    static func controllerIndices(_ target: Target) -> [Int] {
        ((try? target.list(controllers)) ?? []).compactMap { $0.hasPrefix("mc") ? Int($0.dropFirst(2)) : nil }.sorted()
    }

    /// The controller `mcN` and its DIMMs, or `nil` when it is not registered. Without `counts`
    /// only what a plan needs is read: the driver's name, the DIMMs' labels and locations.
    static func controller(_ index: Int, in target: Target, counts: Bool) -> Controller? {
        let path = "\(controllers)/mc\(index)"
        guard let names = try? target.list(path) else { return nil }
        func counter<T: FixedWidthInteger>(_ file: String) -> T? { counts ? target.value(file).flatMap { T($0) } : nil }
        let dimms = names.compactMap { name -> DIMM? in
            guard let prefix = ["dimm", "rank"].first(where: name.hasPrefix),
                let number = Int(name.dropFirst(prefix.count))
            else { return nil }
            let dimm = "\(path)/\(name)"
            return DIMM(
                controller: index, index: number, name: name, label: target.value("\(dimm)/dimm_label") ?? "",
                location: target.value("\(dimm)/dimm_location") ?? "", sizeMiB: counter("\(dimm)/size"),
                correctedCount: counter("\(dimm)/dimm_ce_count"), uncorrectedCount: counter("\(dimm)/dimm_ue_count"))
        }.sorted { $0.index < $1.index }
        return Controller(
            index: index, name: target.value("\(path)/mc_name") ?? "", sizeMiB: counter("\(path)/size_mb"),
            correctedCount: counter("\(path)/ce_count"), uncorrectedCount: counter("\(path)/ue_count"),
            correctedWithoutLocation: counter("\(path)/ce_noinfo_count"), dimms: dimms)
    }

    /// The DIMM of `controller` that `text` names: its index (`1`), its label (`P0_CH_A DIMM_A1`),
    /// or the label's last word (`DIMM_A1`); case is ignored.
    static func dimm(_ text: String, in controller: Controller) throws(BackendError) -> DIMM {
        let labels = controller.dimms.map { "\($0.index) '\($0.label)'" }.joined(separator: ", ")
        if let index = Int(text) {
            guard let dimm = controller.dimms.first(where: { $0.index == index }) else {
                throw BackendError.invalid("dimm=\(text): mc\(controller.index) has no DIMM \(index); it has \(labels)")
            }
            return dimm
        }
        let wanted = text.lowercased()
        var matches = controller.dimms.filter { $0.label.lowercased() == wanted }
        if matches.isEmpty {
            matches = controller.dimms.filter {
                $0.label.lowercased().split(separator: " ").last.map(String.init) == wanted
            }
        }
        guard matches.count == 1 else {
            throw BackendError.invalid(
                "dimm=\(text) " + (matches.isEmpty ? "names no DIMM" : "names \(matches.count) DIMMs")
                    + " of mc\(controller.index); give an index or a label: \(labels)")
        }
        return matches[0]
    }
}

/// The target's SMBIOS memory devices (type 17, in table order: ghes_edac's DIMM index order) and
/// their ranges (type 20), from the table the kernel exports (root only).
struct SMBIOSMemoryMap {
    static let table = "sys/firmware/dmi/tables/DMI"

    var devices: [SMBIOSMemoryDevice] = []
    var ranges: [SMBIOSMemoryDeviceMappedAddress] = []
    /// Why the table could not be read, when it could not.
    var problem: String?

    init(_ target: Target) {
        do {
            let structures = try SMBIOSStructure.parseTable(try target.readBytes(Self.table))
            devices = structures.compactMap(SMBIOSMemoryDevice.init)
            ranges = structures.compactMap(SMBIOSMemoryDeviceMappedAddress.init)
        } catch {
            problem = "\(error)"
        }
    }

    /// The memory device ghes_edac made `dimm` from (the index-th type-17 structure), when its
    /// label agrees.
    func device(for dimm: EDACInventory.DIMM) -> SMBIOSMemoryDevice? {
        guard dimm.index < devices.count else { return nil }
        let device = devices[dimm.index]
        return device.edacLabel.isEmpty || device.edacLabel == dimm.label ? device : nil
    }

    /// The DIMM of a ghes_edac controller whose range holds `address`.
    func dimm(at address: UInt64, in controller: EDACInventory.Controller) -> EDACInventory.DIMM? {
        guard let range = ranges.first(where: { $0.contains(address) }),
            let index = devices.firstIndex(where: { $0.handle == range.deviceHandle })
        else { return nil }
        return controller.dimms.first { $0.index == index }
    }
}
