import Testing

@testable import InjectHost

/// What the host takes from plugin code and user files is bounded and checked where it enters:
/// capability text, manifest length arguments, the shape of the project's JSON files.
@Suite struct BoundedPluginTextTests {
    @Test func capabilityTextIsReadOnlyUpToItsLimitAndCutOnACharacter() {
        let long = String(repeating: "é", count: 2000)  // 4,000 bytes, two per character
        long.withCString { pointer in
            let text = CapabilityReport.text(pointer, limit: 1024)
            #expect(text?.utf8.count ?? 0 <= 1024)
            #expect(text?.hasSuffix("...") == true)
            #expect(text?.dropLast(3).allSatisfy { $0 == "é" } == true, "no half character before the dots")
        }
        "short".withCString { #expect(CapabilityReport.text($0, limit: 1024) == "short") }
        String(repeating: "a", count: 1024).withCString {
            #expect(CapabilityReport.text($0, limit: 1024)?.utf8.count == 1024, "exactly the limit is whole")
        }
        #expect(CapabilityReport.text(nil, limit: 10) == nil)
    }

    @Test func aProbeKeepsItsFirstCapabilitiesAndCountsTheRest() {
        let context = CallContext(
            mode: .probe, backend: "b", target: InjectionTarget(), files: AttributeFiles(root: "/"))
        for index in 0..<(CapabilityReport.maximumCount + 7) {
            context.report(CapabilityReport(name: "c\(index)", available: true, detail: ""))
        }
        let reported = context.reportedCapabilities
        #expect(reported.count == CapabilityReport.maximumCount + 1)
        #expect(reported.last?.detail == "the plugin reported 7 more; \(CapabilityReport.maximumCount) are shown")
    }

    @Test func lengthArgumentsAreKnownByTheirUsualNames() {
        for name in ["len", "why_len", "bufsz", "buf_size", "limit", "maxlen", "n", "count", "cap", "nbytes", "buf_n"] {
            #expect(ManifestBackend.looksLikeLength(name), "\(name)")
        }
        for name in ["pa", "address", "flags", "ticket", "severity", "why"] {
            #expect(!ManifestBackend.looksLikeLength(name), "\(name)")
        }
    }

    @Test func jsonShapeNamesTheFirstUnknownOrRepeatedKeyWithItsPath() {
        func allowed(_ path: [String]) -> [String]? {
            switch path {
            case []: return ["steps", "stop"]
            case ["steps", "*"]: return ["backend", "count", "parameters"]
            default: return nil
            }
        }
        func problem(_ text: String) -> String? { JSONShape.problem(in: Array(text.utf8), allowed: allowed) }
        #expect(problem(#"{"steps": [{"backend": "m", "parameters": {"anything": "1"}}]}"#) == nil)
        #expect(
            problem(#"{"steps": [{"backend": "m"}, {"cuont": 2}]}"#)?.hasPrefix("unknown key 'cuont' in steps[]")
                == true)
        #expect(problem(#"{"stpes": []}"#) == "unknown key 'stpes'; the valid keys are steps, stop")
        #expect(problem(#"{"steps": [], "steps": []}"#) == "key 'steps' is given twice; give each key once")
        #expect(problem("not json") == nil, "the decoder says what is wrong with the syntax")
    }
}
