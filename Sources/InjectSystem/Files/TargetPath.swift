/// A path of the target, relative to its root: no leading `/`, no `..`, no empty components.
/// Plugins name files this way; the host alone decides where the root is.
public struct TargetPath: Sendable, Hashable, CustomStringConvertible {
    /// The relative path, such as `sys/kernel/debug/mce-inject/bank`.
    public let relative: String

    /// Validates a relative path.
    ///
    /// - Throws: ``TargetError/unsafePath(_:)`` for absolute paths and `..` components.
    public init(_ text: String) throws(TargetError) {
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        guard !text.isEmpty, !text.hasPrefix("/"),
            !components.contains(where: { $0 == ".." || $0.isEmpty })
        else {
            throw .unsafePath(text)
        }
        relative = text
    }

    /// The path under `root`.
    public func under(_ root: FilePath) -> FilePath { root.appending(relative) }

    public var description: String { relative }
}
