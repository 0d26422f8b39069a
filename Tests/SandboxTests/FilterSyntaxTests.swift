import Foundation
import Testing
@testable import Sandbox

/// Rebilly's filter syntax on `GET /deposit-requests`, over a socket: `,` OR, `;` AND, `!`
/// negation, `a..b` ranges (open at either end), RFC 3339 times to the second, case-insensitive
/// text, and 422 for named lists.
@Suite("GET /deposit-requests: Rebilly's filter syntax")
struct FilterSyntaxTests {
    /// The customerIds of a listing, in its order.
    static func customers(_ h: Harness, _ query: String) async throws -> [String] {
        let r = try await h.get("/deposit-requests?" + query)
        #expect(r.status == 200, "\(query): \(r.text)")
        return try r.json.arrayValue?.compactMap { $0["customerId"]?.stringValue } ?? []
    }

    /// A deposit request another client made at `createdTime` (the sandbox-only endpoint).
    static func made(_ h: Harness, customer: String, website: String = "web_1", currency: String = "USD",
                     at createdTime: String) async throws -> String {
        let r = try await h.post("/_sandbox/deposit-requests",
                                 #"{"customerId":"\#(customer)","websiteId":"\#(website)","currency":"\#(currency)","createdTime":"\#(createdTime)"}"#)
        #expect(r.status == 201, "\(r.text)")
        return try #require(try r.json["id"]?.stringValue)
    }

    @Test("`,` is OR, `;` is AND (a field named twice too), `!` excludes, text matches case-insensitively")
    func orAndNotCase() async throws {
        try await Harness.with { h in
            // One second each, so the order is the sort's alone.
            _ = try await Self.made(h, customer: "Cus_A", website: "web_1", at: "2026-07-21T01:00:00Z")
            _ = try await Self.made(h, customer: "cus_b", website: "web_1", currency: "EUR", at: "2026-07-21T01:00:01Z")
            _ = try await Self.made(h, customer: "cus_b", website: "WEB_2", at: "2026-07-21T01:00:02Z")
            _ = try await Self.made(h, customer: "cus_c", website: "web_2", at: "2026-07-21T01:00:03Z")
            let sorted = "&sort=createdTime"
            #expect(try await Self.customers(h, "filter=customerId:cus_a,CUS_B" + sorted) == ["Cus_A", "cus_b", "cus_b"])
            #expect(try await Self.customers(h, "filter=customerId:cus_a,cus_b;websiteId:web_2" + sorted) == ["cus_b"])
            #expect(try await Self.customers(h, "filter=websiteId:Web_2" + sorted) == ["cus_b", "cus_c"])
            #expect(try await Self.customers(h, "filter=customerId:!cus_a,!cus_b" + sorted) == ["cus_c"])
            #expect(try await Self.customers(h, "filter=customerId:cus_a,cus_b,!CUS_B" + sorted) == ["Cus_A"])
            #expect(try await Self.customers(h, "filter=customerId:cus_a;customerId:cus_b" + sorted) == [])
            #expect(try await Self.customers(h, "filter=currency:eur" + sorted) == ["cus_b"])
            #expect(try await Self.customers(h, "filter=currency:!usd;websiteId:web_1" + sorted) == ["cus_b"])
            // A text range, inclusive at both ends and case-insensitive.
            #expect(try await Self.customers(h, "filter=customerId:CUS_B..cus_c" + sorted) == ["cus_b", "cus_b", "cus_c"])
            #expect(try await Self.customers(h, "filter=customerId:..cus_a" + sorted) == ["Cus_A"])
            let all = try await h.get("/deposit-requests?filter=customerId:cus_b,cus_c")
            #expect(all.header("Pagination-Total") == "3")
        }
    }

    @Test("createdTime and updatedTime: ranges closed and open, equality, negation, offsets, to the second")
    func timeRanges() async throws {
        try await Harness.with { h in
            let first = try await Self.made(h, customer: "t0", at: "2026-07-21T01:00:00.900Z")
            _ = try await Self.made(h, customer: "t10", at: "2026-07-21T01:00:10.500Z")
            _ = try await Self.made(h, customer: "t20", at: "2026-07-21T01:00:20Z")
            let sorted = "&sort=createdTime"
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T01:00:00Z..2026-07-21T01:00:10Z" + sorted) == ["t0", "t10"])
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T01:00:01Z..2026-07-21T01:00:19Z" + sorted) == ["t10"])
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T01:00:10Z.." + sorted) == ["t10", "t20"])
            #expect(try await Self.customers(h, "filter=createdTime:..2026-07-21T01:00:10Z" + sorted) == ["t0", "t10"])
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T01:00:10Z" + sorted) == ["t10"])
            #expect(try await Self.customers(h, "filter=createdTime:!2026-07-21T01:00:10Z..2026-07-21T01:00:20Z" + sorted) == ["t0"])
            // The same instants written with an offset; %2B is the '+' of the offset in a query.
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T03:00:05%2B02:00..2026-07-21T03:00:20%2B02:00" + sorted) == ["t10", "t20"])
            #expect(try await Self.customers(h, "filter=updatedTime:..2026-07-21T01:00:00Z;customerId:T0" + sorted) == ["t0"])
            #expect(try await Self.customers(h, "filter=createdTime:2026-07-21T01:00:00Z,2026-07-21T01:00:20Z" + sorted) == ["t0", "t20"])
            let byID = try await h.get("/deposit-requests?filter=id:\(first.lowercased())")
            #expect(try byID.json.arrayValue?.count == 1, "ids match case-insensitively too")
        }
    }

    @Test("ties on createdTime are ties to the second, in an order of the sandbox's own: not by id, the same both ways")
    func tiesToTheSecond() async throws {
        try await Harness.with { h in
            let late = try await Self.made(h, customer: "late", at: "2026-07-21T01:00:01.100Z")
            var tied: [String] = []
            for i in 0..<12 { tied.append(try await Self.made(h, customer: "t\(i)", at: "2026-07-21T01:00:00.\(100 + i * 50)Z")) }
            func ids(_ sort: String) async throws -> [String] {
                let r = try await h.get("/deposit-requests?filter=websiteId:web_1&sort=\(sort)")
                #expect(r.status == 200, "\(r.text)")
                return try r.json.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            let newest = try await ids("-createdTime")
            #expect(newest.first == late && Set(newest.dropFirst()) == Set(tied), "the later second first")
            let oldest = try await ids("createdTime")
            #expect(oldest.last == late && Array(oldest.dropLast()) == Array(newest.dropFirst()), "ties keep their order either way")
            let inSecond = Array(oldest.dropLast())
            #expect(inSecond != tied.sorted() && inSecond != tied.sorted().reversed(), "a client cannot rely on ids within a second")
            #expect(inSecond != tied, "nor on creation order")
            #expect(try await ids("createdTime") == oldest, "the same listing twice is the same")
        }
    }

    @Test("sort takes only Rebilly's x-sortable members of DepositRequest; another answers 422 naming it")
    func sortableMembers() async throws {
        try await Harness.with { h in
            for sort in ["createdTime", "-createdTime", "updatedTime", "-updatedTime", "currency", "-currency", "currency,-createdTime"] {
                #expect(try await h.get("/deposit-requests?sort=" + sort).status == 200, "\(sort)")
            }
            for (sort, member) in [("id", "id"), ("createdTime,id", "id"), ("-id", "id"), ("customerId", "customerId"), ("createdTime,-websiteId", "websiteId")] {
                let r = try await h.get("/deposit-requests?sort=" + sort)
                #expect(r.status == 422, "\(sort)")
                let fields = try r.json["invalidFields"]?.arrayValue ?? []
                #expect(fields.count == 1 && fields.first?["field"] == .string("sort"), "\(sort): \(r.text)")
                let message = fields.first?["message"]?.stringValue ?? ""
                #expect(message.contains("'\(member)'"), "\(sort): \(message)")
            }
        }
    }

    @Test("limit and offset are at most 1000 (collectionLimit, collectionOffset): 1001 answers 422")
    func pageBounds() async throws {
        try await Harness.with { h in
            for query in ["offset=1000", "limit=1000", "limit=1000&offset=1000", "offset=0&limit=0"] {
                let r = try await h.get("/deposit-requests?" + query)
                #expect(r.status == 200, "\(query): \(r.text)")
            }
            for (query, field) in [("offset=1001", "offset"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("limit=x", "limit")] {
                let r = try await h.get("/deposit-requests?" + query)
                #expect(r.status == 422, "\(query)")
                #expect(try r.json.invalidFieldNames == [field], "\(query)")
            }
            let offset = try await h.get("/deposit-requests?offset=1000")
            #expect(offset.header("Pagination-Offset") == "1000" && offset.header("Pagination-Total") == "0")
        }
    }

    @Test("422: named lists, a time that is not RFC 3339, a range without bounds, an empty value")
    func refusals() async throws {
        try await Harness.with { h in
            for filter in ["customerId:@vip", "customerId:!@vip", "customerId:cus_1,@vip"] {
                let r = try await h.get("/deposit-requests?filter=" + filter)
                #expect(r.status == 422, "\(filter)")
                let message = try r.json["invalidFields"]?.arrayValue?.first?["message"]?.stringValue ?? ""
                #expect(message.hasPrefix("named lists are not supported by the sandbox"), "\(filter): \(message)")
            }
            for filter in ["createdTime:yesterday", "createdTime:2026-07-21..later", "createdTime:..", "customerId:!"] {
                let r = try await h.get("/deposit-requests?filter=" + filter)
                #expect(r.status == 422, "\(filter): \(r.text)")
                #expect(try r.json.invalidFieldNames == ["filter"], "\(filter)")
            }
        }
    }
}
