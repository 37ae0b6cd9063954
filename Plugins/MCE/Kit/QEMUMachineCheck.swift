import FirmwareFormats
import InjectPluginAPI

extension Plan {
    /// QEMU's HMP `mce [-b] cpu bank status mcgstatus addr misc` as a trigger step: an uncorrected
    /// status is raised as #MC in the virtual CPU, a corrected one waits in the bank for the poller.
    mutating func qemuMachineCheck(
        cpu: UInt64, bank: UInt64, status: UInt64, mcgStatus: UInt64, addr: UInt64, misc: UInt64,
        broadcast: Bool, note: String
    ) {
        let words =
            ["mce"] + (broadcast ? ["-b"] : []) + [
                String(cpu), String(bank), hexNumber(status), hexNumber(mcgStatus),
                hexNumber(addr), hexNumber(misc),
            ]
        qmp(
            "human-monitor-command", arguments: "{\"command-line\": \"\(words.joined(separator: " "))\"}", note: note,
            trigger: true)
    }
}
