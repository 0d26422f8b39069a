import Foundation

/// The sandbox's in-memory data: cashiers (one per customer/website/currency) and deposit
/// requests. Every operation runs under one lock, so "find or create" is atomic.
final class SandboxStore: Sendable {
    private struct State {
        var cashiers: [String: CashierRecord] = [:]
        var cashierIdsByKey: [CashierKey: String] = [:]
        var cashierOrder: [String] = []
        var depositRequests: [DepositRequestRecord] = []
        var depositIndex: [String: Int] = [:]
        /// Positions in `depositRequests` per lowercased customerId (filters match case-insensitively),
        /// so filtered lists do not scan everything.
        var depositsByCustomer: [String: [Int]] = [:]
        /// Positions in `depositRequests` per lowercased websiteId, in order of createdTime's second
        /// (requests created at once may take the lock in another order than their clocks).
        var depositsByWebsite: [String: [Int]] = [:]
        /// The last listing's matches, sorted, while no deposit request has been created since:
        /// the pages of one listing filter and sort the store once, not once per page.
        var lastListing: (selection: String, count: Int, matching: [DepositRequestRecord])?
        var ids = ULIDGenerator()
        var tokens = SystemRandomNumberGenerator()
    }

    private let state = Locked(State())

    init(preload: [PreloadedCashier], now: Date = Date()) {
        state.withLock { s in
            for cashier in preload {
                let id = cashier.id ?? "cashier_" + s.ids.next(now: now)
                let amounts = cashier.exactAmounts
                let created = cashier.createdTime ?? now
                let record = CashierRecord(
                    id: id, customerId: cashier.customerId, websiteId: cashier.websiteId, currency: cashier.currency,
                    balance: amounts.balance, bonusBalance: amounts.bonusBalance, pendingPayoutTotal: amounts.pendingPayoutTotal,
                    canWithdraw: cashier.canWithdraw ?? (cashier.balance > 0), depositLimits: nil, redirectUrl: cashier.redirectUrl, notificationUrl: cashier.notificationUrl,
                    expirationTime: created.addingTimeInterval(3600), createdTime: created, updatedTime: created, preloaded: true
                )
                Self.insert(record, into: &s)
            }
        }
    }

    private static func insert(_ record: CashierRecord, into s: inout State) {
        s.cashiers[record.id] = record
        s.cashierIdsByKey[record.key] = record.id
        s.cashierOrder.append(record.id)
    }

    /// Returns the existing cashier for the input's (customerId, websiteId, currency) unchanged,
    /// or creates one. `created` tells which.
    func findOrCreateCashier(_ input: CashierInput, now: Date = Date()) -> (cashier: CashierRecord, created: Bool) {
        state.withLock { s in
            let key = CashierKey(customerId: input.customerId, websiteId: input.websiteId, currency: input.currency)
            if let id = s.cashierIdsByKey[key], let existing = s.cashiers[id] {
                return (existing, false)
            }
            let record = CashierRecord(
                id: "cashier_" + s.ids.next(now: now),
                customerId: input.customerId, websiteId: input.websiteId, currency: input.currency,
                balance: input.balance ?? .zero, bonusBalance: input.bonusBalance ?? .zero,
                pendingPayoutTotal: input.pendingPayoutTotal ?? .zero,
                canWithdraw: (input.balance?.value ?? 0) > 0, depositLimits: input.depositLimits,
                redirectUrl: input.redirectUrl, notificationUrl: input.notificationUrl,
                expirationTime: now.addingTimeInterval(3600), createdTime: now, updatedTime: now, preloaded: false
            )
            Self.insert(record, into: &s)
            return (record, true)
        }
    }

    func cashier(id: String) -> CashierRecord? {
        state.withLock { $0.cashiers[id] }
    }

    /// Sets a cashier's figures as Rebilly's own activity would (deposits, payouts, bonuses);
    /// nil leaves a figure as it is. Returns the updated cashier, or nil for an unknown id.
    func setFigures(id: String, balance: ExactNumber?, bonusBalance: ExactNumber?, pendingPayoutTotal: ExactNumber?,
                    canWithdraw: Bool?, now: Date = Date()) -> CashierRecord? {
        state.withLock { s in
            guard var record = s.cashiers[id] else { return nil }
            if let balance { record.balance = balance }
            if let bonusBalance { record.bonusBalance = bonusBalance }
            if let pendingPayoutTotal { record.pendingPayoutTotal = pendingPayoutTotal }
            if let canWithdraw { record.canWithdraw = canWithdraw }
            record.updatedTime = now
            s.cashiers[id] = record
            return record
        }
    }

