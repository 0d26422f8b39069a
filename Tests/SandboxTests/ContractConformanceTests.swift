import Foundation
import Testing
@testable import Sandbox

/// Every response body the sandbox gives is checked against the schema that
/// `openapi-cashiers.json` declares for that operation and status.
@Suite("Responses match openapi-cashiers.json")
struct ContractConformanceTests {
    @Test("required fields and property types for every operation and status")
    func responsesCarryRequiredFields() async throws {
        let contract = try OpenAPIContract.load()
        // The lists really come from the file: guard against reading an empty schema.
        let cashierRequired = try contract.flatten(contract.schema(named: "Cashier")).required
        #expect(cashierRequired.contains("balance") && cashierRequired.contains("pendingPayoutTotal") && cashierRequired.count >= 10)
        #expect(try contract.flatten(contract.schema(named: "DepositRequest")).required.count >= 3)

        var checked = 0
        func check(_ exchange: Exchange, _ path: String, _ method: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let schema = try contract.responseSchema(path: path, method: method, status: exchange.status)
            let violations = try contract.violations(of: exchange.json, against: schema)
            #expect(violations.isEmpty, "\(method.uppercased()) \(path) \(exchange.status): \(violations)", sourceLocation: sourceLocation)
            checked += 1
        }

        // The fixture is the contract before 2026-07-20, when the create still set the figures.
        try await Harness.with({ $0.rate = SandboxRate(limit: 6, period: .seconds(600)); $0.apiVersion = .v2025_08 }) { h in
            let created = try await h.postCashier(customer: "k", extra: #""balance":1.5,"redirectUrl":"https://e.example/r""#)
            #expect(created.status == 201)
            try check(created, "/cashiers", "post")
            let existing = try await h.postCashier(customer: "k")
            #expect(existing.status == 200)
            try check(existing, "/cashiers", "post")
            let invalid = try await h.post("/cashiers", #"{"currency":"x"}"#)
            #expect(invalid.status == 422)
            try check(invalid, "/cashiers", "post")
            try check(try await h.post("/cashiers", "{}", apiKey: "nope"), "/cashiers", "post")

            let id = try #require(try created.json["id"]?.stringValue)
            try check(try await h.get("/cashiers/\(id)"), "/cashiers/{id}", "get")
            try check(try await h.get("/cashiers/cashier_none"), "/cashiers/{id}", "get")
            try check(try await h.get("/cashiers/\(id)", apiKey: nil), "/cashiers/{id}", "get")

            let deposit = try await h.postDeposit(customer: "k", extra: #""redirectUrl":"https://e.example/r""#)
            #expect(deposit.status == 201)
            try check(deposit, "/deposit-requests", "post")
            let badDeposit = try await h.postDeposit(customer: "k", extra: #""amounts":[0]"#)
            #expect(badDeposit.status == 422)
            try check(badDeposit, "/deposit-requests", "post")
            try check(try await h.postDeposit(customer: "k", extra: #""customAmount":null"#), "/deposit-requests", "post")
            let limited = try await h.postDeposit(customer: "k")
            #expect(limited.status == 429)
            try check(limited, "/deposit-requests", "post")
            try check(try await h.post("/deposit-requests", "{}", apiKey: nil), "/deposit-requests", "post")

            let list = try await h.get("/deposit-requests?filter=customerId:k")
            #expect(try list.json.arrayValue?.count == 2)
            try check(list, "/deposit-requests", "get")
            try check(try await h.get("/deposit-requests", apiKey: "x"), "/deposit-requests", "get")
            let depositId = try #require(try deposit.json["id"]?.stringValue)
            try check(try await h.get("/deposit-requests/\(depositId)"), "/deposit-requests/{id}", "get")
            try check(try await h.get("/deposit-requests/dep_req_none"), "/deposit-requests/{id}", "get")
        }

        try await Harness.with({ $0.allowedOrganizations = [] }) { h in
            let forbidden = try await h.postCashier(customer: "f", prefix: "/organizations/org_x")
            #expect(forbidden.status == 403)
            try check(forbidden, "/cashiers", "post")
        }
        #expect(checked == 17)
    }

}
