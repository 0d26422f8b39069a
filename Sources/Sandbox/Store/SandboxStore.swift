import Foundation

/// The sandbox's in-memory data: cashiers (one per customer/website/currency) and deposit
/// requests. Every operation runs under one lock, so "find or create" is atomic. Times are
/// stamped by `clock`, the server's.
final class SandboxStore: Sendable {
    private struct State {
        var cashiers: [String: CashierRecord] = [:]
        var cashierIdsByKey: [CashierKey: String] = [:]
        var cashierOrder: [String] = []
        var depositRequests: [DepositRequestRecord] = []
        var depositIndex: [String: Int] = [:]
        /// Positions in `depositRequests` per lowercased customerId (filters match case-insensitively),
        /// in order of createdTime's second, so a customer's listing reads only its own requests.
        var depositsByCustomer: [String: [Int]] = [:]
        /// Positions in `depositRequests` per lowercased websiteId, in order of createdTime's second
        /// (requests created at once may take the lock in another order than their clocks).
        var depositsByWebsite: [String: [Int]] = [:]
        /// The last listing's matches, sorted, while no deposit request has been created since:
        /// the pages of one listing filter and sort the store once, not once per page.
        var lastListing: (selection: String, count: Int, matching: [DepositRequestRecord])?
        /// Deposit requests the listings have read, all told (what a listing costs, for tests).
        var examined = 0
        var ids = ULIDGenerator()
        var tokens = SystemRandomNumberGenerator()
    }

    private let state = Locked(State())
    let clock: SandboxClock

