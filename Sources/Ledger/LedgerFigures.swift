import CashierModel
import Foundation
import GRDB

/// Rebilly's figures: what each cashier answer and read-back said, and the reads reconciliation makes of them.
extension Ledger {
    /// Stores cashier figures read back from the API (or any figures not tied to an
    /// attempt), all in one transaction.
    public func recordRemoteFigures(_ entries: [NewRemoteFigures]) throws {
        guard !entries.isEmpty else { return }
        let observed = LedgerTimestamp.millis(now())
        try pool.write { db in
            let statement = try db.cachedStatement(sql: LedgerSQL.insertRemoteFigures)
            for e in entries {
                let f = e.figures, texts = f.storedTexts
                try statement.execute(arguments: [
                    e.rowID, e.runID, e.source.rawValue, f.cashierID, f.httpStatus, f.currency, f.exponent,
                    f.balanceMinor, f.bonusBalanceMinor, f.pendingPayoutTotalMinor,
                    texts.balance, texts.bonusBalance, texts.pendingPayoutTotal,
                    observed, f.canWithdraw, f.cashierCreatedAt.map(LedgerTimestamp.millis),
                ])
            }
        }
    }

    /// The text `figure_log` keeps for a figure: nil when it is exactly the decimal of `minor` at
    /// `exponent` (``Amount``'s text), which the view `remote_figures` writes back; else Rebilly's text.
    static func storedFigureText(_ text: String?, minor: Int64?, exponent: Int?) -> String? {
        guard let text, let minor, minor != .min, let exponent, (0...4).contains(exponent),
              text == Amount.format(Int128(minor), exponent: exponent) else { return text }
        return nil
    }

    /// Every figure set stored for a row, oldest first.
    func remoteFigures(rowID: Int64) throws -> [RemoteFiguresRecord] {
        try pool.read { db in
            try RemoteFiguresRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.remoteFiguresOfRow), arguments: [rowID])
        }
    }

    /// Every figure set stored during (or, for read-backs, about) a run, oldest first.
    func remoteFigures(runID: Int64) throws -> [RemoteFiguresRecord] {
        try pool.read { db in
            try RemoteFiguresRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.remoteFiguresOfRun), arguments: [runID])
        }
    }

    /// The most recent figures of each row with an id in `rows` that has any, keyed by row id
    /// (of one source, or of any when `source` is nil). Read a batch a page of rows at a time.
    public func latestRemoteFigures(rows: ClosedRange<Int64>, source: FigureSource? = nil) throws -> [Int64: RemoteFiguresRecord] {
        let raw = source?.rawValue
        return try pool.read { db in
            let records = try RemoteFiguresRecord.fetchAll(
                db.cachedStatement(sql: LedgerSQL.latestRemoteFiguresOfRows), arguments: [rows.lowerBound, rows.upperBound, raw])
            return Dictionary(records.map { ($0.rowID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        }
    }

    /// When each row with an id in `rows` first POSTed its cashier without an answer (the answer
    /// may have been a lost 201).
    public func unansweredCashierCreates(rows: ClosedRange<Int64>) throws -> [Int64: Date] {
        try pool.read { db in
            var firsts: [Int64: Date] = [:]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.unansweredCashierCreatesOfRows),
                                             arguments: [rows.lowerBound, rows.upperBound])
            while let row = try cursor.next() {
                if let sent: Date = try row.decode(atIndex: 1) { firsts[try row.decode(atIndex: 0)] = sent }
            }
            return firsts
        }
    }

    /// Rows of `batchID` with an id in `rows` whose cashier a later row of run `runID` (same
    /// websiteId, customerId and currency, in a batch the run did not refuse) also has: the run's
    /// figures for that cashier are the later row's.
    public func supersededRows(runID: Int64, batchID: Int64, rows: ClosedRange<Int64>) throws -> Set<Int64> {
        try pool.read { db in
            Set(try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.supersededRowsOfRun),
                                   arguments: [batchID, rows.lowerBound, rows.upperBound, runID]))
        }
    }
}

extension RemoteFigures {
    /// The three texts as `figure_log` keeps them (``Ledger/storedFigureText(_:minor:exponent:)``).
    var storedTexts: (balance: String?, bonusBalance: String?, pendingPayoutTotal: String?) {
        (Ledger.storedFigureText(balanceText, minor: balanceMinor, exponent: exponent),
         Ledger.storedFigureText(bonusBalanceText, minor: bonusBalanceMinor, exponent: exponent),
         Ledger.storedFigureText(pendingPayoutTotalText, minor: pendingPayoutTotalMinor, exponent: exponent))
    }
}
