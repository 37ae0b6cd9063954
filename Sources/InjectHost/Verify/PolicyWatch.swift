/// Which memory policy acted on an injection's page, the way an SRE reads it: the kernel's
/// correctable-error collector (CEC, `RAS: Soft-offlining pfn: 0x...` once a page reaches its
/// threshold), the kernel's soft offline that followed (`Soft offline: 0x...: ...`), and
/// rasdaemon's page isolation (`PAGE_CE_THRESHOLD`: its log's `... page at 0x...: offlined`).
/// `--verify` looks at the kernel log and rasdaemon's log before and after a request that names a
/// page, and says which acted, or that none did.
public struct PolicyAction: Sendable, Encodable, Equatable {
    /// The policy: `kernel CEC`, `kernel soft offline`, `rasdaemon page isolation`.
    public var policy: String
    /// Its line.
    public var line: String
    /// Milliseconds from the end of the injection to the look that saw it.
    public var latencyMilliseconds: Int?
}

enum PolicyWatch {
    /// The finding of `expect=policy:NAME`: whether a policy of `name` acted on the page.
    static func finding(_ name: String, pfn: UInt64, actions: [PolicyAction]) -> Verifier.Finding {
        let acted = actions.filter { $0.policy.hasPrefix(name + " ") }
        return Verifier.Finding(
            kind: .outcome, expected: "a \(name) policy acts on page \(hexNumber(pfn))", matched: !acted.isEmpty,
            latencyMilliseconds: acted.compactMap(\.latencyMilliseconds).min(),
            evidence: acted.isEmpty
                ? (actions.isEmpty
                    ? "no policy acted on the page"
                    : "only \(actions.map(\.policy).joined(separator: ", ")) acted")
                : acted.map { "\($0.policy): \($0.line)" }.joined(separator: "; "))
    }

    /// The page and where the logs stood before the trigger.
    struct Armed: Sendable {
        var pfn: UInt64
        var kernelLines: Int
        var rasdaemonLines: Int
    }

    /// The kernel log's and rasdaemon's log's lengths, for a plan that names a page on a target
    /// with a kernel; `nil` otherwise.
    static func arm(_ plan: InjectionPlan, target: InjectionTarget) async -> Armed? {
        guard target.guest != nil || target.root == "/", let pfn = ExpectedOutcome.page(of: plan) else { return nil }
        defer { target.guest?.release() }
        guard
            let output = try? await target.shell(
                "echo \"$(dmesg | wc -l) $(\(RasdaemonConsumer.logCommand) | wc -l)\"", timeoutSeconds: 15)
        else { return nil }
        let counts = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard counts.count == 2 else { return nil }
        return Armed(pfn: pfn, kernelLines: counts[0], rasdaemonLines: counts[1])
    }

    /// The policies that acted on the page since `armed`: two looks, 300 ms apart (the consumers
    /// were already waited for).
    static func collect(_ armed: Armed, target: InjectionTarget, since: UInt64) async -> [PolicyAction] {
        defer { target.guest?.release() }
        var actions: [PolicyAction] = []
        for look in 0..<2 {
            if look > 0 { usleep(300_000) }
            let script =
                "dmesg | tail -n +\(armed.kernelLines + 1) | sed 's/^/kernel /'; \(RasdaemonConsumer.logCommand) | tail -n +\(armed.rasdaemonLines + 1) | sed 's/^/rasdaemon /'"
            guard let output = try? await target.shell(script, timeoutSeconds: 15) else { break }
            let milliseconds = Int((HostClock.monotonicNanoseconds() - since) / 1_000_000)
            for line in output.split(separator: "\n").map(String.init) {
                guard let action = Self.action(line, pfn: armed.pfn),
                    !actions.contains(where: { $0.line == action.line })
                else { continue }
                actions.append(
                    PolicyAction(policy: action.policy, line: action.line, latencyMilliseconds: milliseconds))
            }
        }
        return actions
    }

    /// The policy a log line (`kernel ...` or `rasdaemon ...`) tells of for page `pfn`, if any.
    static func action(_ line: String, pfn: UInt64) -> (policy: String, line: String)? {
        let page = hexNumber(pfn)
        let address = hexNumber(pfn << 12)
        if line.hasPrefix("kernel ") {
            let text = PrintableText.escaped(String(line.dropFirst(7)).trimmed(), limit: 300)
            if names(text, "Soft-offlining pfn: \(page)") { return ("kernel CEC", text) }
            if text.contains("Soft offline: \(page):") { return ("kernel soft offline", text) }
        } else if line.hasPrefix("rasdaemon ") {
            let text = PrintableText.escaped(String(line.dropFirst(10)).trimmed(), limit: 300)
            if names(text.lowercased(), "page at \(address)") { return ("rasdaemon page isolation", text) }
        }
        return nil
    }

    /// Whether `text` holds `phrase` ending in a number that is not the start of a longer one.
    private static func names(_ text: String, _ phrase: String) -> Bool {
        var rest = Substring(text)
        while let range = rest.firstRange(of: phrase) {
            guard let next = rest[range.upperBound...].first, next.isHexDigit else { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }
}
