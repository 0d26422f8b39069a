import Foundation
import Testing
@testable import Sandbox

/// A cashier's balance, bonusBalance and pendingPayoutTotal are Rebilly's (read-only in
/// `PostCashier`), `canWithdraw` is reported, and the figures move only with Rebilly's own
/// activity: the preload file and the sandbox's figures endpoint.
@Suite("Cashier figures are Rebilly's")
struct CashierFiguresTests {
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

    @Test("figures sent for a cashier Rebilly holds: 422 with reject and nothing changes; ignored, its own come back")
    func figuresForAnExistingCashier() async throws {
        let preload = try PreloadedCashier.load(jsonLines: #"{"customerId":"cus_e","websiteId":"web_1","currency":"USD","balance":7.25,"canWithdraw":true}"#)
        for policy in ReadonlyFieldsPolicy.allCases {
            try await Harness.with({ $0.preload = preload; $0.readonlyFields = policy }) { h in
                let r = try await h.postCashier(customer: "cus_e", extra: #""balance":99,"bonusBalance":5"#)
                let body = try r.json
                switch policy {
                case .reject:
                    #expect(r.status == 422 && body.invalidFieldNames == ["balance", "bonusBalance"])
                case .ignore:
                    #expect(r.status == 200)
                    #expect(body["balance"]?.numberLiteral == "7.25" && body["bonusBalance"]?.numberLiteral == "0"
                        && body["canWithdraw"] == .bool(true))
                }
                let state = try await h.get("/_sandbox/cashiers").json
                #expect(state["cashiers"]?.arrayValue?.first?["balance"]?.numberLiteral == "7.25", "\(policy)")
            }
        }
    }

    @Test("canWithdraw is in the cashier, right after the figures")
    func canWithdrawAfterTheFigures() async throws {
        try await Harness.with { h in
            let body = try await h.postCashier(customer: "cus_1").json
            #expect(body.keys == ["id", "customerId", "websiteId", "currency", "balance", "bonusBalance", "pendingPayoutTotal",
                                  "canWithdraw", "redirectUrl", "notificationUrl", "expirationTime", "createdTime", "updatedTime", "_links"])
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

    @Test("preloaded cashiers carry their figures and canWithdraw, in their organization")
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
}
