import Foundation
import Testing
@testable import Sandbox

/// The sandbox's answers against `openapi-cashiers.json`, Rebilly's schemas of today: every
/// required member present, every member of the right type and defined by the schema, the
/// read-only figures Rebilly's; and the collection's parameters as strict as the schema.
@Suite("Responses and parameters match openapi-cashiers.json")
struct ContractConformanceTests {
    /// A cashier that exists on Rebilly's side, with its own figures.
    static let preloaded = #"{"id":"cashier_pre","customerId":"cus_pre","websiteId":"web_1","currency":"EUR","balance":250.10,"bonusBalance":0.01,"pendingPayoutTotal":3,"canWithdraw":true}"#

    @Test("the fixture is today's contract: figures read-only, canWithdraw required, nothing settable in PostCashier")
    func fixtureIsTodays() throws {
        let contract = try OpenAPIContract.load()
        let cashier = try contract.flatten(contract.schema(named: "Cashier"))
        #expect(cashier.required.contains("canWithdraw") && cashier.required.count >= 11)
        for figure in ["balance", "bonusBalance", "pendingPayoutTotal", "canWithdraw"] {
            #expect(cashier.properties[figure]?["readOnly"] as? Bool == true, "\(figure)")
        }
        let post = try contract.flatten(contract.schema(named: "PostCashier"))
        #expect(Set(post.properties.keys) == ["customerId", "websiteId", "currency", "redirectUrl", "depositLimits", "notificationUrl"])
        #expect(Set(post.properties.keys) == Set(CashierInput.allowedFields).subtracting(CashierInput.figureFields))
        let postDeposit = try contract.flatten(contract.schema(named: "PostDepositRequest"))
        #expect(Set(postDeposit.properties.keys) == Set(DepositRequestInput.allowedFields))
        for (path, method) in [("/cashiers", "post"), ("/cashiers/{id}", "get"), ("/deposit-requests", "post"),
                               ("/deposit-requests", "get"), ("/deposit-requests/{id}", "get")] {
            let badges = try contract.operation(path: path, method: method)["x-badges"] as? [[String: Any]] ?? []
            #expect(badges.contains { $0["name"] as? String == "Experimental" }, "\(method.uppercased()) \(path) is Experimental")
        }
    }

