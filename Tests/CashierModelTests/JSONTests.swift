import Testing
@testable import CashierModel

@Suite struct JSONTests {
    @Test func keepsNumbersAsText() throws {
        let value = try JSONParser.parse(#"{"a": 10.10, "b": [0.1, -0, 1e3, 123456789012345678901234567890], "c": "x\"y\u00e9\ud83d\ude00\n"}"#)
        #expect(value["a"] == .number("10.10"))
        #expect(value["b"] == .array([.number("0.1"), .number("-0"), .number("1e3"), .number("123456789012345678901234567890")]))
        #expect(value["c"] == .string("x\"yé😀\n"))
    }

    @Test func refusesInvalidJSONWithAnOffset() {
        #expect(throws: JSONSyntaxError(offset: 7, reason: "expected ',' or '}' in an object")) { try JSONParser.parse(#"{"a":1 "b":2}"#) }
        #expect(throws: JSONSyntaxError(offset: 6, reason: "leading zeros are not allowed in a number")) { try JSONParser.parse(#"{"a":01}"#) }
        #expect(throws: JSONSyntaxError(offset: 0, reason: "unexpected end of input")) { try JSONParser.parse("") }
        #expect(throws: JSONSyntaxError(offset: 8, reason: "unexpected text after the JSON value")) { try JSONParser.parse(#"{"a":1} x"#) }
        #expect(throws: JSONSyntaxError(offset: 2, reason: "string is not valid UTF-8")) { try JSONParser.parse([0x5B, 0x22, 0xFF, 0x22, 0x5D]) }
        #expect(throws: JSONSyntaxError(offset: 8, reason: "unpaired UTF-16 surrogate in \\u escape")) { try JSONParser.parse(#"["\ud83d"]"#) }
    }

    @Test func writerEscapesAndKeepsDigits() {
        var w = JSONWriter()
        w.beginObject()
        w.string("s", "a\"b\\c\n\u{01}é")
        w.amountNumber("n", Amount(minorUnits: 1050, exponent: 2))
        w.amountString("t", Amount(minorUnits: 5, exponent: 3))
        w.beginArray("l"); w.int(nil, 1); w.null(); w.endArray()
        w.endObject()
        #expect(w.text == #"{"s":"a\"b\\c\n\u0001é","n":10.50,"t":"0.005","l":[1,null]}"#)
    }
}
