#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Makes a plugin that crashes the process say so: while plugin code runs, a fatal signal prints
/// which plugin call was running before the default action ends the process (with a core dump
/// where enabled). Memory safety cannot be restored after a crash in-process, so the goal is a
/// loud, named failure, never a silent one.
enum CrashReporter {
    /// The message written by the signal handler: fixed storage, no allocation in the handler.
    nonisolated(unsafe) private static var message = [UInt8](repeating: 0, count: 256)
    nonisolated(unsafe) private static var messageLength = 0
    nonisolated(unsafe) private static var installed = false

    /// Runs `body` (a call into plugin code) with the crash message set to name `what`.
    static func during<R>(_ what: String, _ body: () -> R) -> R {
        install()
        let text = Array("\ninject: a plugin crashed during \(what); the plugin is at fault, not the target\n".utf8.prefix(255))
        message.withUnsafeMutableBufferPointer { buffer in
            for (index, byte) in text.enumerated() { buffer[index] = byte }
        }
        messageLength = text.count
        defer { messageLength = 0 }
        return body()
    }

    private static func install() {
        guard !installed else { return }
        installed = true
        for signalNumber in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                if CrashReporter.messageLength > 0 {
                    CrashReporter.message.withUnsafeBufferPointer { buffer in
                        _ = Glibc.write(2, buffer.baseAddress, CrashReporter.messageLength)
                    }
                }
                signal(signalNumber, SIG_DFL)
                raise(signalNumber)
            }
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
            sigaction(signalNumber, &action, nil)
        }
    }
}
