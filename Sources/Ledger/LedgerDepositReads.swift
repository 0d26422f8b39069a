import Foundation
import GRDB

/// The ledger reads a deposit-request check makes: the night's window per website, and each
/// page's deposit calls, so the check holds a page of rows, never the night's.
extension Ledger {
    /// Per websiteId (as the batch spelled it), the first deposit POST and the last deposit call
    /// (its answer, else the call) of the `done` rows of `batchID` that recorded a deposit request
    /// and POSTed one, over every run.
    public func depositWindows(batchID: Int64) throws -> [(websiteID: String, from: Date, to: Date)] {
        try pool.read { db in
            var windows: [(websiteID: String, from: Date, to: Date)] = []
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.depositWindowsOfBatch), arguments: [batchID])
            while let row = try cursor.next() {
                guard let website: String = row[0], let from: Date = row[1], let to: Date = row[2] else { continue }
                windows.append((website, from, to))
            }
            return windows
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
    static let depositWindowsOfBatch = """
        SELECT r.website_id,
               min(CASE WHEN a.operation = 'create_deposit_request' THEN a.requested_at END),
               max(coalesce(a.finished_at, a.requested_at))
        FROM rows r JOIN attempts a ON a.row_id = r.id
        WHERE r.batch_id = ? AND r.state = 'done' AND r.deposit_request_id IS NOT NULL
          AND a.operation IN ('create_deposit_request', 'list_deposit_requests')
          AND EXISTS (SELECT 1 FROM attempts p WHERE p.row_id = r.id AND p.operation = 'create_deposit_request')
        GROUP BY r.website_id
        """
    static let depositCallsOfRows = """
        SELECT * FROM attempts
        WHERE row_id BETWEEN ? AND ? AND operation IN ('create_deposit_request', 'list_deposit_requests')
        ORDER BY row_id, id
        """
}
