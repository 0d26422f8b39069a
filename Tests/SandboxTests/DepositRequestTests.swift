import Foundation
import Testing
@testable import Sandbox

@Suite("POST /deposit-requests and GET /deposit-requests[/{id}]")
struct DepositRequestTests {
    @Test("201 with dep_req_ id, status created, empty transactionIds, links and a one-hour expiry")
    func createsDepositRequest() async throws {
        try await Harness.with { h in
            let r = try await h.postDeposit(customer: "cus_1", extra: #""amounts":[10.50,20],"customAmount":{"minimum":5.30,"multipleOf":0.50,"maximum":6.30}"#)
            #expect(r.status == 201)
            let body = try r.json
            let id = try #require(body["id"]?.stringValue)
            #expect(isPrefixedULID(id, prefix: "dep_req_"))
            #expect(r.header("Location") == "\(h.sandbox.baseURL)/deposit-requests/\(id)")
            #expect(body["status"] == .string("created"))
            #expect(body["transactionIds"] == .array([]))
            #expect(body["customerId"] == .string("cus_1"))
            #expect(body["websiteId"] == .string("web_1"))
            #expect(body["currency"] == .string("USD"))
            #expect(body["amounts"] == .array([.number("10.50"), .number("20")]))
            #expect(body["customAmount"] == .object([("minimum", .number("5.30")), ("multipleOf", .number("0.50")), ("maximum", .number("6.30"))]))
            let created = try #require(body["createdTime"]?.stringValue.flatMap(Timestamps.parse))
            #expect(body["updatedTime"] == body["createdTime"])
            #expect(body["expirationTime"]?.stringValue.flatMap(Timestamps.parse) == created.addingTimeInterval(3600))
            let links = try #require(body["_links"]?.arrayValue)
            #expect(links.compactMap { $0["rel"]?.stringValue } == ["self", "deposit"])
            #expect(links[0]["href"] == .string("\(h.sandbox.baseURL)/deposit-requests/\(id)"))
            let deposit = try #require(links[1]["href"]?.stringValue)
            #expect(deposit.hasPrefix("\(h.sandbox.baseURL)/_sandbox/deposit-form/\(id)?token="))
        }
    }

    @Test("the deposit link serves a placeholder hosted form")
    func depositLink() async throws {
        try await Harness.with { h in
            let body = try await h.postDeposit(customer: "<cus>", extra: #""amounts":[25.50]"#).json
            let link = try #require(body["_links"]?.arrayValue?.last?["href"]?.stringValue)
            let path = String(link.dropFirst(h.sandbox.baseURL.count))
            let page = try await h.get(path, apiKey: nil)
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.text.contains(try #require(body["id"]?.stringValue)))
            #expect(page.text.contains("&lt;cus&gt;") && !page.text.contains("<cus>"))
            #expect(page.text.contains("USD 25.50"))
            #expect(try await h.get("/_sandbox/deposit-form/dep_req_unknown", apiKey: nil).status == 404)
        }
    }

    @Test("without amounts the default strategy applies; null customAmount prohibits custom amounts")
    func defaults() async throws {
        try await Harness.with { h in
            let plain = try await h.postDeposit(customer: "d1").json
            #expect(plain["amounts"] == .array([.number("10"), .number("20"), .number("30")]))
            #expect(plain["customAmount"] == .object([("minimum", .number("1")), ("multipleOf", .number("1")), ("maximum", .number("10000"))]))
            let prohibited = try await h.postDeposit(customer: "d2", extra: #""customAmount":null,"expirationTime":"2030-01-02T03:04:05Z""#).json
            #expect(prohibited["customAmount"] == .null)
            #expect(prohibited["expirationTime"] == .string("2030-01-02T03:04:05Z"))
        }
    }

    @Test("customAmount.maximum must be minimum + k·multipleOf with k > 0, compared exactly")
    func customAmountRule() async throws {
        try await Harness.with { h in
            func custom(_ min: String, _ step: String, _ max: String) async throws -> Exchange {
                try await h.postDeposit(customer: "c", extra: #""customAmount":{"minimum":\#(min),"multipleOf":\#(step),"maximum":\#(max)}"#)
            }
            // 0.1 + 3 × 0.2 is 0.7000000000000001 in binary floating point; exactly 0.7 in decimal.
            #expect(try await custom("0.1", "0.2", "0.7").status == 201)
            #expect(try await custom("5.30", "0.50", "6.30").status == 201)
            #expect(try await custom("1", "1", "10000").status == 201)
            for (min, step, max) in [("5.30", "0.50", "6.31"), ("5", "1", "5"), ("5", "1", "4"), ("0.01", "0.03", "0.05")] {
                let r = try await custom(min, step, max)
                #expect(r.status == 422, "\(min) + k·\(step) = \(max)")
                #expect(try r.json.invalidFieldNames == ["customAmount.maximum"])
            }
            #expect(try await h.stats()["depositRequests"]?.intValue == 3)
        }
    }

    @Test("422 names every invalid field")
    func validationNamesFields() async throws {
        try await Harness.with { h in
            let r = try await h.post("/deposit-requests", """
            {"customerId":"cus_1","currency":"EURO","amounts":[10,0.001,"x"],"amountLimits":{},
             "customAmount":{"minimum":0,"maximum":5},"expirationTime":"tomorrow","strategyId":7,
             "notificationUrl":"http://x.example/{id}","transactionIds":[]}
            """)
            #expect(r.status == 422)
            #expect(try r.json.invalidFieldNames == [
                "transactionIds", "websiteId", "currency", "strategyId", "expirationTime",
                "amounts.1", "amounts.2", "amountLimits", "customAmount.minimum", "customAmount.multipleOf",
            ])
            #expect(try await h.stats()["depositRequests"]?.intValue == 0)
        }
    }

    @Test("GET /deposit-requests/{id}: 200 or 404")
    func getOne() async throws {
        try await Harness.with { h in
            let created = try await h.postDeposit(customer: "g1").json
            let id = try #require(created["id"]?.stringValue)
            let r = try await h.get("/deposit-requests/\(id)")
            #expect(r.status == 200)
            #expect(try r.json == created)
            let missing = try await h.get("/deposit-requests/dep_req_nope")
            #expect(missing.status == 404)
            #expect(try missing.json["detail"] == .string("Deposit request not found"))
        }
    }

    @Test("no idempotency: the same body twice makes two deposit requests, visible in stats")
    func duplicatesAreVisible() async throws {
        try await Harness.with { h in
            _ = try await h.postDeposit(customer: "dup")
            _ = try await h.postDeposit(customer: "dup")
            _ = try await h.postDeposit(customer: "single", currency: "EUR")
            let stats = try await h.stats()
            #expect(stats["depositRequests"]?.intValue == 3)
            #expect(stats["duplicateDepositRequests"]?.intValue == 1)
            #expect(stats["depositRequestsPerCashier"] == .array([
                .object([("customerId", .string("dup")), ("websiteId", .string("web_1")), ("currency", .string("USD")), ("count", .int(2))]),
                .object([("customerId", .string("single")), ("websiteId", .string("web_1")), ("currency", .string("EUR")), ("count", .int(1))]),
            ]))
        }
    }
}

