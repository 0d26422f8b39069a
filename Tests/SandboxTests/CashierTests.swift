import Foundation
import Testing
@testable import Sandbox

/// `PostCashier` and `GetCashier`: the create finds or makes the customer's cashier, whose figures
/// are Rebilly's (see CashierFiguresTests).
@Suite("POST /cashiers and GET /cashiers/{id}")
struct CashierTests {
    @Test("201 creates a cashier with Location, a cashier_ ULID id, zero figures and no withdrawal")
    func createsCashier() async throws {
        try await Harness.with { h in
            let r = try await h.postCashier(
                customer: "cus_1", extra: #""redirectUrl":"https://example.com/back","depositLimits":{"minimum":10,"maximum":500}"#
            )
            #expect(r.status == 201)
            let body = try r.json
            let id = try #require(body["id"]?.stringValue)
            #expect(isPrefixedULID(id, prefix: "cashier_"))
            #expect(r.header("Location") == "\(h.sandbox.baseURL)/cashiers/\(id)")
            #expect(r.header("Content-Type") == "application/json")
            #expect(body["customerId"] == .string("cus_1"))
            #expect(body["websiteId"] == .string("web_1"))
            #expect(body["currency"] == .string("USD"))
            #expect(body["balance"]?.numberLiteral == "0")
            #expect(body["bonusBalance"]?.numberLiteral == "0")
            #expect(body["pendingPayoutTotal"]?.numberLiteral == "0")
            #expect(body["canWithdraw"] == .bool(false))
            #expect(body["redirectUrl"] == .string("https://example.com/back"))
            #expect(body["notificationUrl"] == .null)
            #expect(body["depositLimits"] == nil, "depositLimits is write-only")
            let created = try #require(body["createdTime"]?.stringValue.flatMap(Timestamps.parse))
            #expect(abs(created.timeIntervalSinceNow) < 5)
            #expect(body["updatedTime"] == body["createdTime"])
            #expect(body["expirationTime"]?.stringValue.flatMap(Timestamps.parse) == created.addingTimeInterval(3600))
            #expect(body["_links"] == .array([.object([("rel", .string("self")), ("href", .string("\(h.sandbox.baseURL)/cashiers/\(id)"))])]))
        }
    }

    @Test("absent URLs are null")
    func absentURLsAreNull() async throws {
        try await Harness.with { h in
            let body = try await h.postCashier(customer: "cus_0").json
            #expect(body["redirectUrl"] == .null && body["notificationUrl"] == .null)
        }
    }

    @Test("200 returns the existing cashier unchanged, Rebilly's figures included")
    func existingCashierIsReturnedUnchanged() async throws {
        try await Harness.with { h in
            let first = try await h.postCashier(customer: "cus_2", currency: "EUR")
            #expect(first.status == 201)
            let id = try #require(try first.json["id"]?.stringValue)
            let moved = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"balance":10.05,"bonusBalance":1,"pendingPayoutTotal":2.5}"#)
            #expect(moved.status == 200)
            let again = try await h.postCashier(customer: "cus_2", currency: "EUR", extra: #""redirectUrl":"https://example.com/other""#)
            #expect(again.status == 200)
            #expect(again.header("Location") == nil)
            #expect(try again.json == moved.json)
            #expect(try again.json["balance"]?.numberLiteral == "10.05")
            #expect(try again.json["redirectUrl"] == .null, "the stored cashier, not the body")
            // Another currency is another cashier.
            let usd = try await h.postCashier(customer: "cus_2", currency: "USD")
            #expect(usd.status == 201)
            #expect(try usd.json["id"] != first.json["id"])
            let stats = try await h.stats()
            #expect(stats["cashiers"]?.intValue == 2)
            #expect(stats["requests"]?["PostCashier"] == .object([("200", .int(1)), ("201", .int(2))]))
        }
    }

