
/// Text forms of plans and steps, as `--dry-run` prints them.
public enum PlanRenderer {
    /// One line for a step: the exact path and value, QMP JSON, or command line.
    public static func describe(_ step: PlannedStep, at index: Int, root: FilePath) -> String {
        guard case .repeatSteps(let count, let times, let interval) = step.action else { return describe(step, root: root) }
        let block = count == 1 ? "step \(index)" : "steps \(index - count + 1)-\(index)"
        return "repeat \(block) \(times) more time(s)" + (interval > 0 ? ", \(interval) us before each" : "")
    }

    /// One line for a step, without its position (a repeat step names no steps).
    public static func describe(_ step: PlannedStep, root: FilePath) -> String {
        switch step.action {
        case .writeAttribute(let path, let value):
            return "write \(path.under(root).string) = \"\(escaped(value))\""
        case .qmp(let command, let arguments):
            var request: [String: JSONValue] = ["execute": .string(command)]
            if let arguments { request["arguments"] = arguments }
            return "qmp \(JSONValue.object(request))"
        case .exec(let argv):
            return "exec \(argv.map(shellWord).joined(separator: " "))"
        case .writeMemory(let address, let bytes):
            let preview = hexDigits(bytes.prefix(16))
            return "memory \(hexNumber(address)) <- \(bytes.count) bytes (\(preview)\(bytes.count > 16 ? "..." : ""))"
        case .writeDevice(let path, let bytes):
            return "device \(path.under(root).string) <- \(bytes.count) bytes (\(hexDigits(bytes)))"
        case .notify(let backend, let assignments):
            return "notify \(backend) \(assignments.map { "\($0.name)=\($0.value.text)" }.joined(separator: " "))"
        case .sleep(let microseconds):
            return "sleep \(microseconds) us"
        case .repeatSteps(let count, let times, _):
            return "repeat the \(count) step(s) before \(times) more time(s)"
        case .vendorCall(let call):
            return call.description
        case .waitMemoryZero(let address, let microseconds):
            return "wait until memory \(hexNumber(address)) reads zero (at most \(microseconds / 1000) ms)"
        case .ipmi(let request):
            return "ipmi \(request.hexWords.joined(separator: " "))  (\(request.name))"
        }
    }

    /// `value` with newlines, tabs, quotes and backslashes escaped, as in a C string.
    static func escaped(_ value: String) -> String {
        var text = ""
        for character in value {
            switch character {
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            default: text.append(character)
            }
        }
        return text
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
                lines.append("  # a victim process started in the target first holds a page and reads it; the request gets its address,")
                lines.append("  # and the kernel's 'Killing inject-victim:PID due to hardware memory corruption' is expected")
            }
        }
        if !plan.confirmationReasons.isEmpty {
            lines.append("needs --yes: " + plan.confirmationReasons.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
