/// Text forms of plans and steps, as `--dry-run` prints them.
public enum PlanRenderer {
    /// One line for a step: the exact path and value, QMP JSON, or command line; a repeat step
    /// names the steps it repeats (`index` is the step's position, from 0).
    public static func describe(_ step: PlannedStep, at index: Int, root: FilePath) -> String {
        guard let repeated = step.action as? RepeatStep else { return describe(step, root: root) }
        return repeated.describe(at: index)
    }

    /// One line for a step, without its position (a repeat step names no steps).
    public static func describe(_ step: PlannedStep, root: FilePath) -> String {
        step.action.describe(root: root)
    }

    /// The whole plan as text.
    public static func render(_ plan: InjectionPlan, root: FilePath) -> String {
        var lines = ["plan for \(plan.backend): \(plan.steps.count) step(s)"]
        let shown = plan.parameters.filter { $0.value != nil }
        if !shown.isEmpty {
            lines.append("parameters:")
            for parameter in shown {
                lines.append("  \(parameter.spec.name)=\(parameter.value!.text)  (\(parameter.source))")
            }
        }
        lines.append("steps:")
        for (index, step) in plan.steps.enumerated() {
            var line = "  \(index + 1). \(describe(step, at: index, root: root))"
            if step.isTrigger { line += "  [trigger]" }
            if step.backend != plan.backend { line += "  [via \(step.backend)]" }
            lines.append(line)
            if let note = step.note {
                lines += note.split(separator: "\n", omittingEmptySubsequences: false).map { "     # \($0)" }
            }
        }
        if !plan.expectations.isEmpty {
            lines.append("expected kernel events:")
            for event in plan.expectations {
                lines.append("  \(event.kind.rawValue) \(event.summary)" + (event.note.map { "  # \($0)" } ?? ""))
            }
        }
        if let outcome = plan.outcome {
            lines.append("expected outcome: \(outcome) (\(outcome.panicSummary))")
            if outcome == .sigbus {
                lines.append(
                    "  # a victim process started in the target first holds a page and reads it; the request gets its address,"
                )
                lines.append(
                    "  # and the kernel's 'Killing inject-victim:PID due to hardware memory corruption' is expected")
            }
        }
        if !plan.confirmationReasons.isEmpty {
            lines.append("needs \(Setting.confirmation): " + plan.confirmationReasons.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
