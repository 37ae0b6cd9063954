import ArgumentParser
import InjectHost
import InjectLab

/// `inject lab demo`: boot a lab, inject once through each backend, show what the guest kernel
/// reported, and stop the lab again.
struct LabDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Boot a lab, inject through every backend, and show the guest kernel's report of each.",
        discussion:
            "A lab that is already running is used and left running; otherwise the demo starts one and stops it at the end (unless --keep). Exits 1 when a report is missing."
    )

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
                record = try await Lab.up(boot.options(name: lab.name), environment: environment) {
                    Output.progress($0)
                }
            } catch {
                throw lab.fail(error)
            }
            started = true
            if !lab.json {
                Output.line(
                    "lab \(record.name): up in \(String(format2: record.bootSeconds)) s, kernel \(record.kernel), "
                        + "\(record.cpus) vCPU, \(record.memoryMiB) MiB"
                        + (record.residentKiB.map { ", QEMU resident \($0 / 1024) MiB" } ?? ""))
            }
        }
        defer {
            if started && !keep {
                let stopped = (try? target.down()) ?? false
                if !lab.json { Output.line("lab \(record.name): \(stopped ? "stopped" : "was gone"), files removed.") }
            }
        }
        // The demo is a campaign: the lab's scenario, each injection verified by its own plan.
        var options = InjectSession.Options(environment: environment)
        options.scannerExecutable = PluginSearchPath.executablePath
        let session: InjectSession
        do throws(InjectError) {
            do throws(LabError) { options.target = try target.target() } catch {
                throw .target(error.asTargetError(record.name))
            }
            session = try InjectSession(options)
        } catch {
            Output.error(error.description)
            throw ExitCode(ExitCodes.of(error))
        }
        let scenario = LabDemo.scenario(record)
        let runner = CampaignRunner(session: session, journal: nil, confirmed: false, verifyTimeout: 10)
        let results = await runner.run(scenario, progress: { _ in }, interrupted: { false })
        if lab.json {
            Output.json(results)
        } else {
            for (index, result) in results.enumerated() {
                Output.line(
                    "\n[\(index + 1)/\(scenario.steps.count)] \(result.backend): \(result.title ?? result.name)")
                Output.line(
                    "  $ inject run \(result.backend) \(result.lastRequest.joined(separator: " ")) --verify --lab \(record.name)"
                )
                if let error = result.firstError { Output.line("  injection failed: \(error)") }
                for finding in result.lastFindings {
                    Output.line(
                        finding.matched
                            ? "  seen     \(finding.kind) \(finding.expected) after \(finding.latencyMilliseconds ?? 0) ms: \(finding.evidence ?? "")"
                            : "  MISSING  \(finding.kind) \(finding.expected)")
                }
                Output.line(result.passed ? "  reported by the guest kernel" : "  NOT reported")
            }
        }
        let good = results.filter(\.passed).count
        if !lab.json { Output.line("\n\(good) of \(scenario.steps.count) backends reported by the guest kernel.") }
        if good != scenario.steps.count { throw ExitCode(ExitCodes.execution) }
    }
}
