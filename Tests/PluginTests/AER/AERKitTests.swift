import InjectPluginAPI
import InjectPluginTesting
import Testing

@testable import AERKit

/// The aer backend's requests, files, checks against the device's registers, and plans per path.
@Suite("AER kit")
struct AERKitTests {
    static let endpoint = "0000:01:00.0"

    /// Configuration space with a PCI Express capability (type `portType`) and an AER capability.
    static func config(
        portType: UInt8 = 0, deviceControl: UInt16 = 0xF, correctableMask: UInt32 = 0xE000,
        uncorrectableMask: UInt32 = 0, severity: UInt32 = 0x0046_2030
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 4096)
        func put(_ value: UInt32, _ offset: Int, _ size: Int = 4) {
            for index in 0..<size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
        bytes[0x34] = 0x40
        put(0x10, 0x40, 1)
        bytes[0x42] = portType << 4 | 2
        put(UInt32(deviceControl), 0x48, 2)
        put(0x0002_0001, 0x100)
        put(uncorrectableMask, 0x108)
        put(severity, 0x10C)
        put(correctableMask, 0x114)
        return bytes
    }

    /// A lab-like target: two endpoints and a root port, aer_inject loaded, a QEMU monitor.
    static func target(qmp: Bool = true, injector: Bool = true, config: [UInt8] = config()) -> TestTarget {
        var files: [String: String] = [:]
        for device in [endpoint, "0000:02:00.0", "0000:00:04.0"] {
            files["sys/bus/pci/devices/\(device)/aer_dev_correctable"] = "RxErr 0\nTOTAL_ERR_COR 0\n"
            files["sys/bus/pci/devices/\(device)/class"] = device.hasPrefix("0000:00") ? "0x060400\n" : "0x00ff00\n"
            files["sys/bus/pci/devices/\(device)/vendor"] = "0x1af4\n"
        }
        if injector { files["dev/aer_inject"] = "" }
        let target = TestTarget(files: files, hasQMP: qmp, hasFirmwareMemory: true)
        target.files["sys/bus/pci/devices/\(endpoint)/config"] = config
        target.files["sys/bus/pci/devices/0000:00:04.0/config"] = Self.config(portType: 4)
        target.qemuDevices = [endpoint: "ep0", "0000:02:00.0": "ep1", "0000:00:04.0": "rp0"]
        return target
    }

    /// aer-inject's files, in all their spellings, are the same requests as their name=value forms.
    @Test func aerInjectFilesAreTheRequestsOfTheirNameValueForms() throws {
        let cases: [(file: String, values: [String: String])] = [
            ("AER\nPCI_ID 0000:01:00.0\nCOR_STATUS RCVR\n", ["device": "01:00.0", "error": "RCVR"]),
            (
                "# lower case, aliases, several errors on a line, octal and hex\naer\nid 01:00.0\ncor bad_tlp rep_roll\nhl 010 0x9 0xa 0xB\n",
                ["device": "0000:01:00.0", "error": "BAD_TLP,REP_ROLL", "header": "8,9,10,11"]
            ),
            (
                "AER BUS 1 DEV 0 FN 0 UNCOR_STATUS COMP_ABORT\nCOR_STATUS BAD_TLP HEADER_LOG 0 1 2 3",
                ["device": "01:00.0", "error": "COMP_ABORT,BAD_TLP", "header": "0,1,2,3"]
            ),
            ("AER\nDOMAIN 0 BUS 2 DEV 0 FN 0\nUNCOR_STATUS 0x1000\n", ["device": "02:00.0", "uncor_status": "0x1000"]),
            ("AER\nPCI_ID 01:00.0\nUNCORRECTABLE MALF_TLP\n", ["device": "01:00.0", "error": "MAL_TLP"]),
        ]
        for (file, values) in cases {
            let parsed = try AERInjectFile.parse(file, path: "case")
            #expect(parsed.count == 1)
            let fromValues = try AERBackend.request(TestTarget.values(AERBackend.descriptor, values))
            #expect(parsed[0].sameInjection(as: fromValues), "\(file) -> \(parsed[0]) vs \(fromValues)")
            // And the same plan on the same target, step for step.
            let viaFile = try Self.target().plan(AERBackend(), ["file": file, "via": "aer-inject"])
            let viaValues = try Self.target().plan(AERBackend(), values.merging(["via": "aer-inject"]) { $1 })
            #expect(viaFile.steps == viaValues.steps && viaFile.expectations == viaValues.expectations)
        }
        // Several blocks are several injections; a block without a device takes device=.
        let two = try Self.target().plan(
            AERBackend(),
            ["file": "AER COR RCVR\nAER PCI_ID 02:00.0 COR BAD_DLLP", "device": "ep0", "via": "aer-inject"])
        #expect(two.steps.count == 2)
    }

