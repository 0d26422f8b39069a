import CashierModel
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// Attempts: the intent before an API call and its outcome after it (written through ``LedgerWriter``).
extension Ledger {
    /// One attempt, or nil.
    func attempt(id: Int64) throws -> AttemptRecord? {
        try pool.read { db in
            try AttemptRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.attemptByID), arguments: [id])
        }
    }

    /// Every attempt made for a row, oldest first.
    public func attempts(rowID: Int64) throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.attemptsOfRow), arguments: [rowID])
        }
    }

    /// Every attempt made during a run, oldest first.
    public func attempts(runID: Int64) throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.attemptsOfRun), arguments: [runID])
        }
    }

    /// Attempts whose outcome was never recorded, oldest first.
    func inFlightAttempts() throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.inFlightAttempts))
        }
    }
}


// The write operations themselves, each run inside a transaction the caller
// owns: a SAVEPOINT inside a group transaction for ``LedgerWriter``, the
// `pool.write` of ``Ledger/resolve(rowID:runID:action:depositRequestID:)`` for
// its transition. The SQL and the validation exist once, here.
extension Ledger {
    /// The body of ``LedgerWriter/recordIntent(rowID:runID:operation:at:)``: the row's check and
    /// touch are one `UPDATE … WHERE state IN (…)`; only a refused one reads the row.
    static func recordIntent(
        _ db: Database, rowID: Int64, runID: Int64, operation: AttemptOperation, at: Date
    ) throws -> Int64 {
        let stamp = LedgerTimestamp.text(at)
        let touched = try LedgerHotPath.write(db, LedgerHotPath.touchSQL(for: operation)) { h in
            sqlite3_bind_int64(h, 1, runID)
            LedgerHotPath.bind(h, 2, stamp)
            sqlite3_bind_int64(h, 3, rowID)
        }
        if touched == 0 {
            guard let state = try LedgerHotPath.state(db, rowID: rowID) else { throw LedgerError.noSuchRow(rowID) }
            throw LedgerError.sendRefused(rowID: rowID, state: state, operation: operation)
        }
        _ = try LedgerHotPath.write(db, LedgerSQL.hotInsertAttempt) { h in
            sqlite3_bind_int64(h, 1, rowID)
            sqlite3_bind_int64(h, 2, runID)
            LedgerHotPath.bind(h, 3, operation.rawValue)
            sqlite3_bind_int64(h, 4, LedgerTimestamp.millis(at))
        }
        return db.lastInsertedRowID
    }

    /// The body of ``LedgerWriter/recordOutcome(attemptID:httpStatus:latencyMs:error:returnedID:outcome:then:remoteFigures:)``.
    /// `rowID`: the attempt's row when the caller knows it (saves reading it for the transition).
    static func recordOutcome(
        _ db: Database, attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition?, at: Date,
        remoteFigures: RemoteFigures? = nil, rowID knownRowID: Int64? = nil
    ) throws {
        let millis = LedgerTimestamp.millis(at)
        let changed = try LedgerHotPath.write(db, LedgerSQL.hotRecordOutcome) { h in
            sqlite3_bind_int64(h, 1, millis)
            LedgerHotPath.bind(h, 2, httpStatus)
            LedgerHotPath.bind(h, 3, latencyMs)
            LedgerHotPath.bind(h, 4, error)
            LedgerHotPath.bind(h, 5, returnedID)
            LedgerHotPath.bind(h, 6, outcome.rawValue)
            sqlite3_bind_int64(h, 7, attemptID)
        }
        if changed == 0 { throw LedgerError.noSuchAttempt(attemptID) }
        if let f = remoteFigures {
            let texts = f.storedTexts
            _ = try LedgerHotPath.write(db, LedgerSQL.hotInsertRemoteFigures) { h in
                LedgerHotPath.bind(h, 1, FigureSource.create.rawValue)
                LedgerHotPath.bind(h, 2, f.cashierID)
                LedgerHotPath.bind(h, 3, f.httpStatus)
                LedgerHotPath.bind(h, 4, f.currency)
                LedgerHotPath.bind(h, 5, f.exponent)
                LedgerHotPath.bind(h, 6, f.balanceMinor)
                LedgerHotPath.bind(h, 7, f.bonusBalanceMinor)
                LedgerHotPath.bind(h, 8, f.pendingPayoutTotalMinor)
                LedgerHotPath.bind(h, 9, texts.balance)
                LedgerHotPath.bind(h, 10, texts.bonusBalance)
                LedgerHotPath.bind(h, 11, texts.pendingPayoutTotal)
                sqlite3_bind_int64(h, 12, millis)
                sqlite3_bind_int64(h, 13, attemptID)
                LedgerHotPath.bind(h, 14, f.canWithdraw.map { $0 ? 1 : 0 })
                LedgerHotPath.bind(h, 15, f.cashierCreatedAt.map(LedgerTimestamp.millis))
            }
        }
        guard let transition else { return }
        let rowID: Int64
        if let knownRowID {
            rowID = knownRowID
        } else {
            guard let found = try LedgerHotPath.int64(db, LedgerSQL.hotRowIDOfAttempt, { sqlite3_bind_int64($0, 1, attemptID) })
            else { throw LedgerError.noSuchAttempt(attemptID) }
            rowID = found
        }
        let (state, cashier, deposit, reasons) = (transition.state, transition.cashierID, transition.depositRequestID, transition.reasonsJSON)
        try Self.transition(db, rowID: rowID, to: state, cashierID: cashier,
                            depositRequestID: deposit, reasonsJSON: reasons, stamp: LedgerTimestamp.text(at))
    }

    /// The body of ``LedgerWriter/transition(rowID:to:cashierID:depositRequestID:reasonsJSON:)``.
    static func transition(
        _ db: Database, rowID: Int64, to state: RowState,
        cashierID: String?, depositRequestID: String?, reasonsJSON: String?, at: Date
    ) throws {
        try transition(db, rowID: rowID, to: state, cashierID: cashierID, depositRequestID: depositRequestID,
                       reasonsJSON: reasonsJSON, stamp: LedgerTimestamp.text(at))
    }

    /// ``transition(_:rowID:to:cashierID:depositRequestID:reasonsJSON:at:)`` with the
    /// timestamp already formatted (``LedgerTimestamp``). The legality check is part of the
    /// `UPDATE`; only a refused transition reads the row to say why.
    static func transition(
        _ db: Database, rowID: Int64, to state: RowState,
        cashierID: String?, depositRequestID: String?, reasonsJSON: String?, stamp: String
    ) throws {
        let reasons = state == .done ? "[]" : reasonsJSON
        let changed = try LedgerHotPath.write(db, LedgerSQL.hotTransitions[state]!) { h in
            LedgerHotPath.bind(h, 1, state.rawValue)
            LedgerHotPath.bind(h, 2, cashierID)
            LedgerHotPath.bind(h, 3, depositRequestID)
            LedgerHotPath.bind(h, 4, reasons)
            LedgerHotPath.bind(h, 5, stamp)
            sqlite3_bind_int64(h, 6, rowID)
        }
        if changed == 0 {
            guard let current = try LedgerHotPath.state(db, rowID: rowID) else { throw LedgerError.noSuchRow(rowID) }
            throw LedgerError.illegalTransition(rowID: rowID, from: current, to: state)
        }
    }
}
