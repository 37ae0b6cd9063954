import CSystemShims

/// A `--root` directory that paths cannot leave: every open resolves beneath it with openat2(2)
/// and RESOLVE_BENEATH (a `..`, an absolute symlink or a relative one that climbs out fails with
/// EXDEV), or, on kernels before 5.6, by a walk that opens one component at a time with
/// O_NOFOLLOW and refuses every symlink.
final class RootDirectory: @unchecked Sendable {
    /// The root as given.
    let path: String
    /// The root, opened once (INJECT_O_PATH); -1 when it could not be opened (`openError` says why).
    private let fd: Int32
    private let openError: Int32
    /// Whether the kernel has openat2 (checked on first use).
    nonisolated(unsafe) private static var hasOpenat2: Bool?

    init(_ path: String) {
        self.path = path
        let fd = Glibc.open(path, INJECT_O_PATH | O_DIRECTORY | O_CLOEXEC)
        self.fd = fd
        openError = fd < 0 ? errno : 0
    }

    deinit { if fd >= 0 { close(fd) } }

    /// A descriptor for `relative` (no leading `/`), opened with `flags` beneath the root.
    ///
    /// - Throws: the errno; `EXDEV` when the path would leave the root.
    func open(_ relative: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        guard fd >= 0 else { throw Errno(rawValue: openError) }
        if Self.hasOpenat2 != false {
            let opened = inject_openat2(
                fd, relative, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode),
                UInt64(INJECT_RESOLVE_BENEATH | INJECT_RESOLVE_NO_MAGICLINKS))
            if opened >= 0 {
                Self.hasOpenat2 = true
                return opened
            }
            guard errno == ENOSYS else { throw Errno(rawValue: errno) }
            Self.hasOpenat2 = false
        }
        return try walk(relative, flags, mode: mode)
    }

    /// The directory holding `relative`'s last component (opened beneath the root) and that
    /// component, for `mkdirat` and `unlinkat`.
    func parent(of relative: String) throws(Errno) -> (fd: Int32, name: String) {
        let components = relative.split(separator: "/")
        guard let last = components.last else { throw .invalidArgument }
        let directory = components.dropLast().joined(separator: "/")
        let parent =
            directory.isEmpty
            ? try open(".", INJECT_O_PATH | O_DIRECTORY) : try open(directory, INJECT_O_PATH | O_DIRECTORY)
        return (parent, String(last))
    }

    /// The fallback: one component at a time, no symlink followed.
    private func walk(_ relative: String, _ flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        let components = relative.split(separator: "/").map(String.init)
        var current = dup(fd)
        guard current >= 0 else { throw Errno(rawValue: errno) }
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            guard component != ".." else {
                close(current)
                throw .improperLink
            }
            var info = stat()
            if fstatat(current, component, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFLNK {
                close(current)
                throw .improperLink
            }
            let next =
                isLast
                ? openat(current, component, flags | O_NOFOLLOW | O_CLOEXEC, mode)
                : openat(current, component, INJECT_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            close(current)
            guard next >= 0 else { throw Errno(rawValue: failure) }
            current = next
        }
        return current
    }
}
