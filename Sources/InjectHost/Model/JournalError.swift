/// A failure of the journal itself, not of the target: the message names the journal, the
/// reason and the two ways out; the exit code is ``ExitCodes/journal``.
public enum JournalError: Error, Equatable, CustomStringConvertible {
    /// The journal could not be opened or created (a read-only filesystem, a directory, no room).
    case open(path: String, reason: String)
    /// An intent could not be written whole: nothing was injected, and the file is as it was.
    case intent(path: String, reason: String)
    /// The injection ran, but its outcome could not be written whole (the file is as it was
    /// before the outcome); `outcome` is what the journal would have said.
    case outcome(path: String, reason: String, outcome: String)
    /// The journal could not be read.
    case read(path: String, reason: String)

    public var description: String {
        let wayOut =
            "choose another file with \(Setting.journal.named("FILE")) (or INJECT_JOURNAL=FILE), or run without a journal with \(Setting.noJournal)"
        switch self {
        case .open(let path, let reason):
            return "journal \(path) cannot be opened: \(reason); nothing was injected; \(wayOut)"
        case .intent(let path, let reason):
            return "journal \(path): the intent could not be written (\(reason)); nothing was injected; \(wayOut)"
        case .outcome(let path, let reason, let outcome):
            return
                "journal \(path): the injection ran (\(outcome)) but its outcome could not be written (\(reason)); the journal shows the run as unfinished; \(wayOut)"
        case .read(let path, let reason):
            return "journal \(path) cannot be read: \(reason)"
        }
    }
}
