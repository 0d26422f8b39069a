import CashierModel
import Foundation
import Gateway
import Ledger

/// The deposit-request check: each done row has exactly one deposit request at Rebilly, by the
/// gateway's ownership rule, listed per website's night (or per customer).
extension Reconciler {
    /// What the deposit check has gathered so far, a page of rows at a time.
    struct DepositCheck {
        var checks = DepositRequestChecks(checkedRows: 0, matched: 0, missing: 0, duplicated: 0, notApplicable: 0, unverified: 0)
        /// Current deposit breaks (lifecycle not yet decided).
        var findings: [Finding] = []
        /// The baseline's cashiers with open breaks, and those whose deposit requests were looked at.
        let baseline: Set<CashierKey>
        var checkedBaseline = Set<CashierKey>()
        /// Cashiers whose deposit requests could not be listed, with their cashier id.
        var unlisted: [CashierKey: String?] = [:]
        /// In bulk, each website's night (case-folded websiteId): listed, or failed.
        var nights: [String: NightListing] = [:]

        init(baseline: Set<CashierKey>) { self.baseline = baseline }
    }

    enum NightListing {
        /// In the scratch file.
        case listed
        case failed
    }

    /// A done row with a recorded deposit request, its window as the ownership rule reads it.
    struct DepositCheckRow {
        var row: DoneRow
        var recorded: String
        var window: DepositOwnership.Row
        /// The row's deposit POSTs that were answered, lost or left in flight.
        var mayHaveCreated: Int
        /// The window has both ends (a deposit POST and a last call), so a night's listing covers it.
        var bounded: Bool { !window.posts.isEmpty && window.lastCall != nil }
    }

    /// Lists each website's night, over the window of its done rows' deposit calls, into `scratch`.
    /// A listing that fails leaves its website's rows unverified; a stop ends the listings.
    func listNights(_ batches: [BatchRecord], into state: inout DepositCheck, scratch: DepositListingScratch,
                    gateway: RebillyGateway) async throws {
        var websites: [String: (websiteID: String, from: Date, to: Date)] = [:]
        for batch in batches where batch.controlVerdict != .mismatch {
            for window in try ledger.depositWindows(batchID: batch.id) {
                let site = DepositListingScratch.fold(window.websiteID)
                websites[site] = websites[site].map { (websiteID: $0.websiteID, from: min($0.from, window.from), to: max($0.to, window.to)) }
                    ?? window
            }
        }
        for (site, span) in websites.sorted(by: { $0.key < $1.key }) {
            switch try await listNight(websiteID: span.websiteID, from: span.from, to: span.to, gateway: gateway, into: scratch) {
            case .succeeded: state.nights[site] = .listed
            case .stopped: return
            default: state.nights[site] = .failed
            }
        }
    }

