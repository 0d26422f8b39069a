import Foundation
import Testing
@testable import Sandbox

/// The cashier contract since 2026-07-20 (Rebilly/api-definitions `ea135aed6`, `a6164f53f`):
/// balance, bonusBalance and pendingPayoutTotal are Rebilly's, `canWithdraw` is reported, and
/// the figures move only with Rebilly's own activity (the sandbox's figures endpoint).
@Suite("2026-07: read-only cashier figures and canWithdraw")
struct CashierVersionTests {
    @Test("a create that carries the figures answers 422 naming each, and makes nothing")
    func readOnlyFiguresAreRejected() async throws {
        try await Harness.with { h in
            let r = try await h.postCashier(customer: "cus_1", extra: #""balance":10,"bonusBalance":1,"pendingPayoutTotal":0"#)
            #expect(r.status == 422)
            let body = try r.json
            #expect(body.invalidFieldNames == ["balance", "bonusBalance", "pendingPayoutTotal"])
            let messages = body["invalidFields"]?.arrayValue?.compactMap { $0["message"]?.stringValue }
            #expect(messages?.first == "balance is read-only: Rebilly computes it (since 2026-07-20)")
            #expect(try await h.stats()["cashiers"]?.intValue == 0)
        }
    }

    @Test("--readonly-fields ignore drops them: the cashier starts at zero and cannot withdraw")
    func readOnlyFiguresCanBeIgnored() async throws {
        try await Harness.with({ $0.readonlyFields = .ignore }) { h in
            let r = try await h.postCashier(customer: "cus_1", extra: #""balance":10,"pendingPayoutTotal":2"#)
            #expect(r.status == 201)
            let body = try r.json
            #expect(body["balance"]?.numberLiteral == "0" && body["bonusBalance"]?.numberLiteral == "0"
                && body["pendingPayoutTotal"]?.numberLiteral == "0")
            #expect(body["canWithdraw"] == .bool(false))
        }
    }

    @Test("canWithdraw is in the 2026-07 cashier, right after the figures, and not in 2025-08's")
    func canWithdrawByVersion() async throws {
        try await Harness.with { h in
            let body = try await h.postCashier(customer: "cus_1").json
            #expect(body.keys == ["id", "customerId", "websiteId", "currency", "balance", "bonusBalance", "pendingPayoutTotal",
                                  "canWithdraw", "redirectUrl", "notificationUrl", "expirationTime", "createdTime", "updatedTime", "_links"])
        }
        try await Harness.with({ $0.apiVersion = .v2025_08 }) { h in
            let body = try await h.postCashier(customer: "cus_1", extra: #""balance":3"#).json
            #expect(body["canWithdraw"] == nil)
            #expect(body["balance"]?.numberLiteral == "3")
        }
    }

