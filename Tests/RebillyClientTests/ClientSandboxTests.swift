import CashierModel
import Foundation
import Testing
@testable import RebillyClient
import Sandbox

@Suite("RebillyClient against the sandbox (real sockets)")
struct ClientSandboxTests {
    @Test("create: 201 created with no figures; 200 retrieved with Rebilly's balances unchanged and exact")
    func createThenRetrieve() async throws {
        // The client decodes whatever figures an answer carries: Rebilly's own, preloaded here.
        let preload = try established("""
            {"id":"cashier_held1","customerId":"cus_1","websiteId":"web_1","currency":"USD","balance":1500.10,"bonusBalance":0.1,"pendingPayoutTotal":12.34}
            """)
        try await withSandbox({ $0.preload = preload }) { client, sandbox in
            let created = try await client.createCashier(body: cashierBody(customer: "cus_new"))
            #expect(created.status == 201)
            #expect(created.outcome == .created)
            #expect(created.id.hasPrefix("cashier_"))
            #expect(created.location == "\(sandbox.baseURL)/cashiers/\(created.id)")
            #expect(created.cashier.balance?.amount == Amount(minorUnits: 0, exponent: 2))
            #expect(created.cashier.pendingPayoutTotal?.amount == Amount(minorUnits: 0, exponent: 2))
            #expect(created.latency > .zero)

            let first = try await client.createCashier(body: cashierBody(customer: "cus_1"))
            #expect(first.status == 200)
            #expect(first.outcome == .retrieved)
            #expect(first.id == "cashier_held1")
            #expect(first.cashier.balance?.text == "1500.10")
            #expect(first.cashier.balance?.amount == Amount(minorUnits: 150_010, exponent: 2))
            #expect(first.cashier.bonusBalance?.amount == Amount(minorUnits: 10, exponent: 2))
            #expect(first.cashier.pendingPayoutTotal?.amount == Amount(minorUnits: 1234, exponent: 2))
            #expect(first.latency > .zero)

            let second = try await client.createCashier(body: cashierBody(customer: "cus_1"))
            #expect(second.status == 200)
            #expect(second.outcome == .retrieved)
            #expect(second.id == first.id)
            #expect(second.cashier.balance?.text == "1500.10")
            #expect(second.cashier.balance?.amount?.minorUnits == 150_010)

            let read = try await client.getCashier(id: first.id)
            #expect(read.cashier == first.cashier)
        }
    }

    @Test("JPY and BHD balances parse at their exponents; a figure the currency cannot hold keeps its text")
    func exponents() async throws {
        let preload = try established("""
            {"customerId":"c_jpy","websiteId":"web_1","currency":"JPY","balance":15000}
            {"customerId":"c_bhd","websiteId":"web_1","currency":"BHD","balance":1.005}
            {"customerId":"c_odd","websiteId":"web_1","currency":"JPY","balance":1.5}
            """)
        try await withSandbox({ $0.preload = preload }) { client, _ in
            let jpy = try await client.createCashier(body: cashierBody(customer: "c_jpy", currency: "JPY"))
            #expect(jpy.status == 200)
            #expect(jpy.cashier.balance?.amount == Amount(minorUnits: 15000, exponent: 0))
            let bhd = try await client.createCashier(body: cashierBody(customer: "c_bhd", currency: "BHD"))
            #expect(bhd.cashier.balance?.amount == Amount(minorUnits: 1005, exponent: 3))
            let odd = try await client.createCashier(body: cashierBody(customer: "c_odd", currency: "JPY"))
            #expect(odd.cashier.balance?.text == "1.5")
            #expect(odd.cashier.balance?.amount == nil)
            // A GET decodes them alike.
            #expect(try await client.getCashier(id: jpy.id).cashier == jpy.cashier)
            #expect(try await client.getCashier(id: bhd.id).cashier.balance?.amount == Amount(minorUnits: 1005, exponent: 3))
            let oddRead = try await client.getCashier(id: odd.id)
            #expect(oddRead.cashier.balance?.text == "1.5" && oddRead.cashier.balance?.amount == nil)
        }
    }

    @Test("the organization prefix is on every path")
    func organizationPrefix() async throws {
        try await withSandbox(organizationId: "org_acme") { client, sandbox in
            let created = try await client.createCashier(body: cashierBody(customer: "cus_org"))
            #expect(created.location == "\(sandbox.baseURL)/organizations/org_acme/cashiers/\(created.id)")
            let deposit = try await client.createDepositRequest(body: depositBody(customer: "cus_org"))
            #expect(deposit.location?.hasPrefix("\(sandbox.baseURL)/organizations/org_acme/deposit-requests/") == true)
            let page = try await client.listDepositRequests(customerId: "cus_org", websiteId: "web_1")
            #expect(page.items.map(\.id) == [deposit.id])
        }
        // A prefix outside the sandbox's allowed organizations answers 403: fatal.
        try await withSandbox({ $0.allowedOrganizations = ["org_ok"] }, organizationId: "org_other") { client, _ in
            let error = await rebillyError { try await client.createCashier(body: cashierBody(customer: "x")) }
            #expect(error?.status == 403)
        }
    }

