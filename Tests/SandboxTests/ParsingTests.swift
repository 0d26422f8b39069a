import Foundation
import Testing
@testable import Sandbox

@Suite("Parsers and formats")
struct ParsingTests {
    @Test("rates: N/s, N/m, N/10m, N/h")
    func rates() {
        #expect(SandboxRate(parsing: "3000/10m") == SandboxRate(limit: 3000, period: .seconds(600)))
        #expect(SandboxRate(parsing: "50/s") == SandboxRate(limit: 50, period: .seconds(1)))
        #expect(SandboxRate(parsing: "100/m") == SandboxRate(limit: 100, period: .seconds(60)))
        #expect(SandboxRate(parsing: "20/1s") == SandboxRate(limit: 20, period: .seconds(1)))
        #expect(SandboxRate(parsing: "5/h") == SandboxRate(limit: 5, period: .seconds(3600)))
        for bad in ["", "10", "0/s", "-1/s", "10/", "10/0s", "10/x", "x/s", "10/s/s"] {
            #expect(SandboxRate(parsing: bad) == nil, "\(bad)")
        }
        #expect(SandboxRate(parsing: "3000/10m")?.description == "3000/600s")
    }

    @Test("latency ranges")
    func latencyRanges() {
        #expect(SandboxDurations.parseRange("5ms..50ms") == .milliseconds(5) ... .milliseconds(50))
        #expect(SandboxDurations.parseRange("20ms") == .milliseconds(20) ... .milliseconds(20))
        #expect(SandboxDurations.parseRange("1s..1.5s") == .seconds(1) ... .milliseconds(1500))
        #expect(SandboxDurations.parseRange("50ms..5ms") == nil)
        #expect(SandboxDurations.parseRange("5..50") == nil)
    }

    @Test("JSON numbers keep their literal text")
    func exactNumbers() throws {
        let value = try JSONParser.parse(#"{"a":0.1,"b":1500.10,"c":-0,"d":1e2,"e":12345678901234567890.123456789}"#)
        #expect(value["a"] == .number("0.1"))
        #expect(value["b"] == .number("1500.10"))
        #expect(value["c"] == .number("-0"))
        #expect(value["d"] == .number("1e2"))
        #expect(ExactNumber(literal: "12345678901234567890.123456789")?.value == Decimal(string: "12345678901234567890.123456789"))
        #expect(JSONWriter.write(value) == #"{"a":0.1,"b":1500.10,"c":-0,"d":1e2,"e":12345678901234567890.123456789}"#)
    }

    @Test("strict JSON grammar and string escapes")
    func grammar() throws {
        for bad in ["", "{", "01", "1.", ".5", "+1", "[1,]", #"{"a" 1}"#, "tru", #""\x""#, "[1] 2", #""\ud800""#] {
            #expect(throws: JSONParser.SyntaxError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let s = try JSONParser.parse(#""a\"b\\c\n\u00e9\ud83d\ude00""#)
        #expect(s == .string("a\"b\\c\né😀"))
        #expect(JSONWriter.write(.string("q\"\u{01}\n")) == #""q\"\u0001\n""#)
    }

    @Test("URI format")
    func uris() {
        #expect(FieldFormats.isURI("https://example.com/a?b=c#d"))
        #expect(FieldFormats.isURI("https://example.com/n/{id}?r={result}"))
        #expect(FieldFormats.isURI("https://user@host:8443/p%20q"))
        #expect(FieldFormats.isURI("mailto:ops@example.com"))
        #expect(!FieldFormats.isURI("example.com/path"))
        #expect(!FieldFormats.isURI("https://exa mple.com"))
        #expect(!FieldFormats.isURI("https://example.com/%zz"))
        #expect(!FieldFormats.isURI("https:example.com"))
        #expect(!FieldFormats.isURI("https://"))
        #expect(!FieldFormats.isURI("https://ex.com/{other}"))
    }

    @Test("ULIDs: 26 Crockford characters, increasing")
    func ulids() {
        var generator = ULIDGenerator()
        let now = Date()
        let ids = (0..<1000).map { _ in generator.next(now: now) }
        #expect(ids.allSatisfy { isPrefixedULID("x" + $0, prefix: "x") })
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ULIDGenerator.encode(millis: 0, hi: 0, lo: 0) == String(repeating: "0", count: 26))
        #expect(ULIDGenerator.encode(millis: 0xFFFF_FFFF_FFFF, hi: 0xFFFF, lo: .max) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
    }

    @Test("configuration problems")
    func configurationProblems() {
        var config = SandboxConfiguration()
        #expect(config.problems().isEmpty)
        config.failRate = 0.7
        config.dropRate = 0.5
        #expect(config.problems() == ["failRate + dropRate must not exceed 1"])
        config.port = 70000
        #expect(config.problems().count == 2)
    }
}
