import ArgumentParser
import InjectHost

/// `inject doctor`: what stands between this machine and a working injection.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check privileges, mounts, lockdown, modules and plugin directories.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try global.session()
        let checks = Doctor(session: session).run()
        if global.json {
            Output.json(checks)
            return
        }
        Output.line(Output.table(checks.map { [$0.status.rawValue, $0.name, $0.detail] }, indent: ""))
    }
}
