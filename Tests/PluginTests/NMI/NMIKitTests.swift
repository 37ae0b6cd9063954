import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import NMIKit

/// The nmi backend's plans per route, and the routes a target lacks.
@Suite("NMI kit")
struct NMIKitTests {
    @Test func eachRouteHasItsStepAndItsEvidence() throws {
        let qemu = try TestTarget(hasQMP: true).plan(NMIBackend(), [:])
        #expect(qemu.steps.map(\.action) == [.qmp(command: "inject-nmi", arguments: nil)])
        #expect(qemu.expectations == [.kernelLog("NMI")])
        // An SCI through GPE 1: a hotplug that is undone; the power button needs no GPE method.
        let sci = try TestTarget(hasQMP: true).plan(NMIBackend(), ["signal": "sci"])
        let commands = sci.steps.compactMap { step -> String? in
            if case .qmp(let command, _) = step.action { return command } else { return nil }
        }
        #expect(commands == ["device_add", "device_del"])
        #expect(
            sci.expectations == [
                .counter("sys/firmware/acpi/interrupts/gpe01", delta: 1),
                .counter("sys/firmware/acpi/interrupts/sci", delta: 1),
            ])
        let button = try TestTarget(hasQMP: true).plan(NMIBackend(), ["signal": "sci", "method": "powerbutton"])
        #expect(button.steps.map(\.action) == [.qmp(command: "system_powerdown", arguments: nil)])
        #expect(throws: BackendError.self) {
            try TestTarget(hasQMP: true).plan(NMIBackend(), ["signal": "sci", "method": "diag"])
        }
        let sysrq = try TestTarget().plan(NMIBackend(), ["via": "sysrq"])
        #expect(sysrq.steps.map(\.action) == [.writeAttribute(path: "proc/sysrq-trigger", value: "l")])
    }

    /// The hotplug that raises GPE 1 goes on pci.0 of QEMU's pc machine and into the empty root
    /// port on q35 (whose root bus takes no hotplug); a bus id that could break the JSON is refused.
    @Test func theGPEHotplugGoesWhereTheMachineTakesIt() throws {
        func bus(_ plan: Plan) -> String? {
            plan.steps.compactMap { step -> String? in
                if case .qmp("device_add", let arguments) = step.action { return arguments } else { return nil }
            }.first
        }
        let pc = try TestTarget(hasQMP: true).plan(NMIBackend(), ["signal": "sci"])
        #expect(bus(pc)?.contains("\"bus\": \"pci.0\"") == true && bus(pc)?.contains("\"e1000\"") == true)
        let q35Files = [
            "sys/bus/pci/devices/0000:00:00.0/vendor": "0x8086\n",
            "sys/bus/pci/devices/0000:00:00.0/device": "0x29c0\n",
        ]
        let q35 = try TestTarget(files: q35Files, hasQMP: true).plan(NMIBackend(), ["signal": "sci"])
        #expect(
            bus(q35)?.contains("\"bus\": \"\(NMIBackend.labHotplugPort)\"") == true
                && bus(q35)?.contains("\"e1000e\"") == true)
        let chosen = try TestTarget(files: q35Files, hasQMP: true).plan(
            NMIBackend(), ["signal": "sci", "bus": "spare-port.1"])
        #expect(bus(chosen)?.contains("\"bus\": \"spare-port.1\"") == true)
        #expect(throws: BackendError.self) {
            try TestTarget(hasQMP: true).plan(NMIBackend(), ["signal": "sci", "bus": "x\", \"driver\": \"y"])
        }
    }

    @Test func ipmiNeedsABMCAndTheWatchdogArmsAndStops() throws {
        #expect(throws: BackendError.self) { try TestTarget().plan(NMIBackend(), ["via": "ipmi"]) }
        let plan = try TestTarget(hasIPMI: true).plan(NMIBackend(), ["via": "ipmi", "method": "watchdog"])
        let commands = plan.steps.compactMap { step -> UInt8? in
            if case .ipmi(_, let command, _) = step.action { return command }
            return nil
        }
        #expect(commands.first == 0x24 && commands.contains(0x22), "set, then reset (start) the watchdog: \(commands)")
    }

    @Test func aSignalARouteCannotRaiseIsRefusedNamingTheWorkingOnes() {
        do {
            _ = try TestTarget().plan(NMIBackend(), ["signal": "sci", "via": "sysrq"])
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("sci via qemu"))
        }
    }
}
