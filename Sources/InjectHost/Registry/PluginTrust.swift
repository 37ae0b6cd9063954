#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Decides whether a plugin file may be loaded: the file and its directory must be owned by root
/// or by the invoking user, and neither may be writable by others.
public enum PluginTrust {
    /// Why `file` (in `directory`) must not be loaded, or `nil` when it may.
    public static func problem(file: String, directory: String, userID: uid_t = geteuid()) -> String? {
        for (path, what) in [(directory, "directory"), (file, "file")] {
            var info = stat()
            guard stat(path, &info) == 0 else {
                return errno == ENOENT ? "\(what) \(path) does not exist" : "\(what) \(path) cannot be examined: \(String(cString: strerror(errno)))"
            }
            if info.st_uid != 0 && info.st_uid != userID {
                return "\(what) \(path) is owned by uid \(info.st_uid), neither root nor you (uid \(userID))"
            }
            if info.st_mode & S_IWOTH != 0 {
                return "\(what) \(path) is writable by others (mode \(String(info.st_mode & 0o7777, radix: 8))); run chmod o-w \(path)"
            }
        }
        return nil
    }
}
