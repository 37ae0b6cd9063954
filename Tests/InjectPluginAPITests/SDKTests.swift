import InjectPluginABI
import Testing

@testable import InjectPluginAPI

@Suite("Swift SDK")
struct SDKTests {
    @Test func signedRangesCrossTheABIAsBitPatterns() {
        let shape = Parameter.Kind.int(-5...5).abiShape
        #expect(shape.type == INJECT_PARAM_INT)
        #expect(shape.bounds?.min == UInt64(bitPattern: -5))
        #expect(shape.bounds?.max == 5)
        #expect(Parameter.Kind.choice(["a", "b"]).abiShape.choices == ["a", "b"])
        #expect(Parameter.Kind.u64().abiShape.bounds == nil)
    }

    @Test func parameterValuesReadTheirTypes() {
        let values = ParameterValues([
            "cpu": ParameterValue(isSet: true, number: 3, text: "3", bytes: []),
            "offset": ParameterValue(isSet: true, number: UInt64(bitPattern: -2), text: "-2", bytes: []),
            "flag": ParameterValue(isSet: true, number: 1, text: "true", bytes: []),
            "unset": ParameterValue(isSet: false, number: 0, text: "", bytes: []),
        ])
        #expect(values.number("cpu") == 3)
        #expect(values.signed("offset") == -2)
        #expect(values.flag("flag"))
        #expect(values.number("unset") == nil)
        #expect(!values.isSet("unset"))
        #expect(values["missing"] == nil)
    }

    @Test func planBuildersRecordStepsInOrder() {
        var plan = Plan()
        plan.write("a", "1")
        plan.qmp("inject-nmi", trigger: true)
        plan.notify("nmi", ["via": "qemu"])
        plan.requireConfirmation("why")
        #expect(
            plan.steps.map(\.action) == [
                .writeAttribute(path: "a", value: "1"), .qmp(command: "inject-nmi", arguments: nil),
                .notify(backend: "nmi", arguments: ["via": "qemu"]),
            ])
        #expect(plan.steps[1].isTrigger)
        #expect(plan.confirmationReasons == ["why"])
    }

    @Test func refusalsAreTruncatedAndTerminated() {
        var entry = inject_entry()
        entry.refuse(INJECT_E_ABI, String(repeating: "x", count: 400))
        let message = withUnsafeBytes(of: entry.error_message) {
            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        #expect(message.count == 255)
        #expect(entry.error_code == INJECT_E_ABI.rawValue)
    }
}
