/// A failure while reading or acting on a target.
public enum TargetError: Error, Equatable, CustomStringConvertible {
    /// A plugin named an absolute path or one containing `..`.
    case unsafePath(String)
    /// The path leads out of the target root (through a symlink or `..`); nothing was opened.
    case escapesRoot(path: String, root: String)
    /// A file that does not exist; `hint` says how to get it (module, mount).
    case notFound(path: String, hint: String?)
    /// The kernel refused access.
    case permissionDenied(path: String, hint: String?)
    /// Any other system call failure.
    case system(path: String, operation: String, errno: Errno, hint: String?)
    /// The step needs a QMP socket and none was given.
    case noQMP(command: String)
    /// Talking to QEMU failed.
    case qmp(socket: String, reason: String)
    /// QEMU answered a command with an error.
    case qmpCommandFailed(command: String, errorClass: String, message: String)
    /// The step needs guest firmware memory and none was given.
    case noFirmwareMemory
    /// An IPMI step on a target without a BMC route (a `--root` tree).
    case noIPMI
    /// An external tool failed or could not start.
    case tool(argv: [String], reason: String, hint: String?)
    /// The guest holding the files could not be reached (`name` is ``GuestConnection/name``).
    case guest(name: String, reason: String)
    /// A device write step named something other than a character device; nothing was written.
    case notADevice(path: String)
    /// A file named by the user (or beneath a `--root`) is a FIFO, socket, directory or device
    /// where a regular file or attribute belongs; `kind` says which. Nothing was read or written.
    case notARegularFile(path: String, kind: String)
    /// A file named by the user is larger than the `limit` bytes this reads.
    case tooLarge(path: String, limit: Int)
    /// Firmware memory (a GHES status block) stayed busy: the OS had not consumed the previous
    /// record within `milliseconds`, so the new one was not written.
    case recordNotConsumed(address: UInt64, milliseconds: UInt64)

    public var description: String {
        switch self {
        case .unsafePath(let path):
            return "refused path '\(path)': plugins name files relative to the target root, without '..'"
        case .escapesRoot(let path, let root):
            return
                "refused path '\(path)': it leads out of the target root \(root) (a symlink or '..' on the way); nothing outside the root is read or written"
        case .notFound(let path, let hint):
            return "\(path) does not exist" + Self.suffix(hint)
        case .permissionDenied(let path, let hint):
            return "\(path): permission denied (run as root; kernel lockdown also refuses debugfs writes)"
                + Self.suffix(hint)
        case .system(let path, let operation, let errno, let hint):
            return "\(operation) \(path) failed: \(errno)" + Self.suffix(hint)
        case .noQMP(let command):
            return
                "QMP command \(command) needs a QEMU monitor: give \(Setting.qmpSocket.named("PATH")) (QEMU's -qmp unix:PATH,server=on,wait=off)"
        case .qmp(let socket, let reason):
            return "QMP \(socket): \(reason)"
        case .qmpCommandFailed(let command, let errorClass, let message):
            return "QEMU refused \(command): \(errorClass): \(message)"
        case .noFirmwareMemory:
            return
                "this step writes guest firmware memory: give \(Setting.guestMemory.named("FILE")) (the guest RAM's memory-backend-file)"
        case .noIPMI:
            return
                "this step talks to a BMC: a \(Setting.root) tree has none; use \(Setting.lab.named("NAME")), \(Setting.bmc.named("HOST[:PORT]")) (password in IPMI_PASSWORD), or the real machine (/dev/ipmi0)"
        case .tool(let argv, let reason, let hint):
            return "\(argv.joined(separator: " ")): \(reason)" + Self.suffix(hint)
        case .guest(let name, let reason):
            return "\(name): \(reason)"
        case .notADevice(let path):
            return
                "refused \(path): not a character device (a device write step only writes device nodes such as /dev/aer_inject); nothing was written"
        case .notARegularFile(let path, let kind):
            return "refused \(path): it is \(kind), not a regular file; name the file itself"
        case .tooLarge(let path, let limit):
            return
                "refused \(path): it is larger than \(limit / 1_048_576) MiB, the most this reads; name a smaller file (or cut it)"
        case .recordNotConsumed(let address, let milliseconds):
            return
                "wait \(hexNumber(address)): the word there stayed non-zero for \(milliseconds) ms: the OS has not consumed the previous record, so this one was not written; is the guest's GHES driver polling this source? (dmesg | grep GHES)"
        }
    }

    /// Whether the failure came from the kernel's handler of an attribute that was found and
    /// written (so it may have acted), rather than from reaching it.
    public var reachedTheKernel: Bool {
        switch self {
        case .system(_, "write", _, _), .system(_, "device write", _, _): return true
        default: return false  // a QMP error means QEMU did not carry the command out
        }
    }

    private static func suffix(_ hint: String?) -> String { hint.map { "; \($0)" } ?? "" }
}