    /// Checks one page's done rows: each row's deposit requests (its night's, from the scratch
    /// file, or its customer's, listed now) against its window by the one ownership rule.
    func checkDeposits(_ doneRows: [DoneRow], into state: inout DepositCheck, scratch: DepositListingScratch?,
                       gateway: RebillyGateway) async throws {
        guard let low = doneRows.map(\.rowID).min(), let high = doneRows.map(\.rowID).max() else { return }
        let calls = try ledger.depositCalls(rows: low...high)

        // Each row's window by the one ownership rule (its first deposit POST to its last deposit
        // call): a request of the same customer from an earlier or a LATER night is not this
        // row's, even when an old run is reconciled after newer ones.
        var rows: [DepositCheckRow] = []
        for row in doneRows.sorted(by: { $0.rowID < $1.rowID }) {
            guard let recorded = row.depositRequestID else { state.checks.notApplicable += 1; continue }
            let depositCalls = calls[row.rowID] ?? []
            let posts = depositCalls.filter { $0.operation == .createDepositRequest }
            let window = DepositOwnership.Row(
                customerId: row.key.customerID, websiteId: row.key.websiteID, currency: row.key.currency,
                terms: row.terms ?? DepositRequestSpec(), posts: posts.map(\.requestedAt).sorted(),
                lastCall: depositCalls.map { $0.finishedAt ?? $0.requestedAt }.max(), rowID: row.rowID)
            // Requests the job may have made: its POSTs that were answered or lost. An exact match
            // beyond those is another client's copy, counted as foreign, not as a duplicate.
            let mayHaveCreated = max(1, posts.filter { $0.outcome == .succeeded || $0.outcome == .lost || $0.outcome == .inFlight }.count)
            rows.append(DepositCheckRow(row: row, recorded: recorded, window: window, mayHaveCreated: mayHaveCreated))
        }

        // In bulk, a row's requests come from its night; per customer, from a listing of its
        // customer over its own window. A row whose window has no end (no deposit POST recorded)
        // cannot be listed for.
        let bulk = depositListing == .bulk && scratch != nil
        let keys = Set(rows.filter { bulk && $0.bounded }.map { DepositListingScratch.key(customerID: $0.row.key.customerID, websiteID: $0.row.key.websiteID) })
        let night = try scratch?.requests(keys: keys) ?? [:]
        var windows: [RebillyGateway.DepositScope: [DepositRequest]?] = [:]
        for r in rows {
            let row = r.row
            var listed: [DepositRequest]?
            if let first = r.window.posts.first, let last = r.window.lastCall {
                if bulk {
                    if case .listed? = state.nights[DepositListingScratch.fold(row.key.websiteID)] {
                        listed = night[DepositListingScratch.key(customerID: row.key.customerID, websiteID: row.key.websiteID)] ?? []
                    }
                } else {
                    let scope = RebillyGateway.DepositScope(websiteId: row.key.websiteID, customerId: row.key.customerID,
                                                            window: gateway.ownership.window(firstPost: first, lastCall: last))
                    if windows[scope] == nil {
                        switch try await gateway.listDepositRequests(scope) {
                        case let .succeeded(items): windows[scope] = .some(items)
                        case .stopped: return
                        default: windows[scope] = .some(nil)
                        }
                    }
                    listed = windows[scope] ?? nil
                }
            }
            guard let listed else {
                state.checks.unverified += 1
                state.unlisted[row.key] = .some(row.cashierID ?? state.unlisted[row.key] ?? nil)
                continue
            }
            state.checks.checkedRows += 1
            if state.baseline.contains(row.key) { state.checkedBaseline.insert(row.key) }
            let verdict = gateway.ownership.verdict(for: r.window, among: listed)
            let recorded = r.recorded
            var mine = verdict.matches
            if mine.count > r.mayHaveCreated {
                let recordedFirst = mine.filter { $0.id == recorded } + mine.filter { $0.id != recorded }
                mine = Array(recordedFirst.prefix(r.mayHaveCreated))
            }
            state.checks.foreign += verdict.foreign.count + verdict.nearMisses.count + (verdict.matches.count - mine.count)
            let ids = mine.map(\.id)
            var finding = Finding(key: row.key, field: .depositRequestMissing, exponent: row.exponent, expected: nil,
                                  actual: nil, actualText: nil, rowID: row.rowID, cashierID: row.cashierID,
                                  source: .readBack, detail: nil, countExpected: 1, countActual: mine.count)
            if mine.count == 1, ids[0] == recorded {
                state.checks.matched += 1
                continue
            } else if mine.count > 1 {
                state.checks.duplicated += 1
                finding.field = .depositRequestDuplicate
                finding.detail = "expected 1 deposit request, Rebilly lists \(mine.count): \(ids.joined(separator: ", ")) (recorded \(recorded))"
            } else if mine.isEmpty {
                state.checks.missing += 1
                finding.detail = "expected deposit request \(recorded), Rebilly lists none"
            } else {
                state.checks.missing += 1
                finding.detail = "expected deposit request \(recorded), Rebilly lists \(ids[0]) instead"
            }
            state.findings.append(finding)
        }
    }

    /// A website's deposit requests over the night's window, `from` (the earliest deposit POST)
    /// to `to` (the latest deposit call) on this machine's clock, widened on each side by the
    /// ownership rule's clock tolerance, so every row's window lies inside the one listed. The
    /// requests go to `scratch` page by page (only those of the website listed: an item of
    /// another one is not Rebilly's answer to the filter).
    func listNight(websiteID: String, from: Date, to: Date, gateway: RebillyGateway,
                   into scratch: DepositListingScratch) async throws -> RebillyGateway.Outcome<Int> {
        let site = DepositListingScratch.fold(websiteID)
        try scratch.removeWebsite(websiteID)
        let scope = RebillyGateway.DepositScope(websiteId: websiteID, window: gateway.ownership.window(firstPost: from, lastCall: to))
        return try await gateway.listDepositRequests(scope) { page in
            try scratch.add(page.filter { DepositListingScratch.fold($0.websiteId) == site })
        }
    }
}
