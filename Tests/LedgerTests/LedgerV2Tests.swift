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
        // Synchronous API.
        let a1 = try ledger.recordIntent(rowID: rows[0].id, runID: run, operation: .createCashier)
        try ledger.recordOutcome(attemptID: a1, httpStatus: 200, latencyMs: 3, error: nil, returnedID: "cashier_1",
                                 outcome: .succeeded, then: .cashierCreated(cashierID: "cashier_1"), remoteFigures: Self.figures)
        // Group-committed writer.
        let writer = ledger.writer()
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
        try ledger.recordRemoteFigures([NewRemoteFigures(rowID: rows[0].id, runID: run, source: .readback, figures: readBack)])
        let latest = try ledger.latestRemoteFigures(rows: rows[0].id...rows[rows.count - 1].id)
        #expect(latest.count == 2 && latest[rows[0].id]?.source == .readback && latest[rows[0].id]?.figures.balanceMinor == 12_000)
        #expect(try ledger.latestRemoteFigures(rows: rows[0].id...rows[rows.count - 1].id, source: .create)[rows[0].id]?.figures.balanceMinor == 11_000)
        // Money columns are INTEGER, never REAL.
        let types = try inspect(ledger.path) { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT typeof(balance_minor) FROM remote_figures")
        }
        #expect(types == ["integer"])
    }

    @Test func breaksKeepTheirV2DetailsAndAReconciliationReplacesItsOwn() throws {
        let dir = try TempDir()
        let (ledger, run, _) = try fixture(dir)
        let seen = Date(timeIntervalSince1970: 1_800_000_000)
        let high = NewBreak(websiteID: "web_1", customerID: "cus_1", currency: "USD", field: "pendingPayoutTotal",
                            expectedMinor: 0, actualMinor: 500, exponent: 2, lifecycle: .persisting, firstSeenRunID: run,
                            firstSeenAt: seen, highPriority: true, source: .readback, actualText: "5.00",
                            cashierID: "cashier_1", timesSeen: 3, rechecked: true)
        let plain = NewBreak(websiteID: "web_1", customerID: "cus_2", currency: "USD", field: "balance",
                             expectedMinor: 100, actualMinor: 90, exponent: 2, lifecycle: .new, firstSeenRunID: run, firstSeenAt: seen)
        try ledger.recordBreaks(runID: run, [high, plain])
        let stored = try ledger.breaks(runID: run)
        #expect(stored.count == 2)
        #expect(stored[0].highPriority && stored[0].source == .readback && stored[0].actualText == "5.00")
        #expect(stored[0].cashierID == "cashier_1" && stored[0].timesSeen == 3 && stored[0].rechecked)
        #expect(!stored[1].highPriority && stored[1].source == nil && stored[1].timesSeen == 1 && stored[1].rechecked)
        #expect(stored[1].differenceMinor == -10)

        try ledger.replaceBreaks(runID: run, [plain])
        #expect(try ledger.breaks(runID: run).map(\.customerID) == ["cus_2"])
        try ledger.replaceBreaks(runID: run, [])
        #expect(try ledger.breaks(runID: run).isEmpty)
    }
}
