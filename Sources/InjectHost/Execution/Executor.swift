import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Carries out a validated plan on a target, step by step, stopping at the first failure.
public struct Executor {
    /// The target.
    public let target: TargetSpec
    private let files: (any TargetFiles)?

    /// Creates an executor for `target`; `files` are the session's (``InjectSession/targetFiles()``),
    /// opened from `target` when not given.
    public init(target: TargetSpec, files: (any TargetFiles)? = nil) {
        self.target = target
        self.files = files
    }

    /// What one executed step returned.
    public struct StepResult: Sendable, Equatable, Encodable {
        /// The step's position, from 1.
        public var index: Int
        /// The step as shown in a dry run.
        public var step: String
        /// Output worth showing: a QMP reply, a tool's output.
        public var output: String?
        /// Wall time in microseconds.
        public var microseconds: UInt64
    }

    /// Runs every step in order.
    ///
    /// - Parameters:
    ///   - plan: a plan from ``InjectSession/plan(backend:arguments:)``.
    ///   - confirmed: whether the user passed `--yes`.
    /// - Throws: ``InjectError/confirmationRequired(backend:reasons:)`` before anything runs, or
    ///   ``InjectError/stepFailed(index:step:completed:error:)``.
    public func run(_ plan: InjectionPlan, confirmed: Bool) async throws(InjectError) -> [StepResult] {
        if !plan.confirmationReasons.isEmpty && !confirmed {
            throw .confirmationRequired(backend: plan.backend, reasons: plan.confirmationReasons)
        }
        let files: any TargetFiles
        if let given = self.files {
            files = given
        } else {
            do throws(TargetError) { files = try target.files() } catch { throw .target(error) }
        }
        var qmp: QMPClient?
        var results: [StepResult] = []
        for (index, step) in plan.steps.enumerated() {
            let started = HostClock.monotonicNanoseconds()
            var output: String?
            do throws(TargetError) {
                switch step.action {
                case .writeAttribute(let path, let value):
                    try files.write(value, to: path, hint: step.hint)
                case .qmp(let command, let arguments):
                    guard let socket = target.qmpSocket else { throw TargetError.noQMP(command: command) }
                    if qmp == nil { qmp = try QMPClient(socketPath: socket) }
                    output = try qmp!.execute(command, arguments: arguments).description
                case .exec(let argv):
                    output = try await ToolRunner.run(argv, hint: step.hint).output
                case .writeMemory(let address, let bytes):
                    guard let memory = target.guestMemory else { throw TargetError.noFirmwareMemory }
                    try AttributeFiles.write(bytes, at: Int64(bitPattern: address), of: memory)
                case .sleep(let microseconds):
                    usleep(UInt32(microseconds))
                case .notify(let backend, _):
                    throw TargetError.tool(argv: ["notify", backend], reason: "notification was not routed by the planner", hint: nil)
                }
            } catch {
                throw .stepFailed(index: index, step: PlanRenderer.describe(step, root: target.root), completed: index,
                                  wasTrigger: step.isTrigger, error: error)
            }
            results.append(StepResult(index: index + 1, step: PlanRenderer.describe(step, root: target.root), output: output,
                                      microseconds: (HostClock.monotonicNanoseconds() - started) / 1000))
        }
        return results
    }
}
