import ArgumentParser
import InjectHost

/// `inject run B name=value ...`: validate, plan, and execute (or print with --dry-run).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Inject an error through a backend.",
        discussion: "Nothing is executed until every parameter is valid. --dry-run prints the exact steps and touches nothing.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backend.", completion: .custom { _, _, _ in BackendNames.all() })
    var backend: String

    @Argument(help: "Parameters as name=value (see `inject info <backend>`).")
    var assignments: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Print the steps without executing them.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Confirm a request that can crash or damage a real machine.")
    var yes = false

    struct Report: Encodable {
        var plan: InjectionPlan
        var dryRun: Bool
        var results: [Executor.StepResult]
    }

    func run() async throws {
        let session = try global.session()
        let plan = try global.report { () throws(InjectError) in try session.plan(backend: backend, arguments: assignments) }
        let target = session.options.target
        if dryRun {
            if global.json { Output.json(Report(plan: plan, dryRun: true, results: [])) }
            else { Output.line(PlanRenderer.render(plan, root: target.root) + "\ndry run: nothing was executed.") }
            return
        }
        let files = try global.report { () throws(InjectError) in try session.targetFiles() }
        let results: [Executor.StepResult]
        do {
            results = try await Executor(target: target, files: files).run(plan, confirmed: yes)
        } catch {
            throw global.fail(error)
        }
        if global.json {
            Output.json(Report(plan: plan, dryRun: false, results: results))
        } else {
            for result in results {
                Output.line("\(result.index). \(result.step)  ok (\(result.microseconds) us)" + (result.output.map { ": \($0)" } ?? ""))
            }
            Output.line("\(plan.backend): \(results.count) step(s) done.")
        }
    }
}
