import CSystemShims

/// Programs the lab starts itself (not through a shell): standard input from /dev/null, standard
/// output into a file.
enum LabProcess {
    /// Starts `argv` (`argv[0]` an absolute path) with standard output in `output` (truncated),
    /// standard error there too when `errorToOutput` (else inherited), and in a session of its own
    /// when `newSession`; its pid.
    static func spawn(_ argv: [String], output: FilePath, errorToOutput: Bool, newSession: Bool) throws(Errno) -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.string, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if errorToOutput { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, Int16(INJECT_POSIX_SPAWN_SETSID)) }
        let words: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { words.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, words, environ)
        guard spawned == 0 else { throw Errno(rawValue: spawned) }
        return pid
    }
}
