import Testing
@testable import CashierModel

@Suite struct TextRulesTests {
    @Test func acceptsAbsoluteHTTPURLsWithPlaceholders() {
        for url in ["https://example.com", "http://127.0.0.1:8080/x", "https://a.example.com/cb?tx={id}&r={result}",
                    "https://example.com/p%20q#frag", "https://user@example.com/a;b=c", "HTTPS://EXAMPLE.COM/", "http://[::1]:80/"] {
            #expect(TextRules.urlProblem(url) == nil, "\(url)")
        }
    }

    @Test func refusesOtherURLsWithAReason() {
        #expect(TextRules.urlProblem("/relative/path") == "must be an absolute URL starting with https:// or http://")
        #expect(TextRules.urlProblem("ftp://example.com/file") == "scheme ftp: is not allowed (only http and https)")
        #expect(TextRules.urlProblem("https://exa mple.com") == "has an invalid host")
        #expect(TextRules.urlProblem("https://example.com/a b") == "has a space; percent-encode it as %20")
        #expect(TextRules.urlProblem("https://example.com/{name}") == "has a { that is not one of the placeholders {id} or {result}")
        #expect(TextRules.urlProblem("https://example.com/%zz") == "has an invalid percent-escape at character 21")
        #expect(TextRules.urlProblem("https:///path") == "has no host")
        #expect(TextRules.urlProblem("https://example.com:99999999/") == "has an invalid port")
        let long = "https://example.com/" + String(repeating: "a", count: 2064)
        #expect(long.count == 2084)
        #expect(TextRules.urlProblem(long) == "must be at most 2083 characters (got 2084)")
        #expect(TextRules.urlProblem(String(long.dropLast())) == nil)
    }

    @Test func checksRFC3339() {
        for ok in ["2026-11-22T06:00:00Z", "2026-11-22t06:00:00z", "2024-02-29T23:59:60+05:30", "2026-01-01T00:00:00.123456-08:00"] {
            #expect(TextRules.dateTimeProblem(ok) == nil, "\(ok)")
        }
        #expect(TextRules.dateTimeProblem("2026-13-01T00:00:00Z") == "has month 13, not 1–12")
        #expect(TextRules.dateTimeProblem("2026-02-29T00:00:00Z") == "has day 29, not 1–28 for that month")
        #expect(TextRules.dateTimeProblem("2026-11-22 06:00:00Z") == "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z")
        #expect(TextRules.dateTimeProblem("2026-11-22T06:00:00") == "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z")
        #expect(TextRules.dateTimeProblem("2026-13-01") == "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z")
        #expect(TextRules.dateTimeProblem("2026-11-22T24:00:00Z") == "has an invalid time of day")
    }
}

@Suite struct PrintableTests {
    @Test func controlCharactersAreEscapedAndLongValuesCut() {
        #expect(Printable.text("a\u{1B}[31mred\u{07}\u{0}b") == #"a\u{1B}[31mred\u{7}\u{0}b"#)
        #expect(Printable.text("tab\tnew\nline\r") == #"tab\tnew\nline\r"#)
        #expect(Printable.text("\u{202E}evil\u{9B}") == #"\u{202E}evil\u{9B}"#)
        #expect(Printable.text("€ ünïcode ok") == "€ ünïcode ok")
        let long = String(repeating: "x", count: 5_000)
        #expect(Printable.text(long) == String(repeating: "x", count: 200) + "…")
        #expect(Printable.text(String(repeating: "y", count: 200)) == String(repeating: "y", count: 200))
        let once = Printable.text("a\u{1B}b")
        #expect(Printable.text(once) == once, "idempotent")
        #expect(Printable.quoted("\u{1B}") == #""\u{1B}""#)
    }
}
