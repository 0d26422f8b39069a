import CashierModel
import Foundation
import GRDB

/// Rows: reads by batch and key, and accounting. Their state changes go through ``LedgerWriter``.
extension Ledger {
    /// One row, or nil.
    func row(id: Int64) throws -> RowRecord? {
        try pool.read { db in
            try RowRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.rowByID), arguments: [id])
        }
    }

    /// All rows of a batch (in the given states, or all when `states` is nil), in id order.
    /// For big batches prefer ``rows(batchID:states:afterID:limit:)``.
    public func rows(batchID: Int64, states: Set<RowState>? = nil) throws -> [RowRecord] {
        try rows(batchID: batchID, states: states, afterID: 0, limit: Int.max)
    }

    /// One page of rows with `id > afterID`, in id order (keyset paging: pass
    /// the last id of a page to get the next; start with 0). Each page is its
    /// own read, so the caller may write to the ledger between pages.
    public func rows(batchID: Int64, states: Set<RowState>?, afterID: Int64, limit: Int) throws -> [RowRecord] {
        let filter: String? = states.map(Self.jsonArray)
        return try pool.read { db in
            try RowRecord.fetchAll(
                db.cachedStatement(sql: LedgerSQL.rowPage),
                arguments: [batchID, afterID, filter, filter, limit])
        }
    }

    /// Streams the rows of a batch through `body` inside one read transaction
    /// (a consistent snapshot, constant memory). `body` must not write to the
    /// ledger; use the paged ``rows(batchID:states:afterID:limit:)`` for that.
    public func forEachRow(batchID: Int64, states: Set<RowState>? = nil, _ body: (RowRecord) throws -> Void) throws {
        let filter: String? = states.map(Self.jsonArray)
        try pool.read { db in
            let cursor = try RowRecord.fetchCursor(
                db.cachedStatement(sql: LedgerSQL.rowPage),
                arguments: [batchID, 0, filter, filter, Int64.max])
            while let row = try cursor.next() { try body(row) }
        }
    }

    /// Every row (all batches) of this websiteId, customerId and currency, oldest first.
    public func rows(websiteID: String, customerID: String, currency: String) throws -> [RowRecord] {
        let hash = Self.keyHash(Self.rowKey(websiteID: websiteID, customerID: customerID, currency: currency))
        return try pool.read { db in
            try RowRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.rowsByKey), arguments: [hash, websiteID, customerID, currency])
        }
    }

    /// Row counts per state for a batch; every state is present (0 when none).
    public func countsByState(batchID: Int64) throws -> [RowState: Int] {
        try pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: RowState.allCases.map { ($0, 0) })
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.countsByState), arguments: [batchID])
            while let row = try cursor.next() {
                let state: RowState = try decodeEnum(try row.decode(atIndex: 0), table: "rows")
                counts[state] = try row.decode(atIndex: 1)
            }
            return counts
        }
    }

    /// The row accounting of one batch as seen by one run (see ``RowCounts``).
    /// Rows done by this run or a later one count as `done`; rows done before it as `skippedDone`.
    public func accounting(runID: Int64, batchID: Int64) throws -> RowCounts {
        try pool.read { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: LedgerSQL.accounting), arguments: [runID, runID, batchID])
            else { throw LedgerError.noSuchBatch(batchID) }
            return RowCounts(
                read: try row.decode(forColumn: "read"), done: try row.decode(forColumn: "done"), skipped: try row.decode(forColumn: "skipped"),
                rejected: try row.decode(forColumn: "rejected"), failed: try row.decode(forColumn: "failed"), inDoubt: try row.decode(forColumn: "in_doubt"),
                needsReview: try row.decode(forColumn: "needs_review"), unfinished: try row.decode(forColumn: "unfinished"),
                cashierKnown: try row.decode(forColumn: "cashier_known"))
        }
    }

    static func jsonArray(_ states: Set<RowState>) -> String {
        // Raw values are fixed identifiers (no quotes/backslashes): safe to join.
        "[" + states.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ",") + "]"
    }
}
