import Synchronization

/// Ctrl-C for long commands (campaigns, watch): SIGINT sets a flag that the command checks
/// between units of work, instead of killing the process mid-write.
enum InterruptRequest {
    private static let requested = Atomic<Bool>(false)

    /// Whether Ctrl-C was pressed since ``install()``.
    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// Catches SIGINT, unblocking it first: a parent may have started us with it blocked (test
    /// runners, some job controls).
    static func install() {
        signal(SIGINT) { _ in InterruptRequest.requested.store(true, ordering: .relaxed) }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Gives SIGINT back its default action.
    static func uninstall() { signal(SIGINT, SIG_DFL) }
}
