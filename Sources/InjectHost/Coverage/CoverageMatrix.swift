/// A feature matrix of a target for a platform bring-up: every backend's paths (from its probe)
/// as READY or N/A with the reason, and optionally each backend's default (corrected) injection,
/// verified, as PASS, FAIL or N/A. `inject coverage` prints it; one matrix per lab kernel compares
/// kernels side by side.
public struct CoverageMatrix: Sendable, Encodable {
    /// What one row says.
    public enum State: String, Sendable, Encodable, CaseIterable, CustomStringConvertible {
        /// The default injection ran and every expected kernel event was seen.
        case pass = "PASS"
        /// The probe or the default injection failed.
        case fail = "FAIL"
        /// The path can be used here.
        case ready = "READY"
        /// The path cannot be used here (the reason says why), or the injection was skipped.
        case notAvailable = "N/A"

        public var description: String { rawValue }
    }

    /// One backend's path, or its default injection.
    public struct Row: Sendable, Encodable, Equatable {
        public var backend: String
        public var path: String
        public var state: State
        public var reason: String
    }

    /// The rows, backend by backend.
    public var rows: [Row]

    /// A matrix of `rows`.
    public init(rows: [Row]) { self.rows = rows }

    /// Builds the matrix on the session's target: each backend probed, and with `injecting` its
    /// default request performed by it (a request that needs confirmation is skipped).
    public static func build(_ session: InjectSession, injecting injector: Injector? = nil) async -> CoverageMatrix {
        let target = session.options.target
        var rows: [Row] = []
        let privilege = geteuid() == 0 || target.guest != nil || target.root != "/" ? "" : " (not root: run as root)"
        for backend in session.registry.backends.map(\.info.name) {
            do {
                for capability in try session.probe(backend: backend) {
                    let first = capability.detail.split(separator: "\n").first.map(String.init)
                    rows.append(
                        Row(
                            backend: backend, path: capability.name,
                            state: capability.available ? .ready : .notAvailable,
                            reason: first.map { capability.available ? $0 : $0 + privilege } ?? ""))
                }
            } catch {
                rows.append(Row(backend: backend, path: "probe", state: .fail, reason: error.description))
            }
            if let injector { rows.append(await defaultInjection(backend, injector)) }
        }
        return CoverageMatrix(rows: rows)
    }

    /// The backend's default request, injected and verified.
    static func defaultInjection(_ backend: String, _ injector: Injector) async -> Row {
        let path = "default injection"
        let plan: InjectionPlan
        do {
            plan = try injector.session.plan(InjectionRequest(backend))
        } catch {
            return Row(backend: backend, path: path, state: .notAvailable, reason: error.description)
        }
        do throws(InjectError) {
            try injector.confirm(plan)
        } catch {
            return Row(
                backend: backend, path: path, state: .notAvailable,
                reason: "skipped: needs \(Setting.confirmation) (" + plan.confirmationReasons.joined(separator: "; ")
                    + ")")
        }
        do throws(InjectError) {
            let findings = try await injector.perform(plan).findings ?? []
            let missing = findings.filter { !$0.matched }.map { "\($0.kind) \($0.expected)" }
            return missing.isEmpty
                ? Row(
                    backend: backend, path: path, state: .pass,
                    reason: "\(findings.count) of \(findings.count) expected kernel events seen")
                : Row(backend: backend, path: path, state: .fail, reason: "missing: " + missing.joined(separator: "; "))
        } catch {
            return Row(backend: backend, path: path, state: .fail, reason: error.description)
        }
    }

    /// How many rows are in each state: "2 PASS, 0 FAIL, 9 READY, 3 N/A".
    public var counts: String {
        State.allCases.map { state in "\(rows.filter { $0.state == state }.count) \(state)" }.joined(separator: ", ")
    }

    /// Whether a row failed.
    public var failed: Bool { rows.contains { $0.state == .fail } }

    /// Matrices of several targets (one per kernel) side by side: one row per backend and path any
    /// of them reported, one state per matrix (`nil` where it did not report that row), and the
    /// reason of the first that is not READY or PASS there.
    public static func sideBySide(_ matrices: [CoverageMatrix]) -> [(
        backend: String, path: String, states: [State?], reason: String
    )] {
        var keys: [(String, String)] = []
        for matrix in matrices {
            for row in matrix.rows where !keys.contains(where: { $0 == (row.backend, row.path) }) {
                keys.append((row.backend, row.path))
            }
        }
        return keys.map { backend, path in
            let cells = matrices.map { matrix in matrix.rows.first { $0.backend == backend && $0.path == path } }
            let present = cells.compactMap { $0 }
            let reason =
                present.first { $0.state != .ready && $0.state != .pass }?.reason ?? present.first?.reason ?? ""
            return (backend, path, cells.map { $0?.state }, reason)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rows)
    }
}
