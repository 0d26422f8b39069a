#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation
import GRDB

/// The cashier an earlier night recorded for a row's customer, reused instead of a
/// `POST /cashiers` (which Rebilly answers 200 "retrieved", changing nothing, for a write).
public struct KnownCashier: Sendable, Equatable {
    /// Rebilly's cashier id, as the earlier row recorded it.
    public var cashierID: String
    /// The row that created it (`rows.cashier_known_from` of the row that reuses it).
    public var fromRowID: Int64

    public init(cashierID: String, fromRowID: Int64) {
        self.cashierID = cashierID
        self.fromRowID = fromRowID
    }
}

/// Known customers: the one lookup of a cashier an earlier night created, and the row's move to
/// `cashier_created` with it (no create attempt).
extension Ledger {
    /// For the rows of `batchID` with ids in `rows` that have no cashier yet and would create one
    /// (`pending`, `failed`, `cashier_created` without an id), the cashier an earlier night recorded
    /// for the same website, customer and currency (exact, case included), in the same
    /// organization: the latest row of an earlier batch, `done` or `cashier_created`, that created
    /// its cashier (a succeeded `create_cashier` of an earlier run returned that id) in a run whose
    /// `apiUrl` and `organizationId` options are run `runID`'s. A customer with open drift (a
    /// figure break of the baseline run, `Ledger/baseline(beforeRunID:)`, open and not opening)
    /// is left out: it makes its `POST /cashiers`, whose answer the night's reconciliation
    /// rechecks the break with. One statement per page: one seek of the partial index
    /// `rows_cashier_key` per row (v13), one of `breaks_key`.
    public func knownCashiers(runID: Int64, batchID: Int64, rows: ClosedRange<Int64>) throws -> [Int64: KnownCashier] {
        try pool.read { db in
            var found: [Int64: KnownCashier] = [:]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: Self.knownCashiersSQL),
                                             arguments: [runID, batchID, rows.lowerBound, rows.upperBound])
            while let row = try cursor.next() {
                found[row[0]] = KnownCashier(cashierID: row[2], fromRowID: row[1])
            }
            return found
        }
    }

    /// How many open rows of `batchID` ``knownCashiers(runID:batchID:rows:)`` would find a cashier
    /// for: the creates a forecast need not count.
    public func knownCashierCount(runID: Int64, batchID: Int64) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(Self.knownCashiersSQL))",
                             arguments: [runID, batchID, Int64.min, Int64.max]) ?? 0
        }
    }

    /// ?1 the current run, ?2 the batch, ?3…?4 the page's row ids. `attempt_log.operation` 1 is
    /// `create_cashier`, `outcome` 1 `succeeded` (v11's code tables).
    static let knownCashiersSQL = """
        SELECT r.id, k.id, k.cashier_id
        FROM rows r
        JOIN rows k ON k.id = (
            SELECT c.id FROM rows c
            WHERE c.key_hash = r.key_hash AND c.cashier_id IS NOT NULL AND c.cashier_known_from IS NULL
              AND c.batch_id < r.batch_id AND c.state IN ('done', 'cashier_created')
              AND c.website_id = r.website_id AND c.customer_id = r.customer_id AND c.currency = r.currency
              AND EXISTS (
                  SELECT 1 FROM attempt_log a JOIN runs u ON u.id = a.run_id
                  WHERE a.row_id = c.id AND a.operation = 1 AND a.outcome = 1 AND a.returned_id = c.cashier_id AND a.run_id < ?1
                    AND u.options_json ->> '$.apiUrl' IS (SELECT options_json ->> '$.apiUrl' FROM runs WHERE id = ?1)
                    AND u.options_json ->> '$.organizationId' IS (SELECT options_json ->> '$.organizationId' FROM runs WHERE id = ?1))
            ORDER BY c.id DESC LIMIT 1)
        WHERE r.batch_id = ?2 AND r.id BETWEEN ?3 AND ?4 AND r.cashier_id IS NULL AND r.key_hash IS NOT NULL
          AND r.request IS NOT NULL AND r.state IN ('pending', 'failed', 'cashier_created')
          AND NOT EXISTS (
              SELECT 1 FROM breaks b
              WHERE b.website_id = r.website_id AND b.customer_id = r.customer_id AND b.currency = r.currency
                AND b.field IN ('balance', 'bonusBalance', 'pendingPayoutTotal')
                AND b.run_id = (SELECT max(run_id) FROM breaks WHERE run_id < ?1)
                AND b.lifecycle <> 'resolved' AND b.opening = 0)
        """

    /// ?1 cashier id, ?2 the row it came from, ?3 stamp, ?4 row.
    static let adoptKnownCashierSQL = """
        UPDATE rows SET state = 'cashier_created', cashier_id = ?1, cashier_known_from = ?2, updated_at = ?3
        WHERE id = ?4 AND cashier_id IS NULL AND state IN ('pending', 'failed', 'cashier_created')
        """
}

extension LedgerWriter {
    /// Moves a row without a cashier to `cashier_created` with the cashier an earlier night
    /// recorded (``Ledger/knownCashiers(runID:batchID:rows:)``), marking where it came from; no
    /// attempt is recorded. Throws ``LedgerError/illegalTransition(rowID:from:to:)`` for a row that
    /// already has a cashier or cannot take one.
    public func adoptKnownCashier(rowID: Int64, _ known: KnownCashier) async throws {
        let stamp = LedgerTimestamp.text(ledger.now())
        try await submit { db in
            let changed = try LedgerHotPath.write(db, Ledger.adoptKnownCashierSQL) { h in
                LedgerHotPath.bind(h, 1, known.cashierID)
                sqlite3_bind_int64(h, 2, known.fromRowID)
                LedgerHotPath.bind(h, 3, stamp)
                sqlite3_bind_int64(h, 4, rowID)
            }
            if changed == 0 {
                guard let current = try LedgerHotPath.state(db, rowID: rowID) else { throw LedgerError.noSuchRow(rowID) }
                throw LedgerError.illegalTransition(rowID: rowID, from: current, to: .cashierCreated)
            }
        }
    }
}
