import CashierModel
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// Attempts: the intent before an API call and its outcome after it.
extension Ledger {
    /// Records the intent to call the API for a row, BEFORE the call: a new
    /// attempt with outcome `in_flight` and `http_status` NULL. Also bumps the
    /// row's `attempt_count` and sets its `last_run_id`. Its own transaction.
    ///
    /// Refuses (``LedgerError/sendRefused(rowID:state:operation:)``) to record a
    /// create for a `done` or `rejected` row, and a `create_deposit_request` for
    /// an `in_doubt` row (verify with `list_deposit_requests` and move the row
    /// first): the last line of defence against sending twice. Reads
    /// (`get_*`, `list_*`) are always allowed.
    ///
    /// - Returns: The attempt id to pass to ``recordOutcome(attemptID:httpStatus:latencyMs:error:returnedID:outcome:then:remoteFigures:)``.
    public func recordIntent(rowID: Int64, runID: Int64, operation: AttemptOperation) throws -> Int64 {
        let at = now()
        return try pool.write { db in
            try Self.recordIntent(db, rowID: rowID, runID: runID, operation: operation, at: at)
        }
    }

    /// Records how an attempt ended, AFTER the call, and optionally moves its
    /// row to a new state in the SAME transaction (so the answer and the row's
    /// fate are never recorded half).
    ///
    /// - Parameters:
    ///   - httpStatus: nil when no HTTP answer came (timeout, connection error).
    ///   - returnedID: The id the API returned (cashier or deposit request).
    ///   - then: The row transition to apply with it, if any.
    ///   - remoteFigures: The cashier's figures from the answer, stored in
    ///     `remote_figures` with source `create`, tied to this attempt's row and run.
    public func recordOutcome(
        attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition? = nil,
        remoteFigures: RemoteFigures? = nil
    ) throws {
        let at = now()
        try pool.write { db in
            try Self.recordOutcome(db, attemptID: attemptID, httpStatus: httpStatus, latencyMs: latencyMs, error: error,
                                   returnedID: returnedID, outcome: outcome, then: transition, at: at,
                                   remoteFigures: remoteFigures)
        }
    }

    /// One attempt, or nil.
    public func attempt(id: Int64) throws -> AttemptRecord? {
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
    public func inFlightAttempts() throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.inFlightAttempts))
        }
    }
}


// The write operations themselves, each run inside a transaction the caller
// owns: ONE `pool.write` for the synchronous API, a SAVEPOINT inside a group
// transaction for ``LedgerWriter``. Both APIs call exactly these functions, so
// the SQL and the validation exist once.
extension Ledger {
    /// The body of ``Ledger/recordIntent(rowID:runID:operation:)``: the row's check and
    /// touch are one `UPDATE … WHERE state IN (…)`; only a refused one reads the row.
    static func recordIntent(
        _ db: Database, rowID: Int64, runID: Int64, operation: AttemptOperation, at: Date
    ) throws -> Int64 {
        let stamp = LedgerTimestamp.text(at)  // formatted once for both statements
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
            LedgerHotPath.bind(h, 4, stamp)
        }
        return db.lastInsertedRowID
    }

    /// The body of ``Ledger/recordOutcome(attemptID:httpStatus:latencyMs:error:returnedID:outcome:then:remoteFigures:)``.
    /// `rowID`: the attempt's row when the caller knows it (saves reading it for the transition).
    static func recordOutcome(
        _ db: Database, attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition?, at: Date,
        remoteFigures: RemoteFigures? = nil, rowID knownRowID: Int64? = nil
    ) throws {
        let stamp = LedgerTimestamp.text(at)
        let changed = try LedgerHotPath.write(db, LedgerSQL.hotRecordOutcome) { h in
            LedgerHotPath.bind(h, 1, stamp)
            LedgerHotPath.bind(h, 2, httpStatus)
            LedgerHotPath.bind(h, 3, latencyMs)
            LedgerHotPath.bind(h, 4, error)
            LedgerHotPath.bind(h, 5, returnedID)
            LedgerHotPath.bind(h, 6, outcome.rawValue)
            sqlite3_bind_int64(h, 7, attemptID)
        }
        if changed == 0 { throw LedgerError.noSuchAttempt(attemptID) }
        if let f = remoteFigures {
            _ = try LedgerHotPath.write(db, LedgerSQL.hotInsertRemoteFigures) { h in
                LedgerHotPath.bind(h, 1, FigureSource.create.rawValue)
                LedgerHotPath.bind(h, 2, f.cashierID)
                LedgerHotPath.bind(h, 3, f.httpStatus)
                LedgerHotPath.bind(h, 4, f.currency)
                LedgerHotPath.bind(h, 5, f.exponent)
                LedgerHotPath.bind(h, 6, f.balanceMinor)
                LedgerHotPath.bind(h, 7, f.bonusBalanceMinor)
                LedgerHotPath.bind(h, 8, f.pendingPayoutTotalMinor)
                LedgerHotPath.bind(h, 9, f.balanceText)
                LedgerHotPath.bind(h, 10, f.bonusBalanceText)
                LedgerHotPath.bind(h, 11, f.pendingPayoutTotalText)
                LedgerHotPath.bind(h, 12, stamp)
                sqlite3_bind_int64(h, 13, attemptID)
                LedgerHotPath.bind(h, 14, f.canWithdraw.map { $0 ? 1 : 0 })
                LedgerHotPath.bind(h, 15, f.cashierCreatedAt.map(LedgerTimestamp.text))
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
        let (state, cashier, deposit, reasons) = transition.parts
        try Self.transition(db, rowID: rowID, to: state, cashierID: cashier,
                            depositRequestID: deposit, reasonsJSON: reasons, stamp: stamp)
    }

    /// The body of ``Ledger/transition(rowID:to:cashierID:depositRequestID:reasonsJSON:)``.
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

    static func mayAttempt(_ operation: AttemptOperation, in state: RowState) -> Bool {
        switch operation {
        case .createCashier: state != .done && state != .rejected
        case .createDepositRequest: state != .done && state != .rejected && state != .inDoubt && state != .needsReview
        case .listDepositRequests, .getCashier, .getDepositRequest: true
        }
    }

}