    @Test func filesWithMistakesAreRefusedNamingTheLine() {
        for (file, words) in [
            ("AER\nCOR_STATUS DLP\n", ["case:2", "UNCOR_STATUS"]),
            ("AER\nPCI_ID 01:00.0\nCOR_STATUS FOO\n", ["case:3", "FOO"]),
            ("BUS 1\n", ["case:1", "AER"]), ("AER PCI_ID 01:00.0\n", ["case:1", "no error"]),
            ("AER BUS 1 DEV 40 FN 0 COR RCVR", ["larger than 31"]),
        ] {
            do {
                _ = try AERInjectFile.parse(file, path: "case")
                Issue.record("accepted \(file)")
            } catch {
                for word in words { #expect("\(error)".contains(word), "\(error)") }
            }
        }
    }

    /// Each path's steps: QEMU one command per error (numbers with 0x: HMP reads a bare 0... as
    /// octal), aer_inject one 32-byte struct aer_error_inj, firmware first a ghes notification.
    @Test func eachPathHasItsSteps() throws {
        let qemu = try Self.target().plan(
            AERBackend(),
            ["device": "ep1", "error": "POISON_TLP,COMP_ABORT", "header": "0x40000001,0x0100000f,0xfe000000,0"])
        let commands = qemu.steps.compactMap { step -> String? in
            if case .qmp(_, let arguments) = step.action { return arguments } else { return nil }
        }
        #expect(
            commands == [
                "{\"command-line\": \"pcie_aer_inject_error ep1 0x00001000 0x01000040 0x0f000001 0x000000fe 0x00000000\"}",
                "{\"command-line\": \"pcie_aer_inject_error ep1 0x00008000 0x01000040 0x0f000001 0x000000fe 0x00000000\"}",
            ])
        #expect(!qemu.confirmationReasons.isEmpty, "uncorrectable errors need --yes")
        // Correctable errors on auto go through the kernel's injector: QEMU 7.2 drops their messages.
        let corrected = try Self.target().plan(AERBackend(), ["device": "ep0"])
        guard case .writeDevice(let path, let bytes) = corrected.steps.first?.action else {
            Issue.record("\(corrected.steps)")
            return
        }
        #expect(path == "dev/aer_inject" && bytes.count == 32)
        #expect(
            Array(bytes[0..<4]) == [1, 0, 0, 0] && Array(bytes[8..<12]) == [1, 0, 0, 0],
            "bus 1, correctable status RCVR")
        #expect(corrected.confirmationReasons.isEmpty)
        #expect(
            corrected.expectations.contains(
                .counterExact("sys/bus/pci/devices/0000:01:00.0/aer_dev_correctable#TOTAL_ERR_COR", delta: 1)))
        #expect(
            corrected.expectations.contains(
                .counterExact(
                    "sys/bus/pci/devices/0000:02:00.0/aer_dev_correctable#TOTAL_ERR_COR", delta: 0,
                    note: "another device: unchanged")))
        #expect(
            !corrected.expectations.contains { "\($0)".contains("0000:00:04.0/aer_dev") },
            "a bridge sees its links' errors")
        let firmware = try Self.target().plan(AERBackend(), ["device": "ep0", "via": "ghes"])
        guard case .notify("ghes", let arguments) = firmware.steps.first?.action else {
            Issue.record("\(firmware.steps)")
            return
        }
        #expect(
            arguments["section"] == "pcie" && arguments["bus"] == "1" && arguments["aer_cor_status"] == "0x00000001"
                && arguments["severity"] == "corrected")
        // No injector and no monitor: said with the fixes.
        do {
            _ = try Self.target(qmp: false, injector: false).plan(AERBackend(), ["device": "01:00.0"])
            Issue.record("planned without a path")
        } catch {
            #expect("\(error)".contains("modprobe aer_inject"))
        }
    }

    /// The device's registers decide: masked errors are refused, the severity register grades
    /// uncorrectable ones, and an endpoint's fatal error is expected as the kernel reports it.
    @Test func theDevicesRegistersDecide() throws {
        do {
            _ = try Self.target().plan(AERBackend(), ["device": "ep0", "error": "CORR_INTERNAL"])
            Issue.record("a masked error was planned")
        } catch {
            #expect("\(error)".contains("masked on 0000:01:00.0") && "\(error)".contains("0xe000"))
        }
        // A firmware-first record carries its own registers: the device's mask does not stop it.
        #expect(
            try Self.target().plan(AERBackend(), ["device": "ep0", "error": "CORR_INTERNAL", "via": "ghes"]).steps.count
                == 1)
        do {
            _ = try Self.target().plan(AERBackend(), ["device": "ep0", "error": "DLP", "severity": "nonfatal"])
            Issue.record("a severity mismatch was planned")
        } catch {
            #expect("\(error)".contains("DLP is fatal"))
        }
        // A device whose severity register makes Poisoned TLP fatal.
        let strict = Self.target(config: Self.config(severity: 0x0046_3030))
        let fatal = try strict.plan(AERBackend(), ["device": "ep0", "error": "POISON_TLP", "via": "qemu"])
        #expect(
            fatal.expectations.contains(
                .traceEvent("ras:aer_event", fields: "dev_name=0000:01:00.0 severity=\"Fatal\"")))
        #expect(
            !fatal.expectations.contains { "\($0)".contains("aer_dev_fatal") },
            "an endpoint's registers are not read after a fatal error")
        // On a root port they are.
        let port = try Self.target().plan(AERBackend(), ["device": "rp0", "error": "DLP", "via": "qemu"])
        #expect(
            port.expectations.contains(.counterExact("sys/bus/pci/devices/0000:00:04.0/aer_dev_fatal#DLP", delta: 1)))
        // severity= alone picks the device's first unmasked error of that class.
        let defaulted = try Self.target().plan(AERBackend(), ["device": "ep0", "severity": "nonfatal"])
        #expect(defaulted.steps.count == 1 && "\(defaulted.steps[0].action)".contains("0x00001000"))
    }

    @Test func badValuesAreNamed() {
        let target = Self.target()
        for (values, words) in [
            (["error": "RCVR"], ["device= is required"]), (["device": "ep9"], ["ep9"]),
            (["device": "ep0", "error": "NOPE"], ["NOPE", "RCVR"]),
            (["device": "ep0", "header": "1,2"], ["four 32-bit words"]),
            (["device": "ep0", "prefix": "1,2,3,4"], ["needs header="]),
            (
                ["device": "ep0", "error": "RCVR", "via": "aer-inject", "header": "1,2,3,4", "prefix": "1,2,3,4"],
                ["no TLP prefix"]
            ),
            (["device": "ep0", "cor_status": "0x2"], ["reserved"]),
        ] {
            do {
                _ = try target.plan(AERBackend(), values)
                Issue.record("accepted \(values)")
            } catch {
                for word in words { #expect("\(error)".contains(word), "\(values): \(error)") }
            }
        }
    }
}
