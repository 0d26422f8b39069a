import Foundation
import Testing
@testable import Sandbox

/// What Rebilly does around the contract: data kept per organization, quota headers on every
/// answer, customers it does not hold, other clients of the organization, and the members a
/// deposit request carries.
@Suite("Organizations, quotas, customers and other clients")
struct OrganizationAndClientTests {
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