    @Test("default answers: required members, types, no member the schema does not define, the figures Rebilly's")
    func defaultAnswers() async throws {
        let contract = try OpenAPIContract.load()
        let figures = try contract.flatten(contract.schema(named: "Cashier")).properties
            .filter { $0.value["readOnly"] as? Bool == true && ["number", "boolean"].contains(OpenAPIContract.types(of: $0.value).first ?? "") }
            .keys.sorted()
        #expect(figures == ["balance", "bonusBalance", "canWithdraw", "pendingPayoutTotal"])

        var checked = 0
        func check(_ exchange: Exchange, _ path: String, _ method: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let schema = try contract.responseSchema(path: path, method: method, status: exchange.status)
            let violations = try contract.violations(of: exchange.json, against: schema)
            #expect(violations.isEmpty, "\(method.uppercased()) \(path) \(exchange.status): \(violations)", sourceLocation: sourceLocation)
            checked += 1
        }
        func figuresOf(_ body: JSONValue) -> [JSONValue?] { figures.map { body[$0] } }

        let preload = try PreloadedCashier.load(jsonLines: Self.preloaded)
        try await Harness.with({ $0.preload = preload }) { h in
            let created = try await h.postCashier(customer: "k", extra: #""redirectUrl":"https://e.example/r","depositLimits":{"minimum":5}"#)
            #expect(created.status == 201)
            try check(created, "/cashiers", "post")
            let createdBody = try created.json
            #expect(figuresOf(createdBody) == [.number("0"), .number("0"), .bool(false), .number("0")], "a new cashier: Rebilly's zero")
            let existing = try await h.postCashier(customer: "k")
            #expect(existing.status == 200)
            try check(existing, "/cashiers", "post")
            let met = try await h.postCashier(customer: "cus_pre", currency: "EUR")
            #expect(met.status == 200)
            try check(met, "/cashiers", "post")
            let metBody = try met.json
            #expect(figuresOf(metBody) == [.number("250.10"), .number("0.01"), .bool(true), .number("3")], "Rebilly's own figures")

            let id = try #require(createdBody["id"]?.stringValue)
            try check(try await h.get("/cashiers/\(id)"), "/cashiers/{id}", "get")
            let pre = try await h.get("/cashiers/cashier_pre")
            try check(pre, "/cashiers/{id}", "get")
            let preBody = try pre.json
            #expect(figuresOf(preBody) == figuresOf(metBody))

            let deposit = try await h.postDeposit(customer: "k", extra: #""redirectUrl":"https://e.example/r","amounts":[5,10.50],"customAmount":{"minimum":1,"multipleOf":0.5,"maximum":100}"#)
            #expect(deposit.status == 201)
            try check(deposit, "/deposit-requests", "post")
            try check(try await h.postDeposit(customer: "k"), "/deposit-requests", "post")
            try check(try await h.postDeposit(customer: "k", extra: #""customAmount":null,"expirationTime":"2030-01-01T00:00:00Z""#), "/deposit-requests", "post")

            let list = try await h.get("/deposit-requests?filter=customerId:k;websiteId:web_1&sort=createdTime")
            #expect(try list.json.arrayValue?.count == 3)
            try check(list, "/deposit-requests", "get")
            let depositId = try #require(try deposit.json["id"]?.stringValue)
            try check(try await h.get("/deposit-requests/\(depositId)"), "/deposit-requests/{id}", "get")
        }
        #expect(checked == 10)
    }

    @Test("problem answers: 401, 403, 404, 422 and 429 as the schema has them")
    func problemAnswers() async throws {
        let contract = try OpenAPIContract.load()
        var checked = 0
        func check(_ exchange: Exchange, _ path: String, _ method: String, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(exchange.status == status, "\(exchange.text)", sourceLocation: sourceLocation)
            let schema = try contract.responseSchema(path: path, method: method, status: exchange.status)
            let violations = try contract.violations(of: exchange.json, against: schema)
            #expect(violations.isEmpty, "\(method.uppercased()) \(path) \(exchange.status): \(violations)", sourceLocation: sourceLocation)
            checked += 1
        }
        try await Harness.with({ $0.rate = SandboxRate(limit: 4, period: .seconds(600)) }) { h in
            try check(try await h.post("/cashiers", #"{"currency":"x"}"#), "/cashiers", "post", 422)
            try check(try await h.postCashier(customer: "f", extra: #""balance":1"#), "/cashiers", "post", 422)
            try check(try await h.post("/cashiers", "{}", apiKey: "nope"), "/cashiers", "post", 401)
            try check(try await h.get("/cashiers/cashier_none"), "/cashiers/{id}", "get", 404)
            try check(try await h.get("/cashiers/cashier_none", apiKey: nil), "/cashiers/{id}", "get", 401)
            try check(try await h.postDeposit(customer: "k", extra: #""amounts":[0]"#), "/deposit-requests", "post", 422)
            try check(try await h.post("/deposit-requests", "{}", apiKey: nil), "/deposit-requests", "post", 401)
            try check(try await h.get("/deposit-requests", apiKey: "x"), "/deposit-requests", "get", 401)
            try check(try await h.get("/deposit-requests/dep_req_none"), "/deposit-requests/{id}", "get", 404)
            #expect(try await h.postDeposit(customer: "k").status == 201, "the window's last")
            try check(try await h.postDeposit(customer: "k"), "/deposit-requests", "post", 429)
        }
        try await Harness.with({ $0.allowedOrganizations = [] }) { h in
            try check(try await h.postCashier(customer: "f", prefix: "/organizations/org_x"), "/cashiers", "post", 403)
        }
        #expect(checked == 11)
    }

    @Test("the collection's parameters: limit and offset at most the schema's maximum, sort on x-sortable members only")
    func collectionParameters() async throws {
        let contract = try OpenAPIContract.load()
        let limit = try contract.parameterSchema(path: "/deposit-requests", method: "get", name: "limit")
        let offset = try contract.parameterSchema(path: "/deposit-requests", method: "get", name: "offset")
        #expect(limit["maximum"] as? Int == CollectionQuery.maximumLimit && limit["minimum"] as? Int == 0)
        #expect(offset["maximum"] as? Int == CollectionQuery.maximumOffset && offset["minimum"] as? Int == 0)
        _ = try contract.parameterSchema(path: "/deposit-requests", method: "get", name: "sort")
        _ = try contract.parameterSchema(path: "/deposit-requests", method: "get", name: "filter")
        let sortable = try contract.sortableMembers(of: "DepositRequest")
        #expect(sortable == ["createdTime", "updatedTime", "currency"])
        #expect(Set(CollectionQuery.sortableFields) == sortable)
        let members = try contract.flatten(contract.schema(named: "DepositRequest")).properties.keys.sorted()
        try await Harness.with { h in
            for name in ["limit", "offset"] {
                let maximum = name == "limit" ? CollectionQuery.maximumLimit : CollectionQuery.maximumOffset
                #expect(try await h.get("/deposit-requests?\(name)=\(maximum)").status == 200)
                let over = try await h.get("/deposit-requests?\(name)=\(maximum + 1)")
                let named = try over.json.invalidFieldNames
                #expect(over.status == 422 && named == [name])
            }
            for member in members {
                for sort in [member, "-" + member] {
                    let r = try await h.get("/deposit-requests?sort=\(sort)")
                    #expect(r.status == (sortable.contains(member) ? 200 : 422), "sort=\(sort): \(r.text)")
                }
            }
        }
    }
}
