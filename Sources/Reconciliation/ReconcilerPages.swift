import CashierModel
import Foundation
import Gateway
import Ledger

/// The run's rows a page at a time: the cashiers to compare, the totals and the row accounting.
extension Reconciler {
    /// (websiteId, customerId, currency): one cashier.
    struct CashierKey: Hashable, Comparable {
        var websiteID: String
        var customerID: String
        var currency: String

        static func < (a: CashierKey, b: CashierKey) -> Bool {
            (a.websiteID, a.customerID, a.currency) < (b.websiteID, b.customerID, b.currency)
        }
    }

    /// (websiteId, currency): one line of the totals.
    struct TotalsKey: Hashable {
        var websiteID: String
        var currency: String
    }

    /// The latest row of the run for one cashier, with the operator's figures.
    struct ExpectedCashier {
        var key: CashierKey
        var rowID: Int64
        var exponent: Int
        var cashierID: String?
        /// balance, bonusBalance, pendingPayoutTotal in minor units (absent = 0).
        var expected: [Int64]
        /// The most recent figures the ledger holds for the row.
        var stored: RemoteFiguresRecord?
        /// Rebilly made the cashier this night (its create answered 201, or went unanswered and the
        /// cashier is no older than that POST).
        var opening = false
    }

    /// A done row whose deposit request is checked.
    struct DoneRow {
        var key: CashierKey
        var rowID: Int64
        var exponent: Int
        var cashierID: String?
        var depositRequestID: String?
        /// The deposit request's terms as the batch gave them (nil: the row's source is unreadable).
        var terms: DepositRequestSpec?
    }

    struct TotalsAccumulator {
        var exponent: Int
        var inputRows = 0
        var sentRows = 0
        var compared = 0
        var input: [Int128] = [0, 0, 0]
        var sent: [Int128] = [0, 0, 0]
        var rebilly: [Int128] = [0, 0, 0]
        var net: [Int128] = [0, 0, 0]
        var gross: [Int128] = [0, 0, 0]
        var opening: [Int128] = [0, 0, 0]
        /// Known differences on opening cashiers, per figure, and the opening cashiers with any.
        var openingCount: [Int] = [0, 0, 0]
        var openingCashiers = 0
    }

    /// What the comparison has gathered so far. Rows are read a page at a time, so memory grows
    /// with the breaks found, not with every row of the night.
    struct Tally {
        var accounting: [BatchAccountingCheck] = []
        var totals: [TotalsKey: TotalsAccumulator] = [:]
        var inputRows = 0
        /// Valid rows whose payload could not be read (never expected; not compared).
        var unreadable = 0
        /// Cashiers of the run (the latest row per websiteId, customerId and currency with one).
        var cashiers = 0
        var compared = 0
        var cannotWithdraw = 0
        var findings: [Finding] = []
        /// The baseline: the most recent earlier run that recorded breaks, and its breaks.
        var baselineRunID: Int64?
        var baseline: [Break] = []
        /// Their cashiers, and those of them compared now (their breaks resolve or persist).
        var baselineCashiers = Set<CashierKey>()
        var comparedBaseline = Set<CashierKey>()
        /// The acceptances in force, by the key of the break each covers.
        var acceptances: [BreakKey: Acceptance] = [:]
        /// The current page's done rows whose deposit requests are checked (only for a read-back).
        var doneRows: [DoneRow] = []
    }

    /// The run's rows a page at a time: each page adds to the totals and the accounting and
    /// yields its cashiers.
    struct CashierPages {
        let reconciler: Reconciler
        let runID: Int64
        let depositTerms: Bool
        let batches: [BatchRecord]
        var index = 0
        var afterID: Int64 = 0

