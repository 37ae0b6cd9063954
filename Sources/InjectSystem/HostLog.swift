/// Writes diagnostics to standard error (fd 2): warnings always, plugin log lines at the chosen
/// verbosity.
public enum HostLog {
    /// Plugin log lines at this level or above are shown (0 debug ... 3 error).
    nonisolated(unsafe) public static var pluginThreshold: Int32 = 2

    /// A host warning.
    public static func warning(_ message: String) { emit("inject: warning: \(message)\n") }

    /// A line a plugin logged.
    public static func plugin(_ backend: String, level: Int32, _ message: String) {
        guard level >= pluginThreshold else { return }
        let names = ["debug", "info", "warning", "error"]
        let name = names.indices.contains(Int(level)) ? names[Int(level)] : "log"
        emit("inject: \(backend): \(name): \(message)\n")
    }

    private static func emit(_ text: String) {
        var text = text
        text.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }
}
