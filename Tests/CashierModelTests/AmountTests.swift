import Testing
@testable import CashierModel

@Suite struct AmountTests {
    func parse(_ text: String, _ exponent: Int) -> Result<Amount, AmountError> { Amount.parse(text[...], exponent: exponent) }

    @Test func parsesIntoExactMinorUnits() throws {
        #expect(try parse("10.50", 2).get() == Amount(minorUnits: 1050, exponent: 2))
        #expect(try parse("10", 2).get().minorUnits == 1000)
        #expect(try parse("0.05", 2).get().minorUnits == 5)
        #expect(try parse("15000", 0).get().minorUnits == 15000)
        #expect(try parse("12.345", 3).get().minorUnits == 12345)
        #expect(try parse("1.2345", 4).get().minorUnits == 12345)
        #expect(try parse("0.1", 2).get().minorUnits == 10)
        #expect(try parse(" 7.25 ", 2).get().minorUnits == 725)
        #expect(try parse("-3.10", 2).get().minorUnits == -310)
        // Trailing zeros beyond the exponent are exact, not rounding.
        #expect(try parse("10.500", 2).get().minorUnits == 1050)
        #expect(try parse("100.00", 0).get().minorUnits == 100)
        #expect(try parse("999999999999.999", 3).get().minorUnits == 999_999_999_999_999)
    }

    @Test func refusesWhatWouldNeedRoundingOrGuessing() {
        #expect(parse("10.001", 2) == .failure(.tooManyDecimals(found: 3, allowed: 2)))
        #expect(parse("0.5", 0) == .failure(.tooManyDecimals(found: 1, allowed: 0)))
        #expect(parse("1e3", 2) == .failure(.exponentNotation))
        #expect(parse("1E-2", 2) == .failure(.exponentNotation))
        #expect(parse("1,000.00", 2) == .failure(.separator))
        #expect(parse("10,5", 2) == .failure(.separator))
        #expect(parse("abc", 2) == .failure(.notANumber))
        #expect(parse("", 2) == .failure(.empty))
        #expect(parse("   ", 2) == .failure(.empty))
        #expect(parse(".5", 2) == .failure(.missingIntegerPart))
        #expect(parse("5.", 2) == .failure(.missingFractionPart))
        #expect(parse("+5", 2) == .failure(.explicitPlusSign))
        #expect(parse("1.2.3", 2) == .failure(.notANumber))
        #expect(parse("NaN", 2) == .failure(.notANumber))
        #expect(parse("1000000000000000", 2) == .failure(.tooLarge))
        #expect(parse("99999999999999999999999", 2) == .failure(.tooLarge))
    }

    @Test func messagesNameTheRule() {
        #expect(AmountError.tooManyDecimals(found: 3, allowed: 2).message(currency: "USD")
                == "has 3 decimals but USD allows 2 (amounts are never rounded)")
        #expect(AmountError.exponentNotation.message(currency: nil) == "exponent notation is not allowed (write 1000, not 1e3)")
    }

    @Test func formatsExactDigits() {
        #expect(Amount(minorUnits: 1050, exponent: 2).description == "10.50")
        #expect(Amount(minorUnits: 5, exponent: 3).description == "0.005")
        #expect(Amount(minorUnits: 0, exponent: 2).description == "0.00")
        #expect(Amount(minorUnits: 15000, exponent: 0).description == "15000")
        #expect(Amount(minorUnits: -310, exponent: 2).description == "-3.10")
        #expect(Amount.format(Int128(Int64.max) * 4, exponent: 2) == "368934881474191032.28")
    }

    @Test func oneHundredthThresholdFollowsTheExponent() {
        #expect(Amount(minorUnits: 1, exponent: 2).isAtLeastOneHundredth)
        #expect(!Amount(minorUnits: 0, exponent: 2).isAtLeastOneHundredth)
        #expect(Amount(minorUnits: 1, exponent: 0).isAtLeastOneHundredth)
        #expect(!Amount(minorUnits: 9, exponent: 3).isAtLeastOneHundredth)
        #expect(Amount(minorUnits: 10, exponent: 3).isAtLeastOneHundredth)
        #expect(!Amount(minorUnits: 99, exponent: 4).isAtLeastOneHundredth)
    }

    @Test func currencyTableHasTheExponents() {
        #expect(Currency(code: "JPY")?.exponent == 0)
        #expect(Currency(code: "KRW")?.exponent == 0)
        #expect(Currency(code: "USD")?.exponent == 2)
        #expect(Currency(code: "EUR")?.exponent == 2)
        #expect(Currency(code: "BHD")?.exponent == 3)
        #expect(Currency(code: "KWD")?.exponent == 3)
        #expect(Currency(code: "TND")?.exponent == 3)
        #expect(Currency(code: "CLF")?.exponent == 4)
        #expect(Currency(code: "UYW")?.exponent == 4)
        // Fails closed: unknown, lower-case, metals, testing code, withdrawn.
        for code in ["XYZ", "usd", "XAU", "XTS", "XXX", "HRK", "ZWL", "US", "USDT", ""] {
            #expect(Currency(code: code) == nil, "\(code) must not be accepted")
        }
        #expect(Currency.allCodes.count > 150)
    }
}
