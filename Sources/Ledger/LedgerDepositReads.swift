import CashierModel
import Foundation
import GRDB

/// The ledger reads a deposit-request check makes: the night's window per website, and each
/// page's deposit calls, so the check holds a page of rows, never the night's.
extension Ledger {
    /// Per websiteId (as the batch spelled it), the first deposit POST and the last deposit call
    /// (its answer, else the call) of the `done` rows of `batchID` that recorded a deposit request
    /// and POSTed one, over every run.
    ///
    /// The calls are read in the rows' order and folded here, a few websites' bounds at a time:
    /// SQLite's GROUP BY would sort every call of the night in memory first.
    public func depositWindows(batchID: Int64) throws -> [(websiteID: String, from: Date, to: Date)] {
        try pool.read { db in
            // Ledger timestamps are fixed-width UTC text: their order is the order of time.
            var bounds: [String: (from: String?, to: String)] = [:]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.depositCallsOfBatch), arguments: [batchID])
            while let row = try cursor.next() {
                guard let website: String = try row.decode(atIndex: 0), let operation: String = try row.decode(atIndex: 1), let requested: String = try row.decode(atIndex: 2) else { continue }
                let last: String = try row.decode(atIndex: 3) ?? requested
                var bound = bounds[website] ?? (from: nil, to: last)
                if operation == AttemptOperation.createDepositRequest.rawValue, bound.from.map({ requested < $0 }) ?? true {
                    bound.from = requested
                }
                bound.to = max(bound.to, last)
                bounds[website] = bound
            }
            return bounds.sorted { $0.key < $1.key }.compactMap { website, bound in
                guard let from = bound.from.flatMap({ Date.fromDatabaseValue($0.databaseValue) }),
                      let to = Date.fromDatabaseValue(bound.to.databaseValue) else { return nil }
                return (website, from, to)
            }
        }
    }

    /// The deposit calls (`create_deposit_request`, `list_deposit_requests`) of the rows with an
    /// id in `rows`, oldest first, by row.
    public func depositCalls(rows: ClosedRange<Int64>) throws -> [Int64: [AttemptRecord]] {
        try pool.read { db in
            var calls: [Int64: [AttemptRecord]] = [:]
            let cursor = try AttemptRecord.fetchCursor(db.cachedStatement(sql: LedgerSQL.depositCallsOfRows),
                                                       arguments: [rows.lowerBound, rows.upperBound])
            while let attempt = try cursor.next() { calls[attempt.rowID, default: []].append(attempt) }
            return calls
        }
    }
}

extension LedgerSQL {
    /// ?1 batch: the deposit calls of its done rows that recorded a deposit request and POSTed one.
    static let depositCallsOfBatch = """
        SELECT r.website_id, a.operation, a.requested_at, a.finished_at
        FROM rows r JOIN attempts a ON a.row_id = r.id
        WHERE r.batch_id = ?1 AND r.state = 'done' AND r.deposit_request_id IS NOT NULL
          AND a.operation IN ('create_deposit_request', 'list_deposit_requests')
          AND EXISTS (SELECT 1 FROM attempts p WHERE p.row_id = r.id AND p.operation = 'create_deposit_request')
        """
    static let depositCallsOfRows = """
        SELECT * FROM attempts
        WHERE row_id BETWEEN ? AND ? AND operation IN ('create_deposit_request', 'list_deposit_requests')
        ORDER BY row_id, id
        """
}
