import InjectHost

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The wire format between the host and the guest agent, over the `inject.agent` virtio-serial
/// port. One request at a time:
///
///     ID OP TIMEOUT ARG1 ARG2\n           arguments base64, "-" when empty
///     @@inject ID STATUS OUTLEN ERRLEN\n  then OUTLEN bytes of output and ERRLEN of error text
///
/// Operations: `sh` runs ARG1 with `/bin/sh -c` (STATUS is its exit status, 137 when killed at
/// TIMEOUT seconds); `read`, `write` (ARG2 in one write()), `list` and `exists` act on the path
/// ARG1 directly (STATUS is 0 or the errno); `wdev` writes ARG2 to the character device ARG1;
/// `batch` carries out the ``WriteBatch`` in ARG2 (``WriteBatch/encoded``) inside the guest and answers its
/// ``WriteBatch/Outcome`` (JSON) with STATUS 0.
enum AgentProtocol {
    enum Operation: String, Sendable {
        case shell = "sh"
        case read, write, list, exists, mkdir, rmdir
        /// A binary record to a character device (ENOTTY when it is not one).
        case writeDevice = "wdev"
        /// A batch of injections made of attribute writes, run in the guest.
        case batch
    }

    /// The marker that starts an answer.
    static let marker = "@@inject"

    static func encode(_ argument: [UInt8]) -> String {
        argument.isEmpty ? "-" : Data(argument).base64EncodedString()
    }

    static func decode(_ field: Substring) -> [UInt8]? {
        field == "-" ? [] : Data(base64Encoded: String(field)).map(Array.init)
    }

    static func request(
        id: String, _ operation: Operation, timeoutSeconds: Int, _ first: [UInt8], _ second: [UInt8] = []
    ) -> [UInt8] {
        Array("\(id) \(operation.rawValue) \(timeoutSeconds) \(encode(first)) \(encode(second))\n".utf8)
    }

    static func answerHeader(id: String, status: Int32, output: Int, error: Int) -> [UInt8] {
        Array("\(marker) \(id) \(status) \(output) \(error)\n".utf8)
    }
}
