/// The victim's SIGBUS handler: it writes what the signal carried (`si_code`, `si_addr`,
/// `si_addr_lsb`) to the victim's report file with one write(2) from a buffer made beforehand
/// (nothing that is not async-signal-safe runs in it), then lets the default action end the process.
enum VictimSignal {
    /// The report file, opened before any signal can come.
    nonisolated(unsafe) static var reportFD: Int32 = -1
    /// The line is built here.
    nonisolated(unsafe) static let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 96)

    /// Opens the report and installs the handler.
    static func prepare(reportPath: String) {
        reportFD = open(reportPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in VictimSignal.report(info) }
        action.sa_flags = SA_SIGINFO | Int32(bitPattern: UInt32(SA_RESETHAND))
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, nil)
    }

    /// In the handler: `code C addr HEX lsb L`, then SIGBUS again with its default action.
    static func report(_ info: UnsafeMutablePointer<siginfo_t>?) {
        if let info, reportFD >= 0 {
            // x86-64 siginfo_t: si_code at 8; _sigfault's si_addr at 16 and si_addr_lsb at 24.
            let raw = UnsafeRawPointer(info)
            let code = raw.load(fromByteOffset: 8, as: Int32.self)
            let address = raw.load(fromByteOffset: 16, as: UInt64.self)
            let lsb = raw.load(fromByteOffset: 24, as: Int16.self)
            var length = 0
            append("code ", &length)
            appendNumber(UInt64(UInt32(bitPattern: code)), radix: 10, &length)
            append(" addr ", &length)
            appendNumber(address, radix: 16, &length)
            append(" lsb ", &length)
            appendNumber(UInt64(UInt16(bitPattern: lsb)), radix: 10, &length)
            append("\n", &length)
            _ = write(reportFD, buffer, length)
        }
        // SA_RESETHAND put back the default action: this ends the process by SIGBUS.
        raise(SIGBUS)
    }

    private static func append(_ text: StaticString, _ length: inout Int) {
        text.withUTF8Buffer { bytes in
            for byte in bytes where length < 95 {
                buffer[length] = byte
                length += 1
            }
        }
    }

    private static func appendNumber(_ value: UInt64, radix: UInt64, _ length: inout Int) {
        // Most significant digit first, without allocating.
        var place: UInt64 = 1
        while value / place >= radix { place *= radix }
        while place > 0, length < 95 {
            let digit = UInt8((value / place) % radix)
            buffer[length] = digit < 10 ? 48 + digit : 87 + digit
            length += 1
            place /= radix
        }
    }
}
