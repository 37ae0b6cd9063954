import Testing

@testable import InjectHost

@Suite("Typed parameter parsing")
struct ValueParserTests {
    func spec(_ type: ParameterSpec.ValueType, bounds: (UInt64, UInt64)? = nil, choices: [String] = []) -> ParameterSpec
    {
        ParameterSpec(
            name: "p", type: type, help: "", choices: choices, bounds: bounds.map { .init(min: $0.0, max: $0.1) })
    }

    func parse(_ text: String, _ spec: ParameterSpec) throws(ConfigurationError) -> ParameterValue {
        try ValueParser.parse(text, for: spec, backend: "b", source: .commandLine)
    }

    @Test func unsignedDecimalAndHexUpToU64Max() throws {
        #expect(try parse("42", spec(.u64)).number == 42)
        #expect(try parse("0x9c00000000000000", spec(.u64)).number == 0x9C00_0000_0000_0000)
        #expect(try parse("0xFFFFFFFFFFFFFFFF", spec(.u64)).number == UInt64.max)
        #expect(try parse("18446744073709551615", spec(.u64)).number == UInt64.max)
        // One syntax: no separators, signs or empty digits, which other tools read differently.
        for bad in ["0x1_0000", "1_000", "_1", "0x_1", "0x+1", "+1", "0x", "", " 0x1 2"] {
            #expect(throws: ConfigurationError.self, "'\(bad)'") { try parse(bad, spec(.u64)) }
        }
    }

    @Test func overflowAndGarbageAreRefusedWithTheSyntax() {
        for text in ["18446744073709551616", "0x10000000000000000", "12abc", "-1", ""] {
            #expect(throws: ConfigurationError.self) { try parse(text, spec(.u64)) }
        }
        do {
            _ = try parse("0xZZ", spec(.u64))
            Issue.record("0xZZ parsed")
        } catch {
            #expect(error.description.contains("0xZZ"))
            #expect(error.description.contains("decimal or 0x hex"))
        }
    }

    @Test func rangeErrorsNameValueAndRange() {
        do {
            _ = try parse("64", spec(.u64, bounds: (0, 63)))
            Issue.record("64 accepted for 0...63")
        } catch {
            #expect(error.description.contains("p=64"))
            #expect(error.description.contains("0...63"))
            #expect(error.description.contains("inject info b"))
        }
        #expect(throws: Never.self) { try parse("63", spec(.u64, bounds: (0, 63))) }
    }

    @Test func signedIntegersAndTheirBounds() throws {
        let bounded = ParameterSpec(
            name: "p", type: .int, help: "",
            bounds: .init(min: UInt64(bitPattern: -5), max: 5))
        #expect(Int64(bitPattern: try parse("-5", bounded).number) == -5)
        #expect(throws: ConfigurationError.self) { try parse("-6", bounded) }
        #expect(Int64(bitPattern: try parse("-9223372036854775808", spec(.int)).number) == Int64.min)
        #expect(throws: ConfigurationError.self) { try parse("9223372036854775808", spec(.int)) }
    }

    @Test func sizesUsePowersOf1024() throws {
        #expect(try parse("4K", spec(.size)).number == 4096)
        #expect(try parse("2MiB", spec(.size)).number == 2 << 20)
        #expect(try parse("1g", spec(.size)).number == 1 << 30)
        #expect(try parse("0x1000", spec(.size)).number == 4096)
        #expect(throws: ConfigurationError.self) { try parse("20000000T", spec(.size)) }
        #expect(throws: ConfigurationError.self) { try parse("4X", spec(.size)) }
    }

    @Test func booleansChoicesAndAddresses() throws {
        #expect(try parse("yes", spec(.bool)).number == 1)
        #expect(try parse("Off", spec(.bool)).number == 0)
        #expect(throws: ConfigurationError.self) { try parse("maybe", spec(.bool)) }
        let choice = spec(.choice, choices: ["corrected", "fatal"])
        #expect(try parse("FATAL", choice) == ParameterValue(number: 1, text: "fatal"))
        do {
            _ = try parse("mild", choice)
            Issue.record("mild accepted")
        } catch {
            #expect(error.description.contains("corrected, fatal"))
        }
        #expect(try parse("4660", spec(.address)).text == "0x1234")
    }

    @Test func cpuListsAreNormalised() throws {
        #expect(try parse("3,0-2,8", spec(.cpuList)).text == "0-3,8")
        #expect(CPUList("0-3,8")?.members == [0, 1, 2, 3, 8])
        for bad in ["3-1", "a", "1,,2", "-"] {
            #expect(CPUList(bad) == nil, "\(bad)")
        }
        #expect(throws: ConfigurationError.self) { try parse("0-9", spec(.cpuList, bounds: (0, 7))) }
    }

    @Test func hexBytes() throws {
        #expect(try parse("de:ad:BE:ef", spec(.bytes)).bytes == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try parse("0x0102", spec(.bytes)).text == "0102")
        #expect(throws: ConfigurationError.self) { try parse("abc", spec(.bytes)) }
    }
}
