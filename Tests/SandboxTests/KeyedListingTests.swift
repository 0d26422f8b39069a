import Foundation
import Testing
@testable import Sandbox

/// The store's keyed listings (one customer's, else one website's requests, oldest first, in a
/// createdTime window): every page exactly as the whole store filtered and sorted has it, and
/// fast enough for a night of thousands of requests per customer.
@Suite("Keyed listings of a customer or a website")
struct KeyedListingTests {
    static let base = Date(timeIntervalSince1970: 1_790_000_000)

    static func input(_ customer: String, _ website: String, _ currency: String = "USD") -> DepositRequestInput {
        DepositRequestInput(websiteId: website, customerId: customer, currency: currency, strategyId: nil, amounts: nil,
                            amountLimits: nil, customAmount: .absent, redirectUrl: nil, expirationTime: nil,
                            customPropertySetId: nil, notificationUrl: nil)
    }

    static func listed(_ store: SandboxStore, _ filter: String, sort: String, limit: Int, offset: Int) throws -> (ids: [String], total: Int) {
        let query = try CollectionQuery.parse(filter: filter, sort: sort, limit: String(limit), offset: String(offset))
        let (page, total) = store.depositRequests(query)
        return (page.map(\.id), total)
    }

    static func expected(_ store: SandboxStore, _ filter: String, sort: String, limit: Int, offset: Int) throws -> (ids: [String], total: Int) {
        let query = try CollectionQuery.parse(filter: filter, sort: sort, limit: String(limit), offset: String(offset))
        let all = store.snapshot().depositRequests.filter(query.matches).sorted(by: query.areInOrder)
        return (all.dropFirst(offset).prefix(limit).map(\.id), all.count)
    }

    @Test("a customer's pages on a website in a createdTime window, as the whole store has them")
    func customerPagesAsTheStoreHasThem() throws {
        let store = SandboxStore(preload: [])
        // Six customers (one written in two cases), two websites, two currencies, several per second.
        for i in 0..<240 {
            let customer = i % 6 == 5 ? (i % 4 == 1 ? "CUS_5" : "cus_5") : "cus_\(i % 6)"
            _ = store.createDepositRequest(Self.input(customer, i % 5 == 0 ? "web_b" : "web_a", i % 7 == 0 ? "EUR" : "USD"),
                                           now: Self.base.addingTimeInterval(Double(i / 8) + Double(i % 8) / 10))
        }
        // Two whose clocks are behind the last one's (requests created at once take the lock out of order).
        _ = store.createDepositRequest(Self.input("cus_1", "web_a"), now: Self.base.addingTimeInterval(3.5))
        _ = store.createDepositRequest(Self.input("cus_5", "web_a"), now: Self.base.addingTimeInterval(10.2))
        let second = { (n: Int) in Timestamps.format(Self.base.addingTimeInterval(Double(n))) }
        let filters = [
            "customerId:cus_1;websiteId:web_a", "customerId:CUS_1;websiteId:web_a;createdTime:\(second(3))..\(second(20))",
            "customerId:cus_5;websiteId:WEB_A;createdTime:\(second(10))..", "customerId:cus_5;websiteId:web_a;createdTime:..\(second(10))",
            "customerId:cus_2;websiteId:web_b;createdTime:\(second(4))..\(second(4))", "customerId:cus_3;websiteId:web_a;currency:EUR",
            "customerId:cus_4", "customerId:cus_0;websiteId:web_a;createdTime:\(second(9))..\(second(2))", "customerId:nobody;websiteId:web_a",
            "websiteId:web_a;createdTime:\(second(3))..\(second(6))",
        ]
        for filter in filters {
            for sort in ["createdTime", "createdTime,currency", "createdTime,-updatedTime"] {
                for (limit, offset) in [(3, 0), (3, 2), (4, 5), (1000, 0), (0, 0), (2, 30), (10, 1000)] {
                    let got = try Self.listed(store, filter, sort: sort, limit: limit, offset: offset)
                    let want = try Self.expected(store, filter, sort: sort, limit: limit, offset: offset)
                    #expect(got.ids == want.ids && got.total == want.total, "\(filter) sort=\(sort) limit=\(limit) offset=\(offset)")
                }
            }
        }
        #expect(try Self.listed(store, "customerId:cus_5;websiteId:web_a", sort: "createdTime", limit: 1000, offset: 0).total == 33)
    }

