/// The ACPI Hardware Error Device (`PNP0C33`): the device whose notification makes the kernel's
/// hed.c read the SCI-notified GHES sources. Where the kernel's driver bound it, as sysfs shows it.
public enum HardwareErrorDevice {
    /// The device's ACPI hardware ID.
    public static let hardwareID = "PNP0C33"

    /// Where a bound device appears below the sysfs root: as an ACPI driver's device (6.1, 6.12), or,
    /// since hed.c became a platform driver, as the platform driver `acpi-hardware-error-device`'s
    /// (measured on Debian's 7.3).
    public static let boundPaths = [
        "sys/bus/acpi/drivers/hardware_error_device/\(hardwareID):00",
        "sys/bus/platform/drivers/acpi-hardware-error-device/\(hardwareID):00",
    ]

    /// Whether a kernel bound the device, given what exists below its sysfs root.
    public static func isBound(_ exists: (String) -> Bool) -> Bool { boundPaths.contains(where: exists) }
}
