import ArgumentParser
import InjectHost

/// `inject victim`: the process `expect=sigbus` starts in the target (see ``Victim``); not for people.
struct VictimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "victim",
        abstract: "Hold one page and read it until the kernel kills this process (expect=sigbus).",
        shouldDisplay: false)

    func run() throws {
        throw ExitCode(Victim.serve())
    }
}