@Suite("GET /deposit-requests filters, sort and pagination")
struct DepositRequestCollectionTests {
    @Test("filter by customerId values and websiteId, newest first, with pagination headers")
    func filterSortPaginate() async throws {
        try await Harness.with { h in
            var ids: [String: [String]] = [:]
            // One second each, so the order is the sort's alone.
            for (second, (customer, website)) in [("a", "w1"), ("b", "w1"), ("a", "w2"), ("c", "w1"), ("a", "w1"), ("b", "w1")].enumerated() {
                let id = try await FilterSyntaxTests.made(h, customer: customer, website: website, at: "2026-07-21T01:00:0\(second)Z")
                ids[customer + website, default: []].append(id)
            }
            let expectedOldestFirst = [ids["aw1"]![0], ids["bw1"]![0], ids["aw1"]![1], ids["bw1"]![1]]

            let newest = try await h.get("/deposit-requests?filter=customerId:a,b;websiteId:w1&sort=-createdTime")
            #expect(newest.status == 200)
            #expect(try newest.json.arrayValue?.compactMap { $0["id"]?.stringValue } == expectedOldestFirst.reversed())
            #expect(newest.header("Pagination-Total") == "4")
            #expect(newest.header("Pagination-Limit") == "100")
            #expect(newest.header("Pagination-Offset") == "0")

            let page = try await h.get("/deposit-requests?filter=customerId:a,b;websiteId:w1&sort=createdTime&limit=2&offset=1")
            #expect(try page.json.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(expectedOldestFirst[1...2]))
            #expect(page.header("Pagination-Total") == "4")
            #expect(page.header("Pagination-Limit") == "2")
            #expect(page.header("Pagination-Offset") == "1")

            let encoded = try await h.get("/deposit-requests?filter=customerId%3Ac%3BwebsiteId%3Aw1")
            #expect(try encoded.json.arrayValue?.count == 1)
            #expect(try await h.get("/deposit-requests?limit=0").json == .array([]))
            let all = try await h.get("/deposit-requests")
            #expect(all.header("Pagination-Total") == "6")
        }
    }

