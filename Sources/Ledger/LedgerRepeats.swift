import Foundation
import GRDB

/// A batch whose rows repeat rows already done: the same export saved again under another
/// SHA-256 (CRLF line endings, a re-export) would send every deposit request a second time.
public struct RepeatFinding: Sendable, Equatable {
    /// Rows of the batch (valid, not done by the batch itself) that repeat a done row.
    public var repeated: Int
    /// The batch's valid rows.
    public var valid: Int
    /// The earlier batch most of them repeat, its path and the last run that sent its rows.
    public var earlierBatchID: Int64
    public var earlierPath: String
    public var earlierRunID: Int64?

    /// More than half the valid rows repeat.
    public var isRepeat: Bool { valid > 0 && repeated * 2 > valid }
}

extension Ledger {
    /// Rows of `batchID` that repeat a row of another batch done since `since`: the same
    /// websiteId, customerId and currency (the row key), the same cashier figures and the same
    /// deposit request fields. Nil when none does.
    public func repeatedRows(batchID: Int64, since: Date) throws -> RepeatFinding? {
        let stamp = LedgerTimestamp.text(since)
        return try pool.read { db in
            guard let top = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.repeatedRowsByEarlierBatch), arguments: [batchID, stamp]),
                  let earlier: Int64 = top["batch_id"]
            else { return nil }
            let repeated = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.repeatedRowCount), arguments: [batchID, stamp]) ?? 0
            let valid = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.validRowCount), arguments: [batchID]) ?? 0
            return RepeatFinding(repeated: repeated, valid: valid, earlierBatchID: earlier, earlierPath: top["path"],
                                 earlierRunID: top["run_id"])
        }
    }

    /// Records that `run --allow-repeat` let the batch through: later runs resume it unasked.
    public func allowRepeat(batchID: Int64) throws {
        try pool.write { db in
            try db.cachedStatement(sql: LedgerSQL.allowRepeat).execute(arguments: [batchID])
            if db.changesCount == 0 { throw LedgerError.noSuchBatch(batchID) }
        }
    }
}

extension LedgerSQL {
    // A row repeats when another batch's row with its key is done since ?2 with the same
    // canonical payload (by its 64-bit hash): every figure of the cashier and every field of the
    // deposit request. Two payloads that differ but hash alike would be taken as a repeat and
    // refused, the safe side. A row done since ?2 was done by a run that had not finished by ?2,
    // so only those runs' batches are looked in, each by its (batch_id, key_hash) index.
    static let recentBatches = """
        recent(batch_id) AS (
            SELECT DISTINCT rb.batch_id FROM run_batches rb JOIN runs r ON r.id = rb.run_id
            WHERE (r.finished_at IS NULL OR r.finished_at >= ?2) AND rb.batch_id <> ?1)
        """
    static let repeatedRowsByEarlierBatch = """
        WITH \(recentBatches)
        SELECT o.batch_id AS batch_id, b.path AS path, max(o.last_run_id) AS run_id, count(DISTINCT n.id) AS n
        FROM rows n
        JOIN recent
        JOIN rows o ON o.batch_id = recent.batch_id AND o.key_hash = n.key_hash AND o.website_id = n.website_id
                   AND o.customer_id = n.customer_id AND o.currency = n.currency
        JOIN batches b ON b.id = o.batch_id
        WHERE n.batch_id = ?1 AND n.state NOT IN ('rejected', 'done') AND o.state = 'done' AND o.updated_at >= ?2
          AND o.payload_hash = n.payload_hash
        GROUP BY o.batch_id ORDER BY n DESC, o.batch_id LIMIT 1
        """
    static let repeatedRowCount = """
        WITH \(recentBatches)
        SELECT count(DISTINCT n.id)
        FROM rows n
        JOIN recent
        JOIN rows o ON o.batch_id = recent.batch_id AND o.key_hash = n.key_hash AND o.website_id = n.website_id
                   AND o.customer_id = n.customer_id AND o.currency = n.currency
        WHERE n.batch_id = ?1 AND n.state NOT IN ('rejected', 'done') AND o.state = 'done' AND o.updated_at >= ?2
          AND o.payload_hash = n.payload_hash
        """
    static let validRowCount = "SELECT count(*) FROM rows WHERE batch_id = ? AND state <> 'rejected'"
    static let allowRepeat = "UPDATE batches SET repeat_allowed = 1 WHERE id = ?"
}
