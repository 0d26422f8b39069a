import CashierModel
import Foundation
import GRDB
import Testing
@testable import Ledger

@Suite("Ledger v2: remote figures and break details")
struct LedgerV2Tests {
    static let figures = RemoteFigures(
        cashierID: "cashier_1", httpStatus: 200, currency: "USD", exponent: 2,
        balanceMinor: 11_000, bonusBalanceMinor: nil, pendingPayoutTotalMinor: 5,
        balanceText: "110.00", bonusBalanceText: "1.005", pendingPayoutTotalText: "0.05")

    @Test func outcomeStoresTheCashierFiguresWithItsRowAndRun() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending])
        let writer = ledger.writer()
        // With a row transition.
        let a1 = try await writer.recordIntent(rowID: rows[0].id, runID: run, operation: .createCashier)
        try await writer.recordOutcome(attemptID: a1, httpStatus: 200, latencyMs: 3, error: nil, returnedID: "cashier_1",
                                       outcome: .succeeded, then: .cashierCreated(cashierID: "cashier_1"), remoteFigures: Self.figures)
        // Without a transition.
        let a2 = try await writer.recordIntent(rowID: rows[1].id, runID: run, operation: .createCashier)
        var second = Self.figures
        second.cashierID = "cashier_2"
        second.httpStatus = 201
        try await writer.recordOutcome(attemptID: a2, httpStatus: 201, latencyMs: 2, error: nil, returnedID: "cashier_2",
                                       outcome: .succeeded, remoteFigures: second)
        // Without figures nothing is stored (callers that pass none compile and behave as before).
        let a3 = try await writer.recordIntent(rowID: rows[2].id, runID: run, operation: .createCashier)
        try await writer.recordOutcome(attemptID: a3, httpStatus: 201, latencyMs: 2, error: nil, returnedID: "cashier_3", outcome: .succeeded)
        await writer.shutdown()

        let stored = try ledger.remoteFigures(runID: run)
        #expect(stored.count == 2)
        #expect(stored[0].rowID == rows[0].id && stored[0].attemptID == a1 && stored[0].source == .create)
        #expect(stored[0].figures == Self.figures)
        #expect(stored[1].rowID == rows[1].id && stored[1].figures.cashierID == "cashier_2" && stored[1].figures.httpStatus == 201)
        #expect(try ledger.remoteFigures(rowID: rows[2].id).isEmpty)

        // A read-back is stored beside it; the latest per row wins.
        var readBack = Self.figures
        readBack.balanceMinor = 12_000
        try ledger.recordRemoteFigures([NewRemoteFigures(rowID: rows[0].id, runID: run, source: .readBack, figures: readBack)])
        let latest = try ledger.latestRemoteFigures(rows: rows[0].id...rows[rows.count - 1].id)
        #expect(latest.count == 2 && latest[rows[0].id]?.source == .readBack && latest[rows[0].id]?.figures.balanceMinor == 12_000)
        #expect(try ledger.latestRemoteFigures(rows: rows[0].id...rows[rows.count - 1].id, source: .create)[rows[0].id]?.figures.balanceMinor == 11_000)
        // Money columns are INTEGER, never REAL.
        let types = try inspect(ledger.path) { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT typeof(balance_minor) FROM remote_figures")
        }
        #expect(types == ["integer"])
    }

    /// A reconciliation is recorded whole and read back as it was: breaks with every detail,
    /// totals beyond 64 bits as exact digits, counts, accounting, deposit checks, unread cashiers.
    /// A later reconciliation of the same run replaces it.
    @Test func aReconciliationIsRecordedWholeAndReplacesItsOwn() throws {
        let dir = try TempDir()
        let (ledger, run, _) = try fixture(dir)
        let seen = Date(timeIntervalSince1970: 1_800_000_000)
        let high = Break(websiteID: "web_1", customerID: "cus_1", currency: "USD", exponent: 2, field: .pendingPayoutTotal,
                         lifecycle: .persisting, expectedMinor: 0, actualMinor: 500, actualText: "5.00", firstSeenRunID: run,
                         firstSeenAt: seen, timesSeen: 3, source: .readBack, cashierID: "cashier_1", canWithdraw: false)
        let plain = Break(websiteID: "web_1", customerID: "cus_2", currency: "USD", exponent: 2, field: .balance,
                          lifecycle: .new, expectedMinor: 100, actualMinor: 90, firstSeenRunID: run, firstSeenAt: seen)
        let missing = Break(websiteID: "web_1", customerID: "cus_3", currency: "USD", exponent: 2, field: .depositRequestMissing,
                            lifecycle: .new, expectedMinor: 1, actualMinor: 0, firstSeenRunID: run, firstSeenAt: seen, source: .readBack,
                            detail: "expected deposit request dr_1, Rebilly lists none")
        let huge = Int128(Int64.max) * 3 + 7
        let totals = ReconciliationTotals(
            websiteID: "web_1", currency: "USD", exponent: 2, inputRows: 3, sentRows: 2, comparedCashiers: 2,
            figures: Figure.allCases.map { FigureTotals(figure: $0, exponent: 2, inputMinor: huge, sentMinor: -huge, rebillyMinor: 0,
                                                        netDifferenceMinor: -10, grossDifferenceMinor: 10, openingDifferenceMinor: 0) })
        let accounting = BatchAccountingCheck(batchID: 1, sha256: String(repeating: "a", count: 64), path: "n.csv", read: 3,
                                              rows: RowCounts(read: 3, done: 2, rejected: 1), problems: [])
        var report = ReconciliationReport(
            runID: run, method: .readBack, reconciledAt: seen.addingTimeInterval(60), baselineRunID: nil, breaks: [high, plain, missing],
            totals: [totals], accounting: [accounting],
            depositChecks: DepositRequestChecks(checkedRows: 2, matched: 1, missing: 1, duplicated: 0, notApplicable: 0, unverified: 0, foreign: 4),
            counts: ReconciliationCounts(breaks: [high, plain, missing], inputRows: 3, cashiers: 3, compared: 2, readBackRequests: 3, readBackFailures: 1))
        report.unread = [UnreadCashier(websiteID: "web_1", customerID: "cus_4", currency: "USD", cashierID: nil, reason: "GET failed")]
        let ids = try ledger.recordReconciliation(report)
        // Read back, each break carries the id it was recorded under and its run.
        var recorded = report
        for (i, id) in ids.enumerated() { recorded.breaks[i].id = id; recorded.breaks[i].runID = run }
        #expect(ids.count == 3 && Set(ids).count == 3)
        #expect(try ledger.reconciliation(runID: run) == recorded)
        #expect(report.counts.openBreaks == 3 && report.counts.highPriorityOpenBreaks == 1 && report.counts.notCompared == 1)
        let digits = try inspect(ledger.path) { db in
            try String.fetchAll(db, sql: "SELECT input_minor || '/' || sent_minor FROM reconciliation_totals WHERE figure = 'balance'")
        }
        #expect(digits == ["27670116110564327428/-27670116110564327428"])

        var again = report
        again.breaks = [plain]
        again.totals = []
        again.depositChecks = nil
        again.unread = []
        again.method = .ledger
        let againIDs = try ledger.recordReconciliation(again)
        again.breaks[0].id = againIDs[0]
        again.breaks[0].runID = run
        #expect(try ledger.reconciliation(runID: run) == again)
        #expect(try ledger.breaks(runID: run).map(\.customerID) == ["cus_2"])
        #expect(try ledger.reconciliation(runID: run + 1) == nil)
    }
}
