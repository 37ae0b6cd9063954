import FirmwareFormats
import InjectPluginAPI

/// What a target's EDAC core shows (`/sys/devices/system/edac/mc`): memory controllers, their
/// DIMMs (or ranks) with labels, locations, sizes and counters, and, from the SMBIOS table, the
/// memory devices that ghes_edac's DIMMs stand for.
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
            "'\(label)'" + (location.trimmingWhitespace.isEmpty ? "" : " at \(location.trimmingWhitespace)") + (sizeMiB.map { ", \($0) MiB" } ?? "")
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
    /// The SMBIOS structure table, as the kernel exports it (root only).
    static let smbiosTable = "sys/firmware/dmi/tables/DMI"

    var controllers: [Controller]
    /// Type-17 memory devices in table order (ghes_edac's DIMM index order), and their ranges.
    var memoryDevices: [SMBIOSMemoryDevice]
    var mappedRanges: [SMBIOSMemoryDeviceMappedAddress]
    /// Why the SMBIOS table could not be read, when it could not.
    var smbiosProblem: String?

    /// Reads the target.
    init(_ target: Target) {
        controllers = ((try? target.list(Self.controllers)) ?? []).compactMap { entry -> Controller? in
            guard entry.hasPrefix("mc"), let index = Int(entry.dropFirst(2)) else { return nil }
            let path = "\(Self.controllers)/\(entry)"
            let names = (try? target.list(path)) ?? []
            let dimms = names.compactMap { name -> DIMM? in
                guard let prefix = ["dimm", "rank"].first(where: name.hasPrefix), let number = Int(name.dropFirst(prefix.count)) else { return nil }
                let dimm = "\(path)/\(name)"
                return DIMM(controller: index, index: number, name: name, label: target.value("\(dimm)/dimm_label") ?? "",
                            location: target.value("\(dimm)/dimm_location") ?? "", sizeMiB: target.value("\(dimm)/size").flatMap { Int($0) },
                            correctedCount: target.value("\(dimm)/dimm_ce_count").flatMap { Int64($0) },
                            uncorrectedCount: target.value("\(dimm)/dimm_ue_count").flatMap { Int64($0) })
            }.sorted { $0.index < $1.index }
            return Controller(index: index, name: target.value("\(path)/mc_name") ?? "", sizeMiB: target.value("\(path)/size_mb").flatMap { Int($0) },
                              correctedCount: target.value("\(path)/ce_count").flatMap { Int64($0) },
                              uncorrectedCount: target.value("\(path)/ue_count").flatMap { Int64($0) },
                              correctedWithoutLocation: target.value("\(path)/ce_noinfo_count").flatMap { Int64($0) }, dimms: dimms)
        }.sorted { $0.index < $1.index }
        memoryDevices = []
        mappedRanges = []
        do {
            let structures = try SMBIOSStructure.parseTable(try target.readBytes(Self.smbiosTable))
            memoryDevices = structures.compactMap(SMBIOSMemoryDevice.init)
            mappedRanges = structures.compactMap(SMBIOSMemoryDeviceMappedAddress.init)
        } catch {
            smbiosProblem = "\(error)"
        }
    }

    /// The controller `index`.
    func controller(_ index: Int) -> Controller? { controllers.first { $0.index == index } }

    /// The DIMM of `controller` that `text` names: its index (`1`), its label (`P0_CH_A DIMM_A1`),
    /// or the label's last word (`DIMM_A1`); case is ignored.
    func dimm(_ text: String, in controller: Controller) throws(BackendError) -> DIMM {
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
            matches = controller.dimms.filter { $0.label.lowercased().split(separator: " ").last.map(String.init) == wanted }
        }
        guard matches.count == 1 else {
            throw BackendError.invalid("dimm=\(text) " + (matches.isEmpty ? "names no DIMM" : "names \(matches.count) DIMMs")
                + " of mc\(controller.index); give an index or a label: \(labels)")
        }
        return matches[0]
    }

    /// The SMBIOS memory device ghes_edac made `dimm` from (the index-th type-17 structure), when
    /// its label agrees.
    func memoryDevice(for dimm: DIMM) -> SMBIOSMemoryDevice? {
        guard dimm.index < memoryDevices.count else { return nil }
        let device = memoryDevices[dimm.index]
        return device.edacLabel.isEmpty || device.edacLabel == dimm.label ? device : nil
    }

    /// The DIMM whose SMBIOS range holds `address`, in a ghes_edac controller.
    func dimm(at address: UInt64, in controller: Controller) -> DIMM? {
        guard let range = mappedRanges.first(where: { $0.contains(address) }),
              let index = memoryDevices.firstIndex(where: { $0.handle == range.deviceHandle }) else { return nil }
        return controller.dimms.first { $0.index == index }
    }
}
