import Foundation
import Testing
@testable import Sandbox

@Suite("Auth, organization prefix and routing")
struct AuthAndRoutingTests {
    static let unauthorized = JSONValue.object([("status", .int(401)), ("title", .string("Unauthorized")), ("detail", .string("Invalid credentials"))])

    @Test("a missing or wrong REB-APIKEY answers 401 on every endpoint and commits nothing")
    func unauthorized() async throws {
        try await Harness.with { h in
            for key in [nil, "wrong"] as [String?] {
                let post = try await h.post("/cashiers", #"{"customerId":"a","websiteId":"w","currency":"USD"}"#, apiKey: key)
                #expect(post.status == 401)
                #expect(try post.json == Self.unauthorized)
                #expect(try await h.get("/cashiers/cashier_x", apiKey: key).status == 401)
                #expect(try await h.get("/deposit-requests", apiKey: key).status == 401)
                #expect(try await h.get("/_sandbox/stats", apiKey: key).status == 401)
                #expect(try await h.get("/_sandbox/cashiers", apiKey: key).status == 401)
            }
            #expect(try await h.get("/_sandbox/health", apiKey: nil).status == 200)
            let stats = try await h.stats()
            #expect(stats["cashiers"]?.intValue == 0)
            #expect(stats["requests"]?["PostCashier"] == .object([("401", .int(2))]))
        }
    }

    @Test("the default key is the documented development key")
    func defaultKey() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        #expect(sandbox.apiKey == "sandbox-secret-key")
        #expect(sandbox.baseURL == "http://127.0.0.1:\(sandbox.port)")
        #expect(sandbox.port > 0)
        await sandbox.stop()
    }

    @Test("paths work with and without /organizations/{id}; links follow the prefix")
    func organizationPrefix() async throws {
        try await Harness.with { h in
            let r = try await h.postCashier(customer: "o1", prefix: "/organizations/org_1")
            #expect(r.status == 201)
            let id = try #require(try r.json["id"]?.stringValue)
            #expect(r.header("Location") == "\(h.sandbox.baseURL)/organizations/org_1/cashiers/\(id)")
            #expect(try await h.get("/organizations/org_1/cashiers/\(id)").status == 200)
            #expect(try await h.get("/cashiers/\(id)").status == 404, "another organization's data")
            #expect(try await h.get("/organizations/org_sandbox/cashiers/\(id)").status == 404)
            let dep = try await h.postDeposit(customer: "o1", prefix: "/organizations/org_1")
            #expect(dep.status == 201)
            let list = try await h.get("/organizations/org_1/deposit-requests?filter=customerId:o1")
            #expect(try list.json.arrayValue?.count == 1)
            #expect(try await h.get("/organizations/org_1/_sandbox/stats").status == 404)
        }
    }

    @Test("403 for an organization outside allowedOrganizations")
    func forbiddenOrganization() async throws {
        try await Harness.with({ $0.allowedOrganizations = ["org_ok"] }) { h in
            #expect(try await h.postCashier(customer: "a", prefix: "/organizations/org_ok").status == 201)
            let r = try await h.postCashier(customer: "b", prefix: "/organizations/org_no")
            #expect(r.status == 403)
            #expect(try r.json["title"] == .string("Forbidden"))
            #expect(try await h.postCashier(customer: "c").status == 201)
        }
    }

    @Test("unknown paths answer 404, known paths with another method 405")
    func routing() async throws {
        try await Harness.with { h in
            let unknown = try await h.get("/customers")
            #expect(unknown.status == 404)
            #expect(try unknown.json["status"]?.intValue == 404)
            let wrongMethod = try await h.request("DELETE", "/cashiers")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "POST")
            #expect(try await h.request("PUT", "/deposit-requests").header("Allow") == "GET, POST")
        }
    }

    @Test("stats count requests per operation and status")
    func statsCounts() async throws {
        try await Harness.with { h in
            _ = try await h.postCashier(customer: "s")
            _ = try await h.postCashier(customer: "s")
            _ = try await h.post("/cashiers", "{}")
            _ = try await h.get("/cashiers/cashier_missing")
            _ = try await h.get("/deposit-requests")
            let stats = try await h.stats()
            #expect(stats["requests"] == .object([
                ("GetCashier", .object([("404", .int(1))])),
                ("GetDepositRequestCollection", .object([("200", .int(1))])),
                ("PostCashier", .object([("200", .int(1)), ("201", .int(1)), ("422", .int(1))])),
            ]))
            #expect(stats["requestsTotal"]?.intValue == 5)
            #expect(stats["faults"] == .object([("fail", .int(0)), ("drop", .int(0)), ("latency", .int(0))]))
        }
    }

    @Test("concurrent identical cashier POSTs create exactly one cashier")
    func concurrentFindOrCreate() async throws {
        try await Harness.with { h in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 { group.addTask { try await h.postCashier(customer: "same").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1)
            #expect(statuses.filter { $0 == 200 }.count == 15)
            #expect(try await h.stats()["cashiers"]?.intValue == 1)
        }
    }
}
