import Foundation
import Testing
@testable import Sandbox

/// `--history N`: each preloaded cashier's customer already has N deposit requests, made by the
/// operator's own site before the sandbox started, listed, found and counted like any other.
@Suite("History: deposit requests made before the start")
struct HistoryTests {
    static let preload = """
        {"customerId":"cus_usd","websiteId":"web_1","currency":"USD","balance":10}
        {"customerId":"cus_jpy","websiteId":"web_1","currency":"JPY"}
        {"customerId":"cus_bhd","websiteId":"web_2","currency":"BHD","organizationId":"org_b"}
        """

    /// A listing's items.
    static func items(_ h: Harness, _ query: String, prefix: String = "") async throws -> (items: [JSONValue], total: Int?) {
        let r = try await h.get(prefix + "/deposit-requests?" + query)
        #expect(r.status == 200, "\(query): \(r.text)")
        return (try r.json.arrayValue ?? [], r.header("Pagination-Total").flatMap { Int($0) })
    }

    static func time(_ item: JSONValue, _ member: String) -> Date? { item[member]?.stringValue.flatMap(Timestamps.parse) }

    @Test("each preloaded customer has N requests on its website and currency, all made and expired before the start")
    func requestsPerPreloadedCustomer() async throws {
        let started = Date()
        let preload = try PreloadedCashier.load(jsonLines: Self.preload)
        try await Harness.with({ $0.preload = preload; $0.history = 5; $0.seed = 3 }) { h in
            for (customer, website, currency, prefix) in [("cus_usd", "web_1", "USD", ""), ("cus_jpy", "web_1", "JPY", ""),
                                                          ("cus_bhd", "web_2", "BHD", "/organizations/org_b")] {
                let (items, total) = try await Self.items(h, "filter=customerId:\(customer);websiteId:\(website)&sort=createdTime", prefix: prefix)
                #expect(total == 5 && items.count == 5, "\(customer)")
                let created = items.compactMap { Self.time($0, "createdTime") }
                #expect(created.count == 5 && created == created.sorted() && Set(created).count == 5, "\(customer)")
                // The sandbox starts a moment after `started`, and counts from its whole second.
                #expect(created.allSatisfy { $0 <= started.addingTimeInterval(-3600 + 2) }, "\(customer): the newest is an hour old")
                #expect(created.first.map { started.timeIntervalSince($0) < 3600 + 5 * 600 + 5 } == true, "\(customer): one per ten minutes")
                for item in items {
                    #expect(item["currency"] == .string(currency) && item["redirectUrl"] == .string(DepositHistory.redirectUrl))
                    let expires = try #require(Self.time(item, "expirationTime"))
                    #expect(expires < started && expires > Self.time(item, "createdTime")!, "expired before the start")
                    let amounts = item["amounts"]?.arrayValue?.compactMap(\.numberLiteral) ?? []
                    let digits = currency == "JPY" ? 0 : currency == "BHD" ? 3 : 2
                    #expect(amounts.count == 3 && amounts.allSatisfy { ($0.split(separator: ".").dropFirst().first?.count ?? 0) == digits },
                            "\(currency): \(amounts)")
                    let id = try #require(item["id"]?.stringValue)
                    let one = try await h.get(prefix + "/deposit-requests/\(id)")
                    let read = try one.json
                    #expect(one.status == 200 && read == item)
                }
            }
            #expect(try await Self.items(h, "filter=websiteId:web_1").total == 10)
            let stats = try await h.stats()
            #expect(stats["depositRequests"]?.intValue == 0 && stats["duplicateDepositRequests"]?.intValue == 0)
            #expect(stats["foreignDepositRequests"]?.intValue == 15 && stats["historyDepositRequests"]?.intValue == 15)
            let state = try await h.get("/_sandbox/cashiers").json
            let requests = state["depositRequests"]?.arrayValue ?? []
            #expect(requests.count == 15 && requests.allSatisfy { $0["history"] == .bool(true) && $0["foreign"] == .bool(true) })
            // A request the API makes now is the newest, and not history.
            let made = try await h.postDeposit(customer: "cus_usd")
            let madeId = try made.json["id"]
            let newest = try await Self.items(h, "filter=customerId:cus_usd&sort=-createdTime&limit=1").items.first
            #expect(newest?["id"] == madeId && madeId != nil)
        }
    }

    @Test("the same seed gives the same history; no history without preloaded cashiers")
    func deterministicBySeed() async throws {
        let preload = try PreloadedCashier.load(jsonLines: Self.preload)
        /// Per customer of web_1, oldest first: each request's age relative to the customer's newest,
        /// its lifetime and its amounts (runs start at different seconds, so absolute times differ).
        func history(seed: UInt64) async throws -> [String: [String]] {
            try await Harness.with({ $0.preload = preload; $0.history = 4; $0.seed = seed }) { h in
                let items = try await Self.items(h, "filter=websiteId:web_1&sort=createdTime").items
                var rows: [String: [String]] = [:]
                for customer in ["cus_usd", "cus_jpy"] {
                    let mine = items.filter { $0["customerId"] == .string(customer) }
                    let newest = mine.last.flatMap { Self.time($0, "createdTime") } ?? Date()
                    rows[customer] = mine.map { item in
                        let created = Self.time(item, "createdTime") ?? Date()
                        let lifetime = (Self.time(item, "expirationTime") ?? created).timeIntervalSince(created)
                        let amounts = (item["amounts"]?.arrayValue ?? []).compactMap(\.numberLiteral).joined(separator: " ")
                        return "\(Int(newest.timeIntervalSince(created))) \(Int(lifetime)) \(amounts)"
                    }
                }
                return rows
            }
        }
        let first = try await history(seed: 11)
        #expect(first["cus_usd"]?.count == 4 && first["cus_jpy"]?.count == 4)
        #expect(try await history(seed: 11) == first)
        #expect(try await history(seed: 12) != first)

        try await Harness.with({ $0.history = 3 }) { h in
            let stats = try await h.stats()
            #expect(stats["historyDepositRequests"]?.intValue == 0)
        }
        #expect(SandboxConfiguration().history == 0)
        var bad = SandboxConfiguration()
        bad.history = -1
        #expect(bad.problems() == ["history must not be negative"])
    }

    @Test("a customer's 1,100 past requests read in keyed pages of 1000 by createdTime ranges, and its website's")
    func keyedPagesOverHistory() async throws {
        let started = Date()
        let preload = try PreloadedCashier.load(jsonLines: """
            {"customerId":"cus_a","websiteId":"web_k","currency":"USD"}
            {"customerId":"cus_b","websiteId":"web_k","currency":"USD"}
            {"customerId":"cus_c","websiteId":"web_k","currency":"EUR"}
            """)
        try await Harness.with({ $0.preload = preload; $0.history = 1100; $0.seed = 5 }) { h in
            let from = Timestamps.format(started.addingTimeInterval(-30 * 86_400)), to = Timestamps.format(started)
            // One customer: pages of 1000 in a createdTime range, the next range starting after the last second read.
            var seen: [String] = []
            var lower = from
            while true {
                let (items, total) = try await Self.items(h, "filter=customerId:CUS_A;websiteId:web_k;createdTime:\(lower)..\(to)&sort=createdTime&limit=1000")
                if seen.isEmpty { #expect(total == 1100) }
                seen += items.compactMap { $0["id"]?.stringValue }
                guard items.count == 1000, let last = items.last.flatMap({ Self.time($0, "createdTime") }) else { break }
                lower = Timestamps.format(last.addingTimeInterval(1))
            }
            #expect(seen.count == 1100 && Set(seen).count == 1100)
            // Offsets up to 1000 reach the same requests.
            let second = try await Self.items(h, "filter=customerId:cus_a;websiteId:web_k;createdTime:\(from)..\(to)&sort=createdTime&limit=1000&offset=1000")
            #expect(second.items.compactMap { $0["id"]?.stringValue } == Array(seen[1000...]))
            #expect(try await h.get("/deposit-requests?filter=customerId:cus_a;websiteId:web_k&offset=1001").status == 422)

            // The whole website: 3,300 requests, in ranges of whole seconds.
            var website = Set<String>()
            var websiteLower = from
            var pages = 0
            while pages < 20 {
                pages += 1
                let (items, _) = try await Self.items(h, "filter=websiteId:web_k;createdTime:\(websiteLower)..\(to)&sort=createdTime&limit=1000")
                for item in items { website.insert(item["id"]?.stringValue ?? "") }
                guard items.count == 1000, let last = items.last.flatMap({ Self.time($0, "createdTime") }) else { break }
                // The last second may go on past the page: read it again from its start.
                websiteLower = Timestamps.format(last)
            }
            #expect(website.count == 3300 && website.isSuperset(of: seen))
        }
    }
}