    @Test("40 customers with 1,100 requests each on one website: every customer read in pages of 100 and 1000, quickly")
    func aNightOfThousandsPerCustomer() throws {
        var cashiers: [PreloadedCashier] = []
        for i in 0..<40 { cashiers.append(PreloadedCashier(customerId: "cus_\(i)", websiteId: "web_n", currency: i % 3 == 0 ? "EUR" : "USD")) }
        let now = Date()
        let store = SandboxStore(preload: cashiers, now: now, history: DepositHistory(count: 1100, seed: 9))
        #expect(store.snapshot().depositRequests.count == 44_000)
        let from = Timestamps.format(now.addingTimeInterval(-10 * 86_400)), to = Timestamps.format(now)
        let clock = ContinuousClock()
        let started = clock.now
        let examinedBefore = store.listingExamined
        var pages = 0
        for (i, cashier) in cashiers.enumerated() {
            for limit in [100, 1000] {
                // Keyset pages: each starts at the second after the last one read (a customer has one request a second at most).
                var read: [String] = []
                var lower = from
                while true {
                    let query = try CollectionQuery.parse(
                        filter: "customerId:\(cashier.customerId);websiteId:web_n;createdTime:\(lower)..\(to)", sort: "createdTime",
                        limit: String(limit), offset: nil)
                    let (page, total) = store.depositRequests(query)
                    pages += 1
                    if read.isEmpty { #expect(total == 1100) }
                    read += page.map(\.id)
                    guard page.count == limit, let last = page.last else { break }
                    lower = Timestamps.format(last.createdTime.addingTimeInterval(1))
                }
                #expect(read.count == 1100 && Set(read).count == 1100, "cus_\(i) limit \(limit)")
            }
        }
        let elapsed = clock.now - started
        // Each page reads only its customer's requests in its window, never the website's 44,000.
        #expect(pages == 40 * (12 + 2))
        #expect(store.listingExamined - examinedBefore <= pages * 1100, "\(store.listingExamined - examinedBefore) read for \(pages) pages")
        #expect(elapsed < .seconds(120), "\(elapsed)")
        // The website's whole night in pages of 1000 by createdTime ranges.
        var website = 0
        var lower = from
        for _ in 0..<60 {
            let query = try CollectionQuery.parse(filter: "websiteId:web_n;createdTime:\(lower)..\(to)", sort: "createdTime", limit: "1000", offset: nil)
            let (page, _) = store.depositRequests(query)
            guard let last = page.last else { break }
            let lastSecond = CollectionQuery.wholeSecond(last.createdTime)
            website += page.filter { CollectionQuery.wholeSecond($0.createdTime) < lastSecond }.count
            if page.count < 1000 { website += page.count - page.filter { CollectionQuery.wholeSecond($0.createdTime) < lastSecond }.count; break }
            lower = Timestamps.format(Date(timeIntervalSince1970: TimeInterval(lastSecond)))
        }
        #expect(website == 44_000)

        // A narrow window of the website reads that window only (the keyed path), not the store.
        let hour = (Timestamps.format(now.addingTimeInterval(-3 * 3600)), Timestamps.format(now.addingTimeInterval(-2 * 3600)))
        for filter in ["websiteId:web_n;createdTime:\(hour.0)..\(hour.1)", "customerId:cus_7;websiteId:web_n;createdTime:\(hour.0)..\(hour.1)"] {
            let before = store.listingExamined
            let query = try CollectionQuery.parse(filter: filter, sort: "createdTime", limit: "1000", offset: nil)
            let (page, total) = store.depositRequests(query)
            let want = try Self.expected(store, filter, sort: "createdTime", limit: 1000, offset: 0)
            #expect(page.map(\.id) == want.ids && total == want.total && total > 0, "\(filter)")
            #expect(store.listingExamined - before <= 40 * 7, "\(filter): \(store.listingExamined - before) read")
        }
    }
}
