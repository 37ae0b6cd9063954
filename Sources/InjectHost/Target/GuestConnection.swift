/// A machine the host reaches through an agent instead of directly: a lab's guest, for example.
///
/// The host sees a guest only through this protocol; whoever provides guests (the lab) implements
/// it and hands an instance to ``InjectionTarget/guest``. Firmware memory is not here: it is a file
/// the host writes directly (``InjectionTarget/guestMemory``).
public protocol GuestConnection: Sendable {
    /// One line naming the guest, for journals and messages ("lab lab2").
    var name: String { get }
    /// The guest's attribute files (its /sys, /proc and debugfs).
    func files() throws(TargetError) -> any TargetFiles
    /// Runs `/bin/sh -c command` in the guest, killed after `timeoutSeconds`.
    func shell(_ command: String, timeoutSeconds: Int) throws(TargetError) -> ShellResult
    /// Lets go of this process's connection, so that other processes can reach the guest
    /// (between the polls of a long-running watcher).
    func release()
    /// The kernel panic the guest has stopped on, or `nil` while it runs (a provider that cannot
    /// tell returns `nil`). Asked after injections, so it should cost no more than a monitor query.
    func panic() -> GuestPanic?
    /// Boots the guest again after a panic with the same kernel and image, and waits until it
    /// answers; the seconds it took.
    func restart() async throws(TargetError) -> Double
    /// What of the machine around the guest is broken (a helper process that died), one line
    /// each, said beside a failure that it explains better than the kernel would. Empty when
    /// all is well; asked only after a step failed.
    func machineFaults() -> [String]
}

extension GuestConnection {
    /// No helpers to fail.
    public func machineFaults() -> [String] { [] }
}

/// What a shell command in a guest produced.
public struct ShellResult: Sendable, Equatable {
    /// The exit status (137 when the guest killed it at its time limit).
    public var status: Int32
    /// Standard output.
    public var output: [UInt8]
    /// Standard error.
    public var errorOutput: [UInt8]

    /// Creates a result.
    public init(status: Int32, output: [UInt8], errorOutput: [UInt8]) {
        self.status = status
        self.output = output
        self.errorOutput = errorOutput
    }

    /// Standard output as text.
    public var text: String { String(decoding: output, as: UTF8.self) }
    /// Standard error as text.
    public var errorText: String { String(decoding: errorOutput, as: UTF8.self) }
}
