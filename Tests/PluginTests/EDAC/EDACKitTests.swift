import InjectPluginAPI
import InjectPluginTesting
import Testing
@testable import EDACKit

/// The edac backend's plans: fake_inject where the kernel has it, else a GHES record, and
/// counters expected only where a memory controller counts.
@Suite("EDAC kit")
struct EDACKitTests {
    @Test func fakeInjectWritesTheLayersThenTheTrigger() throws {
        let directory = "sys/kernel/debug/edac/mc0"
        let files = Dictionary(uniqueKeysWithValues: ["fake_inject_layer0", "fake_inject_layer1", "fake_inject_layer2", "fake_inject_ue",
                                                      "fake_inject_count", "fake_inject"].map { ("\(directory)/\($0)", "") }
            + [("sys/devices/system/edac/mc/mc0/ce_count", "0")])
        let plan = try TestTarget(files: files).plan(EDACBackend(), ["layer1": "2", "count": "3"])
        let paths = plan.steps.compactMap { step -> String? in
            if case .writeAttribute(let path, _) = step.action { return String(path.split(separator: "/").last!) }
            return nil
        }
        #expect(paths == ["fake_inject_layer0", "fake_inject_layer1", "fake_inject_layer2", "fake_inject_ue", "fake_inject_count", "fake_inject"])
        #expect(plan.steps.last?.isTrigger == true)
        #expect(plan.expectations.contains(.counter("sys/devices/system/edac/mc/mc0/ce_count", delta: 3)))
    }

    @Test func withoutAControllerTheGHESRecordIsTheEvidenceAndNoCounterIsExpected() throws {
        let plan = try TestTarget().plan(EDACBackend(), ["via": "ghes", "address": "0x3000", "module": "2"])
        guard case .notify(let backend, let arguments) = plan.steps.first?.action else {
            Issue.record("no notification: \(plan.steps)"); return
        }
        #expect(backend == "ghes")
        #expect(arguments["address"] == "0x3000" && arguments["module"] == "2" && arguments["severity"] == "corrected")
        #expect(arguments["fru_text"] == "EDAC mc0", "a record unlike a ghes default, which the kernel would drop as a repeat")
        #expect(plan.expectations.isEmpty)
        #expect(plan.steps.first?.note?.contains("no EDAC memory controller mc0 is registered") == true)
    }

    @Test func withAControllerTheCounterAndTheTraceEventAreExpected() throws {
        let plan = try TestTarget(files: ["sys/devices/system/edac/mc/mc0/ce_count": "0"]).plan(EDACBackend(), ["via": "ghes", "address": "0x3000"])
        #expect(plan.expectations.contains(.counter("sys/devices/system/edac/mc/mc0/ce_count", delta: 1)))
        #expect(plan.expectations.contains(.traceEvent("ras:mc_event", fields: "error_type=Corrected mc_index=0")))
    }

    @Test func uncorrectedNeedsConfirmation() throws {
        #expect(!(try TestTarget().plan(EDACBackend(), ["error": "ue", "via": "ghes"])).confirmationReasons.isEmpty)
    }
}
