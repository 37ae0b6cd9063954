import InjectHost

/// The lab's SCI path for GHES: Linux turns `Notify(<HED device>, 0x80)` into `ghes_notify_sci`,
/// and that AML must run on an SCI. QEMU's DSDT has neither the HED device nor the Notify, so
/// the lab takes the DSDT its own machine configuration produces, adds a `PNP0C33` device (the
/// id drivers/acpi/hed.c matches) and the Notify at the start of `\_GPE._E01` (the PCI hotplug
/// GPE, which the host raises with a QMP `device_add` and undoes with `device_del`), and gives it
/// back through the initramfs table upgrade (CONFIG_ACPI_TABLE_UPGRADE).
public enum SCIPath {
    /// Where the kernel's table upgrade looks in the initramfs.
    public static let overridePath = "kernel/firmware/acpi/dsdt.aml"
    /// The HED device's ACPI path, and the GPE the host can raise.
    public static let device = "\\_SB.HEDV"
    public static let method = "_E01"

    /// The patched DSDT for `original` (the guest's /sys/firmware/acpi/tables/DSDT), compiled with
    /// iasl (acpica-tools).
    public static func patch(_ original: [UInt8], scratch: FilePath) async throws(LabError) -> [UInt8] {
        let source = scratch.appending("dsdt.dat")
        let listing = scratch.appending("dsdt.dsl")
        try LabFileSystem.write(original, to: source)
        do {
            _ = try await ToolRunner.run(
                [LabPrerequisites.iasl, "-p", scratch.appending("dsdt").string, "-d", source.string],
                hint: "apt-get install acpica-tools")
        } catch {
            throw .kernel("disassembling the guest's DSDT failed: \(error)")
        }
        guard let text = try? FileIO.readWholeFile(listing) else {
            throw .io(path: listing.string, reason: "iasl wrote no listing")
        }
        let patched = try patch(listing: String(decoding: text, as: UTF8.self))
        try LabFileSystem.write(Array(patched.utf8), to: listing)
        do {
            _ = try await ToolRunner.run(
                [LabPrerequisites.iasl, "-p", scratch.appending("dsdt").string, listing.string],
                hint: "apt-get install acpica-tools")
        } catch {
            throw .kernel("compiling the patched DSDT failed: \(error)")
        }
        guard let aml = try? FileIO.readWholeFile(scratch.appending("dsdt.aml")), aml.count > 36 else {
            throw .io(path: scratch.appending("dsdt.aml").string, reason: "iasl wrote no table")
        }
        return aml
    }

    /// The disassembled DSDT with the HED device, the Notify, and a higher OEM revision (the
    /// kernel only upgrades a table to a newer revision).
    static func patch(listing: String) throws(LabError) -> String {
        var lines = listing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.firstIndex(where: { $0.contains("DefinitionBlock (") }),
            let open = lines[header].lastIndex(of: ","), let close = lines[header].lastIndex(of: ")")
        else {
            throw .kernel("the guest's DSDT has no DefinitionBlock line")
        }
        let revisionText = lines[header][lines[header].index(after: open)..<close].trimmed()
        guard let revision = NumberText.unsigned(revisionText.lowercased()) else {
            throw .kernel("the DSDT's OEM revision '\(revisionText)' is not a number")
        }
        lines[header] = String(lines[header][...open]) + " 0x" + hexText(revision + 1) + ")"
        guard let gpe = lines.firstIndex(where: { $0.contains("Method (\(method),") }),
            let body = lines[gpe...].firstIndex(where: { $0.trimmed() == "{" })
        else {
            throw .kernel(
                "the guest's DSDT has no \\_GPE.\(method) method to notify from (is this QEMU's pc or q35 machine?)")
        }
        let indent = String(lines[body].prefix { $0 == " " }) + "    "
        lines.insert(indent + "Notify (\(device), 0x80) // inject: the GHES SCI sources", at: body + 1)
        guard let last = lines.lastIndex(where: { $0.trimmed() == "}" }) else {
            throw .kernel("the DSDT listing does not end with '}'")
        }
        // QEMU gives _STR as a String (the IPMI device's "ipmi_kcs"); ACPI wants a Unicode
        // buffer, and iasl will not compile the table back otherwise.
        for index in lines.indices where lines[index].contains("Name (_STR, \"") {
            lines[index] = lines[index].replacing("Name (_STR, \"", with: "Name (_STR, Unicode (\"")
                .replacing("\")", with: "\"))", maxReplacements: 1)
        }
        lines.insert(
            contentsOf: [
                "    Scope (\\_SB)",
                "    {",
                "        Device (HEDV) // inject: the Hardware Error Device that hed.c binds",
                "        {",
                "            Name (_HID, \"PNP0C33\")",
                "        }",
                "    }",
            ], at: last)
        return lines.joined(separator: "\n")
    }

    /// The cache file for a machine configuration (a digest of what shapes QEMU's DSDT).
    static func cacheFile(_ cache: FilePath, configuration: String) -> FilePath {
        cache.appending("dsdt").appending(LabCacheKey.digest(configuration) + ".aml")
    }
}