        /// The next page's cashiers (possibly none), or nil after the last row of the last batch.
        mutating func next(into tally: inout Tally) throws -> [ExpectedCashier]? {
            let ledger = reconciler.ledger
            while index < batches.count {
                let batch = batches[index]
                if afterID == 0 {
                    tally.accounting.append(try reconciler.accountingCheck(runID: runID, batch: batch))
                    // A refused batch (control totals) sent nothing: it is in the accounting, not in the money.
                    if batch.controlVerdict == .mismatch { index += 1; continue }
                }
                let page = try ledger.rows(batchID: batch.id, states: nil, afterID: afterID, limit: max(1, reconciler.pageSize))
                guard let first = page.first?.id, let last = page.last?.id else {
                    index += 1; afterID = 0
                    continue
                }
                afterID = last
                let range = first...last
                let stored = try ledger.latestRemoteFigures(rows: range)
                let created = try ledger.latestRemoteFigures(rows: range, source: .create)
                // A cashier is in its first night when its create answered 201, or when a create got
                // no answer (a lost 201) and Rebilly's createdTime is not before that POST's second.
                // No skew is allowed: when the clocks disagree the cashier is taken as established
                // and its differences count as drift (the safe side).
                let unanswered = try ledger.unansweredCashierCreates(rows: range)
                let superseded = try ledger.supersededRows(runID: runID, batchID: batch.id, rows: range)
                var cashiers: [ExpectedCashier] = []
                for row in page {
                    guard row.payloadHash != nil, let website = row.websiteID, let customer = row.customerID,
                          let code = row.currency, let currency = Currency(code: code) else { continue }
                    guard let request = row.cashierRow else {
                        tally.unreadable += 1
                        continue
                    }
                    let expected = [request.cashier.balance, request.cashier.bonusBalance, request.cashier.pendingPayoutTotal]
                        .map { $0?.minorUnits ?? 0 }
                    tally.inputRows += 1
                    let key = CashierKey(websiteID: website, customerID: customer, currency: code)
                    let tkey = TotalsKey(websiteID: website, currency: code)
                    var totals = tally.totals[tkey] ?? TotalsAccumulator(exponent: currency.exponent)
                    totals.inputRows += 1
                    for i in 0..<3 { totals.input[i] += Int128(expected[i]) }
                    if row.state == .done {
                        totals.sentRows += 1
                        for i in 0..<3 { totals.sent[i] += Int128(expected[i]) }
                        if depositTerms {
                            tally.doneRows.append(DoneRow(key: key, rowID: row.id, exponent: currency.exponent,
                                                          cashierID: row.cashierID, depositRequestID: row.depositRequestID,
                                                          terms: request.deposit))
                        }
                    }
                    tally.totals[tkey] = totals
                    // The cashier: the latest row of the run for this key that has one.
                    if let cashierID = row.cashierID, !superseded.contains(row.id) {
                        cashiers.append(ExpectedCashier(key: key, rowID: row.id, exponent: currency.exponent,
                                                        cashierID: cashierID, expected: expected, stored: stored[row.id],
                                                        opening: created[row.id]?.figures.httpStatus == 201
                                                            || Reconciler.madeSince(unanswered[row.id], stored[row.id]?.figures.cashierCreatedAt)))
                    }
                }
                tally.cashiers += cashiers.count
                return cashiers
            }
            return nil
        }
    }

    /// The pages of run `runID`, and a tally that knows the baseline's open breaks.
    func start(_ runID: Int64, depositTerms: Bool) throws -> (CashierPages, Tally) {
        guard try ledger.run(id: runID) != nil else { throw LedgerError.noSuchRun(runID) }
        var tally = Tally()
        if let (previous, breaks) = try ledger.baseline(beforeRunID: runID) {
            tally.baselineRunID = previous
            tally.baseline = breaks
        }
        for b in tally.baseline where b.isOpen {
            tally.baselineCashiers.insert(CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency))
        }
        for a in try ledger.activeAcceptances() {
            tally.acceptances[BreakKey(cashier: CashierKey(websiteID: a.websiteID, customerID: a.customerID, currency: a.currency), field: a.field)] = a
        }
        return (CashierPages(reconciler: self, runID: runID, depositTerms: depositTerms, batches: try ledger.batches(runID: runID)), tally)
    }

    /// Whether Rebilly created the cashier at or after `post`, to the whole second (Rebilly's
    /// createdTime carries no fraction).
    static func madeSince(_ start: Date?, _ created: Date?) -> Bool {
        guard let start, let created else { return false }
        return created.timeIntervalSince1970 >= start.timeIntervalSince1970.rounded(.down)
    }

    func accountingCheck(runID: Int64, batch: BatchRecord) throws -> BatchAccountingCheck {
        let a = try ledger.accounting(runID: runID, batchID: batch.id)
        var problems: [String] = []
        if !batch.isStaged {
            problems.append("staging did not finish: \(a.read) rows in the ledger, the file's row count is unknown")
        } else if batch.rowCount != a.read {
            problems.append("\(batch.rowCount) records read from the file but \(a.read) rows in the ledger")
        }
        if a.unfinished > 0 {
            let why = batch.controlVerdict == .mismatch ? " (batch refused: control totals did not match)" : ""
            problems.append("\(a.unfinished) row\(a.unfinished == 1 ? "" : "s") unfinished (pending or cashier_created)\(why)")
        }
        if !a.closes {
            problems.append("the states add up to \(a.parts.reduce(0) { $0 + $1.value }), not \(a.read)")
        }
        return BatchAccountingCheck(batchID: batch.id, sha256: batch.sha256, path: batch.path,
                                    read: batch.isStaged ? batch.rowCount : a.read, rows: a, problems: problems)
    }
}
