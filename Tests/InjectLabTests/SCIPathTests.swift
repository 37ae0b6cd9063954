import Foundation
import Testing

@testable import InjectLab

/// The DSDT patch behind the lab's SCI path, on a listing shaped like iasl's output for QEMU.
@Suite struct SCIPathTests {
    static let listing = """
        DefinitionBlock ("", "DSDT", 1, "BOCHS ", "BXPC    ", 0x00000001)
        {
            Scope (\\_SB)
            {
                Device (MI0)
                {
                    Name (_STR, "ipmi_kcs")  // _STR: Description String
                }
            }
            Scope (_GPE)
            {
                Name (_HID, "ACPI0006" /* GPE Block Device */)  // _HID: Hardware ID
                Method (_E01, 0, NotSerialized)  // _Exx: Edge-Triggered GPE, xx=0x00-0xFF
                {
                    Acquire (\\_SB.PCI0.BLCK, 0xFFFF)
                }
            }
        }

        """

    @Test func theHEDDeviceTheNotifyAndANewerRevisionAreAdded() throws {
        let patched = try SCIPath.patch(listing: Self.listing)
        let lines = patched.split(separator: "\n").map(String.init)
        #expect(lines[0] == "DefinitionBlock (\"\", \"DSDT\", 1, \"BOCHS \", \"BXPC    \", 0x2)")
        let method = try #require(lines.firstIndex { $0.contains("Method (_E01,") })
        #expect(lines[method + 1].trimmingCharacters(in: .whitespaces) == "{")
        #expect(
            lines[method + 2].trimmingCharacters(in: .whitespaces).hasPrefix("Notify (\\_SB.HEDV, 0x80)"),
            "the notify comes first")
        #expect(patched.contains("Name (_HID, \"PNP0C33\")"))
        #expect(patched.contains("Name (_STR, Unicode (\"ipmi_kcs\"))"))
        #expect(lines.last?.trimmingCharacters(in: .whitespaces) == "}")
    }

    @Test func aListingWithoutTheGPEMethodIsRefusedWithTheReason() {
        #expect(throws: LabError.self) {
            try SCIPath.patch(
                listing: "DefinitionBlock (\"\", \"DSDT\", 1, \"BOCHS \", \"BXPC    \", 0x00000001)\n{\n}\n")
        }
    }
}