    @Test("the pages of one listing are one ordering; a deposit request created between pages is in the next")
    func pagesOfAListing() async throws {
        try await Harness.with { h in
            var made: [String] = []
            for i in 0..<5 { made.append(try await h.postDeposit(customer: "p\(i)", website: "w1").json["id"]?.stringValue ?? "") }
            func page(_ offset: Int, limit: Int = 2, _ sort: String = "createdTime") async throws -> (ids: [String], total: String?) {
                let r = try await h.get("/deposit-requests?filter=websiteId:w1&sort=\(sort)&limit=\(limit)&offset=\(offset)")
                #expect(r.status == 200, "\(r.text)")
                return (try r.json.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [], r.header("Pagination-Total"))
            }
            let whole = try await page(0, limit: 100).ids
            #expect(Set(whole) == Set(made))
            #expect(try await page(0).ids == Array(whole[0...1]))
            // Another ordering of the same filter in between does not disturb this one.
            #expect(try await page(0, limit: 100, "-createdTime").ids.count == 5)
            #expect(try await page(2).ids == Array(whole[2...3]))
            // A new request (a later second, or the same one) is seen by the next page and counted in its total.
            try await Task.sleep(for: .milliseconds(1_100))
            let late = try await h.postDeposit(customer: "p5", website: "w1").json["id"]?.stringValue ?? ""
            let after = try await page(4)
            #expect(after.ids == [whole[4], late] && after.total == "6")
        }
    }

    @Test("422 for limit/offset outside 0–1000 and unknown filter or sort fields")
    func badParameters() async throws {
        try await Harness.with { h in
            let r = try await h.get("/deposit-requests?limit=1001&offset=-1&filter=colour:red&sort=amount")
            #expect(r.status == 422)
            #expect(try r.json.invalidFieldNames == ["filter", "sort", "limit", "offset"])
        }
    }

    @Test("a website's night read in keyed pages, oldest first: every page as the whole filtered and sorted store has it")
    func keyedPagesOfAWebsiteNight() throws {
        let store = SandboxStore(preload: [])
        let base = Date(timeIntervalSince1970: 1_790_000_000)
        func input(_ customer: String, _ website: String) -> DepositRequestInput {
            DepositRequestInput(websiteId: website, customerId: customer, currency: "USD", strategyId: nil, amounts: nil,
                                amountLimits: nil, customAmount: .absent, redirectUrl: nil, expirationTime: nil,
                                customPropertySetId: nil, notificationUrl: nil)
        }
        // Three seconds; several requests in each, two websites interleaved (one written in another case).
        for i in 0..<30 {
            _ = store.createDepositRequest(input("c\(i)", i % 3 == 0 ? "web_B" : (i % 2 == 0 ? "web_a" : "WEB_A")),
                                           now: base.addingTimeInterval(Double(i / 10) + Double(i % 10) / 100))
        }
        func listed(_ filter: String, sort: String, limit: Int, offset: Int) throws -> (ids: [String], total: Int) {
            let query = try CollectionQuery.parse(filter: filter, sort: sort, limit: String(limit), offset: String(offset))
            let (page, total) = store.depositRequests(query)
            return (page.map(\.id), total)
        }
        func expected(_ filter: String, sort: String, limit: Int, offset: Int) throws -> (ids: [String], total: Int) {
            let query = try CollectionQuery.parse(filter: filter, sort: sort, limit: String(limit), offset: String(offset))
            let all = store.snapshot().depositRequests.filter(query.matches).sorted(by: query.areInOrder)
            return (all.dropFirst(offset).prefix(limit).map(\.id), all.count)
        }
        let second = { (n: Int) in Timestamps.format(base.addingTimeInterval(Double(n))) }
        let filters = ["websiteId:web_a", "websiteId:web_a;createdTime:\(second(1))..", "websiteId:WEB_A;createdTime:\(second(1))..\(second(1))",
                       "websiteId:web_b;createdTime:..\(second(1))", "websiteId:web_a;createdTime:\(second(2))..\(second(0))",
                       "websiteId:web_a;customerId:c4,c8,c22"]
        func everyPageAsTheStoreHasIt() throws {
            for filter in filters {
                for sort in ["createdTime", "createdTime,-updatedTime", "createdTime,currency"] {
                    for (limit, offset) in [(3, 0), (3, 2), (4, 5), (1000, 0), (0, 0), (2, 30)] {
                        let got = try listed(filter, sort: sort, limit: limit, offset: offset)
                        let want = try expected(filter, sort: sort, limit: limit, offset: offset)
                        #expect(got.ids == want.ids && got.total == want.total, "\(filter) sort=\(sort) limit=\(limit) offset=\(offset)")
                    }
                }
            }
        }
        try everyPageAsTheStoreHasIt()
        // web_a holds 20 requests (i not a multiple of 3), 7 of them in the second second.
        #expect(try listed("websiteId:web_a", sort: "createdTime", limit: 1000, offset: 0).total == 20)
        #expect(try listed("websiteId:web_a;createdTime:\(second(1))..\(second(1))", sort: "createdTime", limit: 1000, offset: 0).total == 7)

        // A request whose clock is a second behind the last one's (two requests at once take the lock
        // in another order than their clocks): it is listed in its own second.
        let late = store.createDepositRequest(input("late", "web_a"), now: base.addingTimeInterval(1.5)).id
        try everyPageAsTheStoreHasIt()
        let second1 = try listed("websiteId:web_a;createdTime:\(second(1))..\(second(1))", sort: "createdTime", limit: 1000, offset: 0)
        #expect(second1.total == 8 && second1.ids.contains(late))
    }
}
