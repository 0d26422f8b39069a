import Testing
@testable import Throttle

@Suite("RateSpec")
struct RateSpecTests {
    @Test("parses the documented forms", arguments: [
        ("3000/10m", 3000, Duration.seconds(600), "3000/10m"),
        ("20/s", 20, .seconds(1), "20/s"),
        ("50/1s", 50, .seconds(1), "50/s"),
        ("100/m", 100, .seconds(60), "100/m"),
        ("5/h", 5, .seconds(3600), "5/h"),
        ("10/500ms", 10, .milliseconds(500), "10/500ms"),
        ("7/2h", 7, .seconds(7200), "7/2h"),
        ("1/d", 1, .seconds(86_400), "1/d"),
        ("60/60s", 60, .seconds(60), "60/m"),
    ])
    func parses(text: String, limit: Int, period: Duration, canonical: String) throws {
        let spec = try RateSpec(parsing: text)
        #expect(spec.limit == limit)
        #expect(spec.period == period)
        #expect(spec.description == canonical)
        #expect(try RateSpec(parsing: spec.description) == spec)
    }

    @Test("refuses malformed rates with a message", arguments: [
        "", "5", "/s", "0/s", "-1/s", "1.5/s", "20/", "20/x", "20/0s", "20/s/s", "20/1.5s", "abc/s", "20/ms5",
    ])
    func refuses(text: String) {
        #expect(throws: RateSpecError.self) { try RateSpec(parsing: text) }
    }

    @Test("the error names the bad part")
    func message() throws {
        #expect(throws: RateSpecError("rate \"20/x\": \"x\" is not a period; give a number and a unit of ms, s (sec), m (min), h or d, such as 1s or 10m")) {
            try RateSpec(parsing: "20/x")
        }
        #expect(throws: RateSpecError("rate \"5/0s\": the period \"0s\" is zero; give a positive period such as 1s, 500ms, 10m or 1h")) {
            try RateSpec(parsing: "5/0s")
        }
        #expect(try RateSpec(parsing: "5/sec") == (try RateSpec(parsing: "5/s")), "sec is a spelling of s, as min is of m")
    }

    @Test("per-second average")
    func perSecond() throws {
        #expect(try RateSpec(parsing: "3000/10m").perSecond == 5)
        #expect(try RateSpec(parsing: "20/s").perSecond == 20)
    }

    @Test("divided among shards rounds down so the shards never exceed the whole")
    func divided() throws {
        let spec = try RateSpec(parsing: "3000/10m")
        #expect(try spec.divided(by: 1) == spec)
        #expect(try spec.divided(by: 4).description == "750/10m")
        #expect(try spec.divided(by: 7).limit == 428)
        #expect(try spec.divided(by: 7).limit * 7 <= 3000)
        #expect(throws: RateSpecError.self) { try RateSpec(parsing: "5/h").divided(by: 10) }
        #expect(throws: RateSpecError.self) { try spec.divided(by: 0) }
    }
}
