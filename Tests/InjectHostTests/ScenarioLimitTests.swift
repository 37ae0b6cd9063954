import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// Scenario values at the edges of 64 bits are refused or drawn without trapping, and an aligned
/// range draws only what it validates (issue 39, item 11).
@Suite struct ScenarioLimitTests {
    func load(_ parameters: String, rate: String = "10") throws(ConfigurationError) -> Scenario {
        let directory = try! TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let path = directory.appendingPathComponent("s.json").path
        try! Data(
            #"{"steps": [{"backend": "mce", "count": 4, "rate": \#(rate), "parameters": {\#(parameters)}}]}"#.utf8
        )
        .write(to: URL(fileURLWithPath: path))
        return try Scenario.load(path)
    }

    func refusal(_ parameters: String, rate: String = "10") -> String? {
        do {
            _ = try load(parameters, rate: rate)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aRangeAtTheTopOfSixtyFourBitsIsDrawnWithoutTrapping() throws {
        let scenario = try load(#""addr": "random 0xfffffffffffff000..0xffffffffffffffff align 0x1000""#)
        let step = try #require(scenario.steps.first)
        #expect(step.extremeRequests.flatMap(\.words).contains("addr=0xfffffffffffff000"))
        var generator = SeededGenerator(seed: 1)
        #expect(step.parameters[0].value.value(using: &generator) == "0xfffffffffffff000")
        let odd = refusal(#""addr": "random 0xffffffffffffffff..0xffffffffffffffff align 2""#)
        #expect(odd?.contains("holds no multiple of 0x2") == true, "\(odd ?? "accepted")")
    }

    @Test func anAlignedRangeDrawsOnlyMultiplesAndOneWithoutAnyIsRefused() throws {
        #expect(
            refusal(#""bank": "random 5..7 align 0x10""#)?.contains("holds no multiple of 0x10 between 0x5 and 0x7")
                == true)
        let step = try #require(try load(#""addr": "random 0x1001..0x5fff align 0x1000""#).steps.first)
        #expect(step.extremeRequests.map(\.words).contains { $0.contains("addr=0x2000") })
        #expect(step.extremeRequests.map(\.words).contains { $0.contains("addr=0x5000") })
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<200 {
            let drawn = try #require(NumberText.unsigned(step.parameters[0].value.value(using: &generator)))
            #expect(drawn % 0x1000 == 0 && (0x2000...0x5000).contains(drawn), "\(hexNumber(drawn))")
        }
    }

    @Test func aRateTooLowForAnIntervalIsRefused() {
        #expect(refusal(#""bank": "1""#, rate: "1e-300")?.contains("outside 0.001...1000000 per second") == true)
        #expect(refusal(#""bank": "1""#, rate: "0.001") == nil)
    }
}
