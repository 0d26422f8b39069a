import Foundation
import Testing
@testable import Sandbox

/// Clocks that disagree: the server's (`clockOffsetSeconds`) stamps createdTime and updatedTime
/// and dates the `Date` header; a proxy's (`dateHeaderOffsetSeconds`) moves the header only.
@Suite("Clocks: the server's and a proxy's")
struct ClockTests {
    /// The `Date` header as a date (IMF-fixdate).
    static func dateHeader(_ exchange: Exchange) throws -> Date {
        let text = try #require(exchange.header("Date"))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return try #require(formatter.date(from: text), "Date: \(text)")
    }

    /// Whether `date` is `offset` seconds from now, within a few seconds.
    static func isNow(_ date: Date?, plus offset: Double) -> Bool {
        guard let date else { return false }
        return abs(date.timeIntervalSinceNow - offset) < 5
    }

    static func created(_ exchange: Exchange) throws -> Date? {
        try exchange.json["createdTime"]?.stringValue.flatMap(Timestamps.parse)
    }

    @Test("IMF-fixdate: English names, two-digit day, GMT, leap days, the epoch")
    func httpDateFormat() {
        #expect(SandboxClock.httpDate(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(SandboxClock.httpDate(Date(timeIntervalSince1970: 1_709_208_000.75)) == "Thu, 29 Feb 2024 12:00:00 GMT")
        #expect(SandboxClock.httpDate(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(SandboxClock.httpDate(Date(timeIntervalSince1970: 1_790_000_000)) == "Mon, 21 Sep 2026 14:13:20 GMT")
        #expect(SandboxClock.httpDate(Date(timeIntervalSince1970: 4_102_444_799)) == "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    @Test("by default the Date header, createdTime and the machine agree")
    func clocksAgreeByDefault() async throws {
        try await Harness.with { h in
            let r = try await h.postDeposit(customer: "cus_c")
            #expect(Self.isNow(try Self.dateHeader(r), plus: 0))
            #expect(Self.isNow(try Self.created(r), plus: 0))
            let health = try await h.get("/_sandbox/health", apiKey: nil)
            #expect(Self.isNow(try Self.dateHeader(health), plus: 0))
        }
    }

    @Test("a server clock two hours behind stamps createdTime, updatedTime and the Date header two hours back")
    func serverClockBehind() async throws {
        try await Harness.with({ $0.clockOffsetSeconds = -7200 }) { h in
            let deposit = try await h.postDeposit(customer: "cus_c")
            #expect(Self.isNow(try Self.dateHeader(deposit), plus: -7200))
            #expect(Self.isNow(try Self.created(deposit), plus: -7200))
            #expect(try deposit.json["updatedTime"] == deposit.json["createdTime"])
            let expires = try deposit.json["expirationTime"]?.stringValue.flatMap(Timestamps.parse)
            #expect(Self.isNow(expires, plus: -7200 + 3600), "the default expiry is an hour after the server's now")
            let cashier = try await h.postCashier(customer: "cus_c")
            #expect(Self.isNow(try Self.created(cashier), plus: -7200))
            let id = try #require(try cashier.json["id"]?.stringValue)
            let moved = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"balance":1}"#)
            #expect(Self.isNow(try moved.json["updatedTime"]?.stringValue.flatMap(Timestamps.parse), plus: -7200))
            let other = try await h.post("/_sandbox/deposit-requests", #"{"customerId":"cus_o","websiteId":"web_1","currency":"USD"}"#)
            #expect(Self.isNow(try Self.created(other), plus: -7200), "another client's request too")
            // A filter by the server's times finds it; by the machine's last hour, not.
            let serverHour = Timestamps.format(Date().addingTimeInterval(-7200 - 600))
            let machineHour = Timestamps.format(Date().addingTimeInterval(-600))
            let byServer = try await h.get("/deposit-requests?filter=customerId:cus_c;createdTime:\(serverHour)..")
            #expect(try byServer.json.arrayValue?.count == 1)
            let byMachine = try await h.get("/deposit-requests?filter=customerId:cus_c;createdTime:\(machineHour)..")
            #expect(try byMachine.json.arrayValue?.count == 0)
            #expect(Self.isNow(try Self.dateHeader(byMachine), plus: -7200), "GETs too")
        }
    }

    @Test("a server clock ahead shifts the rate limit's retry time with it")
    func serverClockAheadAndTheQuota() async throws {
        try await Harness.with({ $0.clockOffsetSeconds = 3600; $0.rate = SandboxRate(limit: 1, period: .seconds(60)) }) { h in
            #expect(try await h.postDeposit(customer: "cus_r").status == 201)
            let limited = try await h.postDeposit(customer: "cus_r")
            #expect(limited.status == 429)
            let retry = try #require(limited.header("X-RateLimit-Retry-After").flatMap { Double($0) })
            #expect(Self.isNow(Date(timeIntervalSince1970: retry), plus: 3600 + 60))
            #expect(Self.isNow(try Self.dateHeader(limited), plus: 3600))
        }
    }

    @Test("a proxy's Date header 90 seconds ahead moves the header only; both offsets add up")
    func proxyDateHeader() async throws {
        try await Harness.with({ $0.dateHeaderOffsetSeconds = 90 }) { h in
            let r = try await h.postDeposit(customer: "cus_p")
            #expect(Self.isNow(try Self.dateHeader(r), plus: 90))
            #expect(Self.isNow(try Self.created(r), plus: 0))
            let missing = try await h.get("/cashiers/cashier_none")
            let missingDate = try Self.dateHeader(missing)
            #expect(missing.status == 404 && Self.isNow(missingDate, plus: 90), "every answer")
        }
        try await Harness.with({ $0.clockOffsetSeconds = -30; $0.dateHeaderOffsetSeconds = -45 }) { h in
            let r = try await h.postCashier(customer: "cus_p")
            #expect(Self.isNow(try Self.dateHeader(r), plus: -75))
            #expect(Self.isNow(try Self.created(r), plus: -30))
        }
    }

    @Test("offsets must be finite and within a year")
    func offsetProblems() {
        var config = SandboxConfiguration()
        config.clockOffsetSeconds = -86_400
        config.dateHeaderOffsetSeconds = 0.5
        #expect(config.problems().isEmpty)
        config.clockOffsetSeconds = .infinity
        config.dateHeaderOffsetSeconds = -400 * 86_400
        #expect(config.problems().count == 2)
    }
}