    @Test("401: a fatal problem with the API's title and detail; the key appears nowhere")
    func unauthorized() async throws {
        try await withSandbox(apiKey: "wrong-key-123") { client, _ in
            let error = try #require(await rebillyError { try await client.createCashier(body: cashierBody(customer: "c")) })
            guard case let .problem(status, title, detail, fields, _, latency) = error else {
                Issue.record("expected a problem, got \(error)")
                return
            }
            #expect(status == 401 && title == "Unauthorized" && detail == "Invalid credentials" && fields.isEmpty)
            #expect(latency > .zero)
            #expect(error.status == 401 || error.status == 403)
            #expect(!error.mayHaveBeenApplied)
            #expect(!String(describing: error).contains("wrong-key-123"))
            #expect(!String(describing: client).contains("wrong-key-123"))
        }
    }

    @Test("422: invalidFields decoded exactly, classified as rejected")
    func validation() async throws {
        try await withSandbox { client, _ in
            let error = try #require(await rebillyError {
                try await client.createCashier(body: cashierBody(customer: "c", currency: "usd", extra: #""depositLimits":{"minimum":0,"maximum":5}"#))
            })
            #expect(error.status == 422)
            #expect((400...499).contains(error.status ?? 0))
            #expect(error.invalidFields == [
                FieldIssue(field: "currency", message: "currency must be a 3-letter ISO 4217 currency code"),
                FieldIssue(field: "depositLimits.minimum", message: "depositLimits.minimum must be greater than or equal to 0.01"),
            ])
            if case let .problem(_, title, detail, _, _, _) = error {
                #expect(title == "Validation error" && detail == "Invalid data sent")
            }
        }
    }

    @Test("429: X-RateLimit-Retry-After (epoch seconds) becomes a future instant; successes carry limit and remaining")
    func rateLimited() async throws {
        try await withSandbox({ $0.rate = SandboxRate(limit: 2, period: .seconds(120)) }) { client, _ in
            let ok = try await client.createCashier(body: cashierBody(customer: "r1"))
            #expect(ok.rateLimit.limit == 2 && ok.rateLimit.remaining == 1)
            let ok2 = try await client.createDepositRequest(body: depositBody(customer: "r1"))
            #expect(ok2.rateLimit.remaining == 0)
            let before = ContinuousClock.now
            let epochBefore = Date().timeIntervalSince1970
            let error = try #require(await rebillyError { try await client.createCashier(body: cashierBody(customer: "r2")) })
            #expect(error.status == 429)
            #expect(error.status == nil || error.status == 429 || (error.status ?? 0) >= 500)
            #expect(!error.mayHaveBeenApplied)
            let until = try #require(error.rateLimit.retryAfter)
            // Measured from the server's `Date` (whole seconds): up to a second longer, never shorter.
            #expect(until > before + .seconds(100) && until < before + .seconds(123))
            let epoch = try #require(error.rateLimit.retryAfterEpochSeconds)
            #expect(epoch > epochBefore + 100 && epoch < epochBefore + 122)
            #expect(error.rateLimit.limit == 2 && error.rateLimit.remaining == 0)
            // GETs are not counted and still work.
            #expect(try await client.getCashier(id: ok.id).id == ok.id)
        }
    }

    @Test("dropRate 1: a committed POST whose answer never comes is a retryable connection error that may have been applied")
    func dropped() async throws {
        try await withSandbox({ $0.dropRate = 1; $0.seed = 1 }) { client, _ in
            let error = try #require(await rebillyError { try await client.createDepositRequest(body: depositBody(customer: "d1")) })
            guard case let .transport(kind, _, applied, _) = error else {
                Issue.record("expected a transport error, got \(error)")
                return
            }
            // The sandbox closes the connection; on a loaded machine the read deadline may come first.
            #expect(kind == .connection || kind == .timeout, "\(kind)")
            #expect(applied)
            #expect(error.mayHaveBeenApplied)
            #expect(error.status == nil || error.status == 429 || (error.status ?? 0) >= 500)
            #expect(error.status == nil)
        }
    }

    @Test("dropped, then found: the in-doubt deposit request is visible in the filtered list")
    func droppedThenListed() async throws {
        try await withSandbox({ $0.dropRate = 0.5; $0.seed = 3 }) { client, _ in
            var dropped = 0, created: [String] = []
            for i in 0..<12 {
                do {
                    created.append(try await client.createDepositRequest(body: depositBody(customer: "cus_\(i)")).id)
                } catch let error as RebillyError {
                    #expect(error.mayHaveBeenApplied)
                    dropped += 1
                }
            }
            #expect(dropped > 0)
            // The list (a GET) is faulted too at this drop rate: retry it until it answers.
            var seen = 0
            for i in 0..<12 {
                for _ in 0..<50 {
                    if let page = try? await client.listDepositRequests(customerId: "cus_\(i)", websiteId: "web_1") {
                        #expect(page.total == 1 && page.items.count == 1)
                        seen += page.items.count
                        break
                    }
                }
            }
            #expect(seen == 12, "every request was committed, dropped or not")
        }
    }

    @Test("failRate 1: 5xx problems, retryable")
    func failures() async throws {
        try await withSandbox({ $0.failRate = 1; $0.seed = 9 }) { client, _ in
            for _ in 0..<5 {
                let error = try #require(await rebillyError { try await client.createCashier(body: cashierBody(customer: "f")) })
                #expect([500, 502, 503].contains(error.status ?? 0))
                #expect(error.status == nil || error.status == 429 || (error.status ?? 0) >= 500)
                #expect(error.mayHaveBeenApplied, "every 5xx, 503 included, may have been forwarded")
            }
        }
    }

    @Test("list: the filter finds this customer's deposit requests, newest first, with Pagination-Total; a window by createdTime")
    func list() async throws {
        try await withSandbox { client, _ in
            let a = try await client.createDepositRequest(body: depositBody(customer: "cus_a", extra: #""amounts":[10.50,20]"#))
            #expect(a.status == 201)
            #expect(a.id.hasPrefix("dep_req_"))
            #expect(a.depositRequest.generation == .depositRequest)
            #expect(a.depositRequest.status == "created")
            #expect(a.depositRequest.transactionIds.isEmpty)
            #expect(a.depositRequest.depositURL?.contains("/_sandbox/deposit-form/\(a.id)") == true)
            // Rebilly keeps createdTime to the second and orders a second as it likes: b a second later.
            try await Task.sleep(for: .milliseconds(1_050))
            let b = try await client.createDepositRequest(body: depositBody(customer: "cus_a"))
            _ = try await client.createDepositRequest(body: depositBody(customer: "cus_b"))
            _ = try await client.createDepositRequest(body: depositBody(customer: "cus_a", website: "web_2"))
            let page = try await client.listDepositRequests(customerId: "cus_a", websiteId: "web_1")
            #expect(page.items.map(\.id) == [b.id, a.id])
            #expect(page.total == 2 && page.limit == 100 && page.offset == 0)
            let second = try await client.listDepositRequests(customerId: "cus_a", websiteId: "web_1", limit: 1, offset: 1)
            #expect(second.items.map(\.id) == [a.id])
            #expect(second.total == 2)
            let oldestFirst = try await client.listDepositRequests(customerId: "cus_a", websiteId: "web_1", sort: "createdTime")
            #expect(oldestFirst.items.map(\.id) == [a.id, b.id])
            let created = try #require(b.depositRequest.createdTime)
            let window = try await client.listDepositRequests(websiteId: "web_1", customerId: "CUS_A", createdFrom: created, createdTo: created)
            #expect(window.items.map(\.id) == [b.id], "the second of b only; the customer filter ignores case")
        }
    }

    @Test("filter values with query-reserved characters survive the round trip")
    func reservedCharacters() async throws {
        try await withSandbox { client, _ in
            let customer = "cus a:b&c=d+e%f/g?h#i"
            let created = try await client.createDepositRequest(body: depositBody(customer: customer))
            let page = try await client.listDepositRequests(customerId: customer, websiteId: "web_1")
            #expect(page.items.map(\.id) == [created.id])
            #expect(page.items.first?.customerId == customer)
        }
    }

    @Test("a bad sort answers 422 naming the parameter; an unknown id answers 404 rejected")
    func badQueryAndUnknownId() async throws {
        try await withSandbox { client, _ in
            let error = await rebillyError { try await client.listDepositRequests(customerId: "c", websiteId: "w", sort: "-amount") }
            #expect(error?.status == 422)
            #expect(error?.invalidFields.first?.field == "sort")
            let missing = await rebillyError { try await client.getCashier(id: "cashier_nope") }
            #expect(missing?.status == 404)
            #expect(missing?.status == 404)
        }
    }

    @Test("nothing listening: a connection error that was never applied")
    func refused() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let url = sandbox.baseURL
        await sandbox.stop()
        let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: url, apiKey: try APIKey("k"), connectTimeout: .seconds(2)))
        let error = try #require(await rebillyError { try await client.createDepositRequest(body: depositBody(customer: "x")) })
        try await client.shutdown()
        guard case let .transport(kind, _, applied, _) = error else {
            Issue.record("expected a transport error, got \(error)")
            return
        }
        #expect(kind == .connection || kind == .timeout)
        #expect(!applied)
        #expect(error.status == nil || error.status == 429 || (error.status ?? 0) >= 500)
    }
}