    @Test("422 names every invalid field in dot notation")
    func validationNamesFields() async throws {
        try await Harness.with { h in
            let long = String(repeating: "w", count: 51)
            let r = try await h.post("/cashiers", """
            {"websiteId":"\(long)","currency":"usd","balance":-0.01,"bonusBalance":"5","pendingPayoutTotal":null,
             "depositLimits":{"minimum":0,"maximum":5,"extra":1},"redirectUrl":"not a uri",
             "notificationUrl":"https://example.com/n?id={id}&r={result}","id":"cashier_x"}
            """)
            #expect(r.status == 422)
            let body = try r.json
            #expect(body["status"]?.intValue == 422)
            #expect(body["title"] == .string("Validation error"))
            #expect(body["detail"] == .string("Invalid data sent"))
            #expect(body.invalidFieldNames == [
                "id", "customerId", "websiteId", "currency", "redirectUrl", "balance", "bonusBalance",
                "pendingPayoutTotal", "depositLimits.extra", "depositLimits.minimum",
            ])
            let messages = body["invalidFields"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            #expect(messages == [
                "id is not an allowed field", "customerId is required", "websiteId must be at most 50 characters",
                "currency must be a 3-letter ISO 4217 currency code", "redirectUrl must be a valid URI",
                "balance is read-only: Rebilly computes it (since 2026-07-20)",
                "bonusBalance is read-only: Rebilly computes it (since 2026-07-20)",
                "pendingPayoutTotal is read-only: Rebilly computes it (since 2026-07-20)",
                "depositLimits.extra is not an allowed field",
                "depositLimits.minimum must be greater than or equal to 0.01",
            ])
            #expect(try await h.stats()["cashiers"]?.intValue == 0)
        }
    }

    @Test("URI rules: placeholders allowed, 2083 characters at most, absolute with a host")
    func uriRules() async throws {
        try await Harness.with { h in
            let base = "https://example.com/"
            let exact = base + String(repeating: "a", count: 2083 - base.count)
            let tooLong = exact + "a"
            #expect(try await h.postCashier(customer: "u1", extra: #""notificationUrl":"\#(exact)""#).status == 201)
            let r = try await h.postCashier(customer: "u2", extra: #""notificationUrl":"\#(tooLong)""#)
            #expect(r.status == 422)
            #expect(try r.json.invalidFieldNames == ["notificationUrl"])
            #expect(try await h.postCashier(customer: "u3", extra: #""redirectUrl":"https:///nohost""#).status == 422)
            #expect(try await h.postCashier(customer: "u4", extra: #""redirectUrl":"https://shop.example/r/{id}/{result}""#).status == 201)
            #expect(try await h.postCashier(customer: "u5", extra: #""redirectUrl":null,"notificationUrl":null"#).status == 201)
        }
    }

    @Test("types, lengths and the depositLimits order")
    func typeAndLengthRules() async throws {
        try await Harness.with { h in
            let id50 = String(repeating: "c", count: 50)
            #expect(try await h.postCashier(customer: id50).status == 201)
            let wrongTypes = try await h.post("/cashiers", #"{"customerId":12,"websiteId":"","currency":"US","balance":true,"depositLimits":[]}"#)
            #expect(wrongTypes.status == 422)
            #expect(try wrongTypes.json.invalidFieldNames == ["customerId", "websiteId", "currency", "balance", "depositLimits"])
            let limits = try await h.postCashier(customer: "l1", extra: #""depositLimits":{"minimum":100,"maximum":99.99}"#)
            #expect(try limits.json.invalidFieldNames == ["depositLimits.maximum"])
            #expect(try await h.postCashier(customer: "l2", extra: #""depositLimits":{"minimum":0.01,"maximum":0.01}"#).status == 201)
        }
    }

    @Test("400 for malformed JSON or a non-object body")
    func malformedBody() async throws {
        try await Harness.with { h in
            let broken = try await h.post("/cashiers", #"{"customerId": "a",}"#)
            #expect(broken.status == 400)
            #expect(try broken.json["title"] == .string("Bad Request"))
            let array = try await h.post("/cashiers", "[]")
            #expect(array.status == 422)
            #expect(try array.json.invalidFieldNames == ["body"])
        }
    }

    @Test("413 for a body over maxBodySize")
    func oversizedBody() async throws {
        try await Harness.with({ $0.maxBodySize = 64 }) { h in
            let r = try await h.postCashier(customer: String(repeating: "x", count: 40), extra: #""redirectUrl":"https://example.com/""#)
            #expect(r.status == 413)
            #expect(try r.json["status"]?.intValue == 413)
            #expect(try await h.stats()["cashiers"]?.intValue == 0)
        }
    }

    @Test("GET /cashiers/{id}: 200 with the stored cashier, 404 otherwise")
    func getCashier() async throws {
        try await Harness.with { h in
            let created = try await h.postCashier(customer: "cus_g").json
            let id = try #require(created["id"]?.stringValue)
            let r = try await h.get("/cashiers/\(id)")
            #expect(r.status == 200)
            #expect(try r.json == created)
            let moved = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"balance":0.30,"canWithdraw":true}"#).json
            let read = try await h.get("/cashiers/\(id)").json
            #expect(read == moved && read["balance"]?.numberLiteral == "0.30" && read["canWithdraw"] == .bool(true))
            let missing = try await h.get("/cashiers/cashier_01ARZ3NDEKTSV4RRFFQ69G5FAV")
            #expect(missing.status == 404)
            #expect(try missing.json == .object([("status", .int(404)), ("title", .string("Not Found")), ("detail", .string("Cashier not found"))]))
            #expect(try await h.get("/cashiers/bad%20id").status == 404)
        }
    }
}
