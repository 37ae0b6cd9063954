/// Decides whether a file the host acts on for the user may be trusted (a plugin loaded, a
/// configuration applied, a journal or cache written), before it is opened for reading:
/// - it must be a regular file (a FIFO, device or socket named `*.so` is refused unopened);
/// - it, and every directory of its real path up to `/`, must be owned by root or by the invoking
///   user and must not be writable by group or others (a directory with the sticky bit, such as
///   `/tmp`, may be: there nobody can replace an entry they do not own, and the entry itself is
///   checked);
/// - when the path given is a symbolic link, the link itself must be owned by root or the user (in
///   a sticky directory anyone may add one) and the same holds for the directories holding the
///   link, so a link cannot be swapped for another one.
/// The same rules decide whether a configuration file, the journal or the registry cache may be used.
public enum FileTrust {
    /// Why the plugin at `path` (as found on the search path, possibly a symbolic link) must not
    /// be loaded, or `nil` when it may. The reason names the path that failed and the rule.
    public static func problem(path: String, userID: uid_t = geteuid()) -> String? {
        var link = stat()
        guard lstat(path, &link) == 0 else { return missing(path, "file") }
        if link.st_mode & S_IFMT == S_IFLNK {
            // In a sticky directory anyone may add an entry: a link is trusted only from root or you.
            if link.st_uid != 0 && link.st_uid != userID {
                return
                    "link \(path) is owned by uid \(link.st_uid), neither root nor you (uid \(userID)); plugins and the links to them must be"
            }
            let linkDirectory = parent(of: absolute(path))
            guard let realDirectory = FileIO.realPath(linkDirectory) else { return missing(linkDirectory, "directory") }
            if let problem = chainProblem(realDirectory, userID: userID, note: " (it holds the link \(path))") {
                return problem
            }
        }
        guard let real = FileIO.realPath(path) else { return "\(path) is a link that does not resolve" }
        var info = stat()
        guard lstat(real, &info) == 0 else { return missing(real, "file") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return "\(real) is \(kind(info.st_mode)), not a regular file"
        }
        if let problem = ownership(real, info, "file", userID: userID) { return problem }
        return chainProblem(parent(of: real), userID: userID, note: "")
    }

    /// The first directory of `directory` (a real path) and its ancestors that breaks a rule.
    private static func chainProblem(_ directory: String, userID: uid_t, note: String) -> String? {
        var current = directory
        while true {
            var info = stat()
            guard lstat(current, &info) == 0 else { return missing(current, "directory") }
            if let problem = ownership(current, info, "directory", userID: userID, stickyAllowed: true) {
                return problem + note
            }
            if current == "/" { return nil }
            current = parent(of: current)
        }
    }

    private static func ownership(
        _ path: String, _ info: stat, _ what: String, userID: uid_t, stickyAllowed: Bool = false
    ) -> String? {
        if info.st_uid != 0 && info.st_uid != userID {
            return
                "\(what) \(path) is owned by uid \(info.st_uid), neither root nor you (uid \(userID)); plugins and their directories must be"
        }
        let writable = info.st_mode & (S_IWGRP | S_IWOTH)
        if writable != 0 && !(stickyAllowed && info.st_mode & S_ISVTX != 0) {
            let who = writable & S_IWOTH != 0 ? (writable & S_IWGRP != 0 ? "group and others" : "others") : "group"
            let fix = writable & S_IWOTH != 0 ? (writable & S_IWGRP != 0 ? "go-w" : "o-w") : "g-w"
            return
                "\(what) \(path) is writable by \(who) (mode \(String(info.st_mode & 0o7777, radix: 8))); run chmod \(fix) \(path)"
        }
        return nil
    }

    private static func missing(_ path: String, _ what: String) -> String {
        errno == ENOENT
            ? "\(what) \(path) does not exist"
            : "\(what) \(path) cannot be examined: \(String(cString: strerror(errno)))"
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    /// The directory part of an absolute path (`/` for a top-level entry).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