    @Test("the figures endpoint moves a cashier's figures as Rebilly's day would, exactly")
    func figuresEndpoint() async throws {
        try await Harness.with { h in
            let created = try await h.postCashier(customer: "cus_f", currency: "EUR").json
            let id = try #require(created["id"]?.stringValue)
            try await Task.sleep(for: .milliseconds(1_100))  // updatedTime has whole seconds
            let set = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"balance":1500.10,"pendingPayoutTotal":25.5,"canWithdraw":true}"#)
            #expect(set.status == 200)
            let read = try await h.get("/cashiers/\(id)").json
            #expect(read == (try set.json))
            #expect(read["balance"]?.numberLiteral == "1500.10" && read["bonusBalance"]?.numberLiteral == "0"
                && read["pendingPayoutTotal"]?.numberLiteral == "25.5" && read["canWithdraw"] == .bool(true))
            #expect(read["createdTime"] == created["createdTime"] && read["updatedTime"] != created["updatedTime"])
            // Only what is given changes.
            _ = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"bonusBalance":0.01}"#)
            let again = try await h.get("/cashiers/\(id)").json
            #expect(again["balance"]?.numberLiteral == "1500.10" && again["bonusBalance"]?.numberLiteral == "0.01")

            let bad = try await h.post("/_sandbox/cashiers/\(id)/figures", #"{"balance":-1,"canWithdraw":"yes","id":"x"}"#)
            #expect(bad.status == 422)
            #expect(try bad.json.invalidFieldNames == ["id", "balance", "canWithdraw"])
            #expect(try await h.post("/_sandbox/cashiers/cashier_none/figures", "{}").status == 404)
            #expect(try await h.post("/_sandbox/cashiers/\(id)/figures", "{}", apiKey: nil).status == 401)
        }
    }

    @Test("preloaded cashiers carry their figures and canWithdraw in either version, in their organization")
    func preloadAndOrganizations() async throws {
        try await Harness.with({ config in
            config.preload = try! PreloadedCashier.load(jsonLines: """
                {"id":"cashier_a","customerId":"cus_p","websiteId":"web_1","currency":"USD","balance":7.25,"canWithdraw":false}
                {"id":"cashier_b","customerId":"cus_p","websiteId":"web_1","currency":"USD","balance":1,"organizationId":"org_b"}
                """)
        }) { h in
            let a = try await h.get("/cashiers/cashier_a").json
            #expect(a["balance"]?.numberLiteral == "7.25" && a["canWithdraw"] == .bool(false))
            #expect(try await h.get("/organizations/org_b/cashiers/cashier_a").status == 404)
            let b = try await h.get("/organizations/org_b/cashiers/cashier_b").json
            #expect(b["balance"]?.numberLiteral == "1" && b["canWithdraw"] == .bool(true), "a positive balance can be withdrawn unless told")
            #expect(try await h.get("/cashiers/cashier_b").status == 404)
        }
    }

    @Test("data is kept per organization: the same customer is another cashier, lists do not cross")
    func dataPerOrganization() async throws {
        try await Harness.with { h in
            let a = try await h.postCashier(customer: "cus_o", prefix: "/organizations/org_a")
            let b = try await h.postCashier(customer: "cus_o", prefix: "/organizations/org_b")
            #expect(a.status == 201 && b.status == 201)
            #expect(try a.json["id"] != b.json["id"])
            #expect(a.header("Location")?.hasSuffix("/organizations/org_a/cashiers/\(try a.json["id"]?.stringValue ?? "")") == true)
            _ = try await h.postDeposit(customer: "cus_o", prefix: "/organizations/org_a")
            let listA = try await h.get("/organizations/org_a/deposit-requests?filter=customerId:cus_o").json
            let listB = try await h.get("/organizations/org_b/deposit-requests?filter=customerId:cus_o").json
            let listDefault = try await h.get("/deposit-requests?filter=customerId:cus_o").json
            #expect(listA.arrayValue?.count == 1 && listB.arrayValue?.count == 0 && listDefault.arrayValue?.count == 0)
            let stats = try await h.stats()
            #expect(stats["cashiers"]?.intValue == 2 && stats["depositRequests"]?.intValue == 1)
            let state = try await h.get("/_sandbox/cashiers").json
            #expect(state["cashiers"]?.arrayValue?.compactMap { $0["organizationId"]?.stringValue } == ["org_a", "org_b"])
        }
    }

    @Test("X-RateLimit-* on every answer, as Rebilly sends them: its documented window when unlimited")
    func rateLimitHeadersAlways() async throws {
        try await Harness.with { h in
            let post = try await h.postCashier(customer: "cus_r")
            let get = try await h.get("/cashiers/\(try post.json["id"]?.stringValue ?? "")")
            let invalid = try await h.post("/cashiers", "{}")
            for answer in [post, get, invalid] {
                #expect(answer.header("X-RateLimit-Limit") == "3000" && answer.header("X-RateLimit-Remaining") == "3000", "\(answer.status)")
            }
        }
        try await Harness.with({ $0.rate = SandboxRate(limit: 5, period: .seconds(600)) }) { h in
            _ = try await h.postCashier(customer: "cus_r")
            let second = try await h.postCashier(customer: "cus_s")
            #expect(second.header("X-RateLimit-Limit") == "5" && second.header("X-RateLimit-Remaining") == "3")
            let read = try await h.get("/deposit-requests")
            #expect(read.header("X-RateLimit-Limit") == "5" && read.header("X-RateLimit-Remaining") == "3", "a GET spends nothing")
        }
    }

    @Test("--require-customers: a customer Rebilly does not hold answers 422 on customerId, for cashiers and deposit requests")
    func requiredCustomers() async throws {
        try await Harness.with({ $0.requiredCustomers = ["cus_known"] }) { h in
            #expect(try await h.postCashier(customer: "cus_known").status == 201)
            for answer in [try await h.postCashier(customer: "cus_x"), try await h.postDeposit(customer: "cus_x")] {
                #expect(answer.status == 422)
                let field = try #require(answer.json["invalidFields"]?.arrayValue?.first)
                #expect(field["field"] == .string("customerId") && field["message"] == .string("Customer cus_x not found"))
            }
            #expect(try await h.stats()["cashiers"]?.intValue == 1)
        }
    }

    @Test("a customer-id file: one id per line, comments skipped, a bad line named")
    func customerIdFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("customers-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# known\ncus_1\n\n cus_2 \n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try SandboxConfiguration.customerIds(contentsOf: path) == ["cus_1", "cus_2"])
        try "cus_1\ncus 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SandboxConfiguration.CustomerFileError.self) { try SandboxConfiguration.customerIds(contentsOf: path) }
        #expect((try? SandboxConfiguration.customerIds(contentsOf: path)) == nil)
    }

    @Test("--foreign-deposits 1: another client follows every deposit request, half identical in every field")
    func foreignDeposits() async throws {
        try await Harness.with({ $0.foreignDepositRate = 1; $0.seed = 7 }) { h in
            let expiry = "2030-01-02T03:04:05Z"
            for i in 0..<20 {
                let r = try await h.postDeposit(customer: "cus_\(i)", extra: #""amounts":[5,15],"redirectUrl":"https://shop.example/r","expirationTime":"\#(expiry)""#)
                #expect(r.status == 201)
            }
            let stats = try await h.stats()
            #expect(stats["depositRequests"]?.intValue == 20 && stats["foreignDepositRequests"]?.intValue == 20)
            #expect(stats["duplicateDepositRequests"]?.intValue == 0, "another client's request is not a duplicate of the job's")
            let state = try await h.get("/_sandbox/cashiers").json
            let foreign = try #require(state["depositRequests"]?.arrayValue).filter { $0["foreign"] == .bool(true) }
            let identical = foreign.filter { $0["expirationTime"] == .string(expiry) }
            #expect(foreign.count == 20 && identical.count > 3 && identical.count < 17, "\(identical.count)")
            for f in identical {
                #expect(f["amounts"] == .array([.number("5"), .number("15")]) && f["redirectUrl"] == .string("https://shop.example/r"))
            }
            for f in foreign where f["expirationTime"] != .string(expiry) {
                #expect(f["amounts"] == .array(DepositRequestRecord.defaultAmounts) && f["redirectUrl"] == nil)
            }
            let listed = try await h.get("/deposit-requests?filter=customerId:cus_0").json
            #expect(listed.arrayValue?.count == 2, "both are listed: the API cannot tell them apart")
        }
    }

    @Test("a deposit request carries the members of Rebilly's DepositRequest schema only")
    func depositRequestMembers() async throws {
        try await Harness.with { h in
            let body = try await h.postDeposit(customer: "cus_d", extra: #""strategyId":"dep_str_1","customPropertySetId":"cps_1","amountLimits":{"minimum":1},"redirectUrl":"https://e.example/r""#).json
            #expect(body.keys == ["id", "websiteId", "customerId", "currency", "status", "transactionIds", "amounts", "customAmount",
                                  "redirectUrl", "expirationTime", "notificationUrl", "propertiesSchema", "properties",
                                  "createdTime", "updatedTime", "_links"])
        }
    }
}
