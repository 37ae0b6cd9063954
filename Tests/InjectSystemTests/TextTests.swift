import InjectSystem
import Testing

@Suite struct HexTextTests {
    @Test func pairsReadBackWhatDigitsWrite() {
        let bytes: [UInt8] = [0x00, 0x0f, 0xa5, 0xff]
        #expect(hexDigits(bytes) == "000fa5ff")
        #expect(hexPairs(hexDigits(bytes)) == bytes)
        #expect(hexPairs("0FA5") == [0x0f, 0xa5])
    }

    @Test func pairsRefuseOddCountsAndNonHex() {
        #expect(hexPairs("abc") == nil)
        #expect(hexPairs("zz") == nil)
        #expect(hexPairs("") == [])
    }

    @Test func bytesAcceptSeparatorsAndPrefix() {
        #expect(hexBytes("de:ad-be ef") == [0xde, 0xad, 0xbe, 0xef])
        #expect(hexBytes("0xDEAD") == [0xde, 0xad])
        #expect(hexBytes("") == nil)
        #expect(hexBytes("0x") == nil)
        #expect(hexBytes("d:ead") == [0xde, 0xad])
        #expect(hexBytes("dea") == nil)
    }

    @Test func textPadsLikeCPrintf() {
        #expect(hexText(0x1f, digits: 4) == "001f")
        #expect(hexText(0x12345, digits: 2) == "12345")
        #expect(hexText(0) == "0")
        #expect(hexNumber(4096) == "0x1000")
        #expect(hexNumber(UInt8(7), digits: 2) == "0x07")
        #expect(hexDigits([1, 2], separator: " ") == "01 02")
    }
}

@Suite struct NumberTextTests {
    @Test func unsignedTakesDecimalAndHexUpToTheLimit() {
        #expect(NumberText.unsigned("4096") == 4096)
        #expect(NumberText.unsigned("0X1000") == 4096)
        #expect(NumberText.unsigned("0xffffffffffffffff") == UInt64.max)
        #expect(NumberText.unsigned("0x10000000000000000") == nil)
        #expect(NumberText.unsigned("18446744073709551616") == nil)
    }

    @Test func unsignedRefusesSignsSeparatorsAndEmptyText() {
        for text in ["", "0x", "+1", "-1", "1_000", " 1", "1 ", "1e3", "0x1g"] {
            #expect(NumberText.unsigned(text) == nil, "\(text)")
        }
    }

    @Test func signedCoversTheWholeRange() {
        #expect(NumberText.signed("-9223372036854775808") == Int64.min)
        #expect(NumberText.signed("9223372036854775807") == Int64.max)
        #expect(NumberText.signed("9223372036854775808") == nil)
        #expect(NumberText.signed("-9223372036854775809") == nil)
        #expect(NumberText.signed("-0x10") == -16)
    }

    @Test func sizesTakeBinarySuffixes() {
        #expect(NumberText.size("4K") == 4096)
        #expect(NumberText.size("2MiB") == 2 << 20)
        #expect(NumberText.size("1gb") == 1 << 30)
        #expect(NumberText.size("512") == 512)
        #expect(NumberText.size("B") == nil)
        #expect(NumberText.size("16777216T") == nil)
    }

    @Test func trimmingStopsAtTheFirstKeptCharacter() {
        #expect(" \tvalue \n".trimmed() == "value")
        #expect("xxvaluexx".trimmed("x") == "value")
        #expect("   ".trimmed() == "")
    }
}
