/// The attribute files of a target (sysfs, debugfs, tracefs, procfs): on this machine under a
/// root directory (``AttributeFiles``), or in a lab's guest (``LabFiles``).
public protocol TargetFiles {
    /// Writes `value` with a single write, as attribute files need.
    ///
    /// - Parameter hint: what to tell the user when the file is missing or refused.
    func write(_ value: String, to path: TargetPath, hint: String?) throws(TargetError)
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
}

extension TargetFiles {
    /// Reads a text attribute, trimmed; `nil` when it cannot be read.
    public func text(_ path: String) -> String? {
        guard let target = try? TargetPath(path), let bytes = try? read(target) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmed()
    }
}
