import ArgumentParser
import InjectHost

/// `inject lab demo`: boot a lab, inject once through each backend, show what the guest kernel
/// reported, and stop the lab again.
struct LabDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Boot a lab, inject through every backend, and show the guest kernel's report of each.",
        discussion: "A lab that is already running is used and left running; otherwise the demo starts one and stops it at the end (unless --keep). Exits 1 when a report is missing.")

    @OptionGroup var lab: LabOptions
    @OptionGroup var boot: LabBootOptions

    @Flag(help: "Leave the lab running afterwards.")
    var keep = false

    func run() async throws {
        let environment = currentEnvironment()
        let target = try lab.lab()
        var started = false
        let record: LabRecord
        if let running = target.record {
            record = running
            Output.progress("using the running lab \(record.name)")
        } else {
            do {
                record = try await Lab.up(boot.options(name: lab.name), environment: environment) { Output.progress($0) }
            } catch {
                throw lab.fail(error)
            }
            started = true
            if !lab.json {
                Output.line("lab \(record.name): up in \(String(format2: record.bootSeconds)) s, kernel \(record.kernel), "
                            + "\(record.cpus) vCPU, \(record.memoryMiB) MiB" + (record.residentKiB.map { ", QEMU resident \($0 / 1024) MiB" } ?? ""))
            }
        }
        defer {
            if started && !keep {
                let stopped = (try? target.down()) ?? false
                if !lab.json { Output.line("lab \(record.name): \(stopped ? "stopped" : "was gone"), files removed.") }
            }
        }
        let demo: LabDemo
        do {
            demo = try LabDemo(lab: target, environment: environment, executableDirectory: PluginSearchPath.executableDirectory)
        } catch {
            throw ExitCode(error.exitCode)
        }
        let cases = LabDemo.cases(record)
        var index = 0
        let outcomes = await demo.run(cases) { demoCase, outcome in
            index += 1
            guard !lab.json else { return }
            Output.line("\n[\(index)/\(cases.count)] \(demoCase.backend): \(demoCase.title)")
            Output.line("  $ \(outcome.command)")
            if let error = outcome.error { Output.line("  injection failed: \(error)") }
            for line in outcome.kernelLog { Output.line("  guest kernel: \(line)") }
            for line in outcome.evidence { Output.line("  \(line)") }
            Output.line(outcome.succeeded ? "  reported by the guest kernel" : "  NOT reported: missing \(outcome.missing.joined(separator: "; "))")
        }
        let good = outcomes.filter(\.succeeded).count
        if lab.json { Output.json(outcomes) } else { Output.line("\n\(good) of \(outcomes.count) backends reported by the guest kernel.") }
        if good != outcomes.count { throw ExitCode(ExitCodes.execution) }
    }
}