    /// Always creates a new deposit request: the API has no idempotency key. `foreign` marks one
    /// another client of the organization made (kept apart in the statistics, never in answers).
    func createDepositRequest(_ input: DepositRequestInput, now: Date = Date(), foreign: Bool = false) -> DepositRequestRecord {
        state.withLock { s in
            var tokenBytes = ""
            for _ in 0..<2 { tokenBytes += String(s.tokens.next(), radix: 16) }
            let record = DepositRequestRecord(
                id: "dep_req_" + s.ids.next(now: now), input: input, cashierToken: "sandbox." + tokenBytes,
                expirationTime: input.expirationTime ?? now.addingTimeInterval(3600),
                createdTime: now, updatedTime: now, sequence: s.depositRequests.count, foreign: foreign
            )
            s.depositIndex[record.id] = s.depositRequests.count
            s.depositsByCustomer[input.customerId.lowercased(), default: []].append(s.depositRequests.count)
            Self.indexByWebsite(s.depositRequests.count, site: input.websiteId.lowercased(),
                                second: CollectionQuery.wholeSecond(now), in: &s)
            s.depositRequests.append(record)
            return record
        }
    }

    func depositRequest(id: String) -> DepositRequestRecord? {
        state.withLock { s in s.depositIndex[id].map { s.depositRequests[$0] } }
    }

    /// All deposit requests matching `query`'s filter, sorted, and the page `query` asks for.
    func depositRequests(_ query: CollectionQuery) -> (page: [DepositRequestRecord], total: Int) {
        if let window = state.withLock({ s in Self.websiteWindow(query, in: s) }) { return window }
        let selection = query.selection
        let (candidates, count, listed) = state.withLock { s -> ([DepositRequestRecord], Int, [DepositRequestRecord]?) in
            let count = s.depositRequests.count
            if let last = s.lastListing, last.selection == selection, last.count == count { return ([], count, last.matching) }
            guard let customers = query.customerCandidates else { return (s.depositRequests, count, nil) }
            let positions = Set(customers.flatMap { s.depositsByCustomer[$0.lowercased()] ?? [] })
            return (positions.sorted().map { s.depositRequests[$0] }, count, nil)
        }
        let matching = listed ?? candidates.filter(query.matches).sorted(by: query.areInOrder)
        if listed == nil {
            state.withLock { s in if s.depositRequests.count == count { s.lastListing = (selection, count, matching) } }
        }
        let page = matching.dropFirst(query.offset).prefix(query.limit)
        return (Array(page), matching.count)
    }

    /// Adds a request's position to its website's, after every one whose createdTime's second is not
    /// later (searched from the end: a new request is almost always the latest).
    private static func indexByWebsite(_ position: Int, site: String, second: Int64, in s: inout State) {
        var positions = s.depositsByWebsite.removeValue(forKey: site) ?? []
        var index = positions.endIndex
        while index > 0, CollectionQuery.wholeSecond(s.depositRequests[positions[index - 1]].createdTime) > second { index -= 1 }
        positions.insert(position, at: index)
        s.depositsByWebsite[site] = positions
    }

    /// A listing of one website's requests oldest first (a night read in keyed pages): its window
    /// of createdTime found by binary search in the website's positions, every request in it
    /// checked and counted, and only the first `offset + limit` (with the rest of the last one's
    /// second, whose order the sort's next key decides) sorted. nil: the query is not of that form.
    private static func websiteWindow(_ query: CollectionQuery, in s: State) -> (page: [DepositRequestRecord], total: Int)? {
        guard let website = query.websiteCandidate,
              let first = query.sort.first, first.field == "createdTime", !first.descending else { return nil }
        guard let positions = s.depositsByWebsite[website.lowercased()] else { return ([], 0) }
        func second(_ i: Int) -> Int64 { CollectionQuery.wholeSecond(s.depositRequests[positions[i]].createdTime) }
        /// The first index in `from..<positions.count` where `holds` (false before it, true from it on).
        func boundary(from: Int, _ holds: (Int) -> Bool) -> Int {
            var (low, high) = (from, positions.count)
            while low < high {
                let mid = (low + high) / 2
                if holds(mid) { high = mid } else { low = mid + 1 }
            }
            return low
        }
        let window = query.createdTimeWindow
        let start = window.lower.map { lower in boundary(from: 0) { second($0) >= lower } } ?? 0
        let end = window.upper.map { upper in boundary(from: start) { second($0) > upper } } ?? positions.count
        let needed = query.offset + query.limit
        var total = 0
        var leading: [DepositRequestRecord] = []
        var lastSecond: Int64?
        for index in start..<end {
            let record = s.depositRequests[positions[index]]
            guard query.matches(record) else { continue }
            total += 1
            let recordSecond = CollectionQuery.wholeSecond(record.createdTime)
            if leading.count < needed || recordSecond == lastSecond {
                leading.append(record)
                if leading.count == needed { lastSecond = recordSecond }
            }
        }
        return (Array(leading.sorted(by: query.areInOrder).dropFirst(query.offset).prefix(query.limit)), total)
    }

    /// Everything, in creation order (for inspection).
    func snapshot() -> (cashiers: [CashierRecord], depositRequests: [DepositRequestRecord]) {
        state.withLock { s in (s.cashierOrder.compactMap { s.cashiers[$0] }, s.depositRequests) }
    }

    var cashierCount: Int { state.withLock { $0.cashiers.count } }
}
