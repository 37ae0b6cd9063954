/// The attribute files of a target (sysfs, debugfs, tracefs, procfs): on this machine under a
/// root directory (``AttributeFiles``), or in a lab's guest (``AgentFiles``).
public protocol TargetFiles {
    /// Writes `value` with a single write, as attribute files need.
    ///
    /// - Parameter hint: what to tell the user when the file is missing or refused.
    func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError)
    /// Writes a binary record to the character device at `path` with a single write (the
    /// kernel's `/dev/aer_inject` takes one `struct aer_error_inj` per write); any other kind of
    /// file is refused.
    func writeDevice(_ bytes: [UInt8], to path: TargetPath, hint: String?) throws(TargetError)
    /// Reads the file whole.
    func read(_ path: TargetPath) throws(TargetError) -> [UInt8]
    /// The entries of a directory (without `.` and `..`), sorted.
    func list(_ path: TargetPath) throws(TargetError) -> [(name: String, isDirectory: Bool)]
    /// Whether `path` exists.
    func exists(_ path: String) -> Bool
    /// Creates a directory (tracefs instances, for example); an existing one is fine.
    func makeDirectory(_ path: TargetPath) throws(TargetError)
    /// Removes an empty directory (or a tracefs instance).
    func removeDirectory(_ path: TargetPath) throws(TargetError)
    /// The attribute at `path` opened for writing again and again (a storm's repeated writes);
    /// `nil` where the target cannot hold files open (a guest reached through its agent).
    func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute?
    /// Carries out a batch of injections made of attribute writes where the kernel is (a lab's
    /// guest runs it whole); a failure to reach the target is thrown, a refused write is the
    /// outcome's `failure`.
    func perform(_ batch: WriteBatch) throws(TargetError) -> WriteBatch.Outcome
}

extension TargetFiles {
    /// By default nothing is held: every write opens the file.
    public func hold(_ path: TargetPath, hint: String?) throws(TargetError) -> HeldAttribute? { nil }

    /// By default the batch runs here, write by write, holding what ``hold(_:hint:)`` holds.
    public func perform(_ batch: WriteBatch) throws(TargetError) -> WriteBatch.Outcome { batch.perform(on: self) }
}

extension TargetFiles {
    /// Reads a text attribute, trimmed; `nil` when it cannot be read.
    public func text(_ path: String) -> String? {
        guard let target = try? TargetPath(path), let bytes = try? read(target) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmed()
    }
}

/// Attribute files beneath a root are the target files of a local target (`/` or `--root`).
extension AttributeFiles: TargetFiles {}