    /// A store holding `preload` (created at `now`, by default the clock's) and, before them, the
    /// deposit requests `history` gives their customers.
    init(preload: [PreloadedCashier], now: Date? = nil, clock: SandboxClock = SandboxClock(),
         history: DepositHistory = DepositHistory(count: 0, seed: nil)) {
        self.clock = clock
        let now = now ?? clock.now()
        state.withLock { s in
            for past in history.requests(for: preload, before: now) {
                _ = Self.insertDepositRequest(past.input, at: past.createdTime, foreign: true, history: true, into: &s)
            }
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
    func findOrCreateCashier(_ input: CashierInput, now: Date? = nil) -> (cashier: CashierRecord, created: Bool) {
        let now = now ?? clock.now()
        return state.withLock { s in
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

    /// Whether the store holds a cashier for this (customerId, websiteId, currency), exactly.
    func hasCashier(_ key: CashierKey) -> Bool {
        state.withLock { $0.cashierIdsByKey[key] != nil }
    }

    /// Deletes a cashier, as if removed at Rebilly: `GET /cashiers/{id}` answers 404 and the next
    /// `POST /cashiers` for its key creates a new one. Its deposit requests stay. Returns whether
    /// it existed.
    func deleteCashier(id: String) -> Bool {
        state.withLock { s in
            guard let record = s.cashiers.removeValue(forKey: id) else { return false }
            if s.cashierIdsByKey[record.key] == id { s.cashierIdsByKey[record.key] = nil }
            s.cashierOrder.removeAll { $0 == id }
            return true
        }
    }

    /// Sets a cashier's figures as Rebilly's own activity would (deposits, payouts, bonuses);
    /// nil leaves a figure as it is. Returns the updated cashier, or nil for an unknown id.
    func setFigures(id: String, balance: ExactNumber?, bonusBalance: ExactNumber?, pendingPayoutTotal: ExactNumber?,
                    canWithdraw: Bool?, now: Date? = nil) -> CashierRecord? {
        let now = now ?? clock.now()
        return state.withLock { s in
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
    func createDepositRequest(_ input: DepositRequestInput, now: Date? = nil, foreign: Bool = false) -> DepositRequestRecord {
        let now = now ?? clock.now()
        return state.withLock { s in Self.insertDepositRequest(input, at: now, foreign: foreign, history: false, into: &s) }
    }

    /// Stores a deposit request made at `now`, indexed by its customer and website in order of its second.
    private static func insertDepositRequest(_ input: DepositRequestInput, at now: Date, foreign: Bool, history: Bool,
                                             into s: inout State) -> DepositRequestRecord {
        var tokenBytes = ""
        for _ in 0..<2 { tokenBytes += String(s.tokens.next(), radix: 16) }
        let position = s.depositRequests.count
        var record = DepositRequestRecord(
            id: "dep_req_" + s.ids.next(now: now), input: input, cashierToken: "sandbox." + tokenBytes,
            expirationTime: input.expirationTime ?? now.addingTimeInterval(3600),
            createdTime: now, updatedTime: now, sequence: position, foreign: foreign
        )
        record.history = history
        s.depositIndex[record.id] = position
        s.depositRequests.append(record)
        let second = CollectionQuery.wholeSecond(now)
        let customer = input.customerId.lowercased(), website = input.websiteId.lowercased()
        var byCustomer = s.depositsByCustomer.removeValue(forKey: customer) ?? []
        insert(position, second: second, into: &byCustomer, of: s.depositRequests)
        s.depositsByCustomer[customer] = byCustomer
        var byWebsite = s.depositsByWebsite.removeValue(forKey: website) ?? []
        insert(position, second: second, into: &byWebsite, of: s.depositRequests)
        s.depositsByWebsite[website] = byWebsite
        return record
    }

    func depositRequest(id: String) -> DepositRequestRecord? {
        state.withLock { s in s.depositIndex[id].map { s.depositRequests[$0] } }
    }

    /// All deposit requests matching `query`'s filter, sorted, and the page `query` asks for.
    func depositRequests(_ query: CollectionQuery) -> (page: [DepositRequestRecord], total: Int) {
        let keyed = state.withLock { s -> (page: [DepositRequestRecord], total: Int)? in
            guard let window = Self.keyedWindow(query, in: s) else { return nil }
            s.examined += window.examined
            return (window.page, window.total)
        }
        if let keyed { return keyed }
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
            state.withLock { s in
                s.examined += candidates.count
                if s.depositRequests.count == count { s.lastListing = (selection, count, matching) }
            }
        }
        let page = matching.dropFirst(query.offset).prefix(query.limit)
        return (Array(page), matching.count)
    }

    /// Adds a request's position to `positions`, after every one whose createdTime's second is not
    /// later (searched from the end: a new request is almost always the latest).
    private static func insert(_ position: Int, second: Int64, into positions: inout [Int], of requests: [DepositRequestRecord]) {
        var index = positions.endIndex
        while index > 0, CollectionQuery.wholeSecond(requests[positions[index - 1]].createdTime) > second { index -= 1 }
        positions.insert(position, at: index)
    }

    /// A listing oldest first of one customer's requests, or else one website's (a night read in
    /// keyed pages): its window of createdTime found by binary search in that key's positions,
    /// every request in it checked and counted, and only the first `offset + limit` (with the rest
    /// of the last one's second, whose order the sort's next key decides) sorted. nil: the query
    /// names neither one customer nor one website, or is not sorted by createdTime ascending.
    private static func keyedWindow(_ query: CollectionQuery, in s: State) -> (page: [DepositRequestRecord], total: Int, examined: Int)? {
        guard let first = query.sort.first, first.field == "createdTime", !first.descending else { return nil }
        let keyed: [Int]?
        if let customer = query.customerCandidate {
            keyed = s.depositsByCustomer[customer.lowercased()]
        } else if let website = query.websiteCandidate {
            keyed = s.depositsByWebsite[website.lowercased()]
        } else {
            return nil
        }
        guard let positions = keyed else { return ([], 0, 0) }
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
        return (Array(leading.sorted(by: query.areInOrder).dropFirst(query.offset).prefix(query.limit)), total, end - start)
    }

    /// Everything, in creation order (for inspection).
    func snapshot() -> (cashiers: [CashierRecord], depositRequests: [DepositRequestRecord]) {
        state.withLock { s in (s.cashierOrder.compactMap { s.cashiers[$0] }, s.depositRequests) }
    }

    var cashierCount: Int { state.withLock { $0.cashiers.count } }

    /// Deposit requests the listings have read so far, all told.
    var listingExamined: Int { state.withLock { $0.examined } }
}
