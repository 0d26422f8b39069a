import Foundation
import GRDB

/// What `prune` removed, or would remove, and what it kept although it was old enough.
public struct PruneSummary: Sendable, Equatable {
    /// Batches whose rows were removed (their batch record stays, marked pruned).
    public var batches: [BatchRecord] = []
    public var rows = 0
    public var attempts = 0
    public var figures = 0
    /// Break records of runs older than the cutoff (not the latest reconciliation's).
    public var breaks = 0
    /// Batches old enough but kept, with the reason.
    public var kept: [KeptBatch] = []

    /// A batch `prune` left in place, and why.
    public struct KeptBatch: Sendable, Equatable {
        public var batch: BatchRecord
        public var reason: String
    }
}

extension Ledger {
    /// Removes the rows, attempts and figures of every batch whose last activity (its rows, and
    /// every run that touched it) is before `cutoff`, and the break records of runs finished
    /// before it. Never touched: a batch a run still holds (`running`), a batch with a row that is
    /// not done or rejected (pending, cashier_created, failed, in_doubt, needs_review), a batch
    /// with a row that has an open break in the latest reconciliation, and that reconciliation's
    /// breaks. A pruned batch keeps its record (SHA-256, counts) with `pruned_at`, so the same
    /// file is refused, never sent again. One transaction; `dryRun` counts and changes nothing.
    public func prune(before cutoff: Date, dryRun: Bool) throws -> PruneSummary {
        let stamp = LedgerTimestamp.text(cutoff)
        let pruned = now()
        // The deletes name every child table themselves (by indexed row_id), so the foreign-key
        // actions, which would scan `breaks` and `remote_figures` once per deleted row, are off.
        return try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            var summary = PruneSummary()
            try db.inTransaction {
                let protected = try Self.batchesWithOpenBreaks(db)
                let old = try BatchRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.oldBatches), arguments: [stamp, stamp])
                for batch in old {
                    if try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.runningRunsOfBatch), arguments: [batch.id]) ?? 0 > 0 {
                        summary.kept.append(PruneSummary.KeptBatch(batch: batch, reason: "a run that uses it has not finished"))
                        continue
                    }
                    let open = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.unfinishedRowsOfBatch), arguments: [batch.id]) ?? 0
                    if open > 0 {
                        summary.kept.append(PruneSummary.KeptBatch(batch: batch, reason: "\(open) row\(open == 1 ? " is" : "s are") not done (pending, failed, in doubt or needing review)"))
                        continue
                    }
                    if protected.contains(batch.id) {
                        summary.kept.append(PruneSummary.KeptBatch(batch: batch, reason: "a row has an open break in the latest reconciliation"))
                        continue
                    }
                    let counts = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.pruneCounts), arguments: [batch.id])
                    summary.rows += counts?[0] ?? 0
                    summary.attempts += counts?[1] ?? 0
                    summary.figures += counts?[2] ?? 0
                    summary.batches.append(batch)
                    guard !dryRun else { continue }
                    for sql in LedgerSQL.pruneBatch { try db.cachedStatement(sql: sql).execute(arguments: [batch.id]) }
                    try db.cachedStatement(sql: LedgerSQL.markPruned).execute(arguments: [pruned, batch.id])
                }
                summary.breaks = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.oldBreakCount), arguments: [stamp]) ?? 0
                if !dryRun {
                    // The old runs' reconciliation records go with their breaks (their reports were written when they ran).
                    for sql in LedgerSQL.deleteOldReconciliations { try db.cachedStatement(sql: sql).execute(arguments: [stamp]) }
                    try db.cachedStatement(sql: LedgerSQL.deleteOldBreaks).execute(arguments: [stamp])
                }
                return dryRun ? .rollback : .commit
            }
            return summary
        }
    }

    /// Batches holding a row with an open break in the latest reconciliation (by row, or by its
    /// websiteId, customerId and currency when the break names no row).
    static func batchesWithOpenBreaks(_ db: Database) throws -> Set<Int64> {
        var batches = Set<Int64>()
        let open = try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.openBreaksOfLatest))
        for b in open {
            if let rowID: Int64 = b["row_id"],
               let batch = try Int64.fetchOne(db.cachedStatement(sql: "SELECT batch_id FROM rows WHERE id = ?"), arguments: [rowID]) {
                batches.insert(batch)
            }
            let (website, customer, currency): (String, String, String) = (b["website_id"], b["customer_id"], b["currency"])
            let key = keyHash(rowKey(websiteID: website, customerID: customer, currency: currency))
            for batch in try Int64.fetchAll(db.cachedStatement(sql: """
                SELECT DISTINCT batch_id FROM rows
                WHERE batch_id IN (SELECT id FROM batches) AND key_hash = ? AND website_id = ? AND customer_id = ? AND currency = ?
                """), arguments: [key, website, customer, currency]) {
                batches.insert(batch)
            }
        }
        return batches
    }
}

extension LedgerSQL {
    /// Staged, unpruned batches whose rows and runs were all last active before ?1.
    static let oldBatches = """
        SELECT b.* FROM batches b
        WHERE b.pruned_at IS NULL AND b.staged_at IS NOT NULL AND b.staged_at < ?1
          AND NOT EXISTS (SELECT 1 FROM run_batches rb JOIN runs r ON r.id = rb.run_id
                          WHERE rb.batch_id = b.id AND coalesce(r.finished_at, r.started_at) >= ?2)
          AND coalesce((SELECT max(updated_at) FROM rows WHERE batch_id = b.id), '') < ?1
        ORDER BY b.id
        """
    static let runningRunsOfBatch = """
        SELECT count(*) FROM run_batches rb JOIN runs r ON r.id = rb.run_id WHERE rb.batch_id = ? AND r.status = 'running'
        """
    static let unfinishedRowsOfBatch = """
        SELECT count(*) FROM rows WHERE batch_id = ? AND state NOT IN ('done', 'rejected')
        """
    static let openBreaksOfLatest = """
        SELECT row_id, website_id, customer_id, currency FROM breaks
        WHERE run_id = (SELECT max(run_id) FROM breaks) AND lifecycle <> 'resolved' AND opening = 0
        """
    static let pruneCounts = """
        SELECT count(*),
               (SELECT count(*) FROM attempt_log WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)),
               (SELECT count(*) FROM figure_log WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1))
        FROM rows WHERE batch_id = ?1
        """
    /// Every table that points at a row, then the rows (foreign keys are off while they run).
    static let pruneBatch = [
        "DELETE FROM figure_log WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)",
        "DELETE FROM attempt_log WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)",
        "DELETE FROM resolutions WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)",
        "DELETE FROM review_candidates WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)",
        "UPDATE breaks SET row_id = NULL WHERE row_id IN (SELECT id FROM rows WHERE batch_id = ?1)",
        "DELETE FROM rows WHERE batch_id = ?1",
    ]
    static let markPruned = "UPDATE batches SET pruned_at = ? WHERE id = ?"
    /// Breaks of runs finished before ?1, except the latest reconciliation's (the next one's baseline).
    static let oldBreaksFilter = """
        run_id <> (SELECT max(run_id) FROM breaks)
          AND run_id IN (SELECT id FROM runs WHERE status <> 'running' AND coalesce(finished_at, started_at) < ?1)
        """
    static let oldBreakCount = "SELECT count(*) FROM breaks WHERE " + oldBreaksFilter
    static let deleteOldBreaks = "DELETE FROM breaks WHERE " + oldBreaksFilter
    static let deleteOldReconciliations = [
        "DELETE FROM reconciliation_totals WHERE " + oldBreaksFilter,
        "DELETE FROM reconciliations WHERE " + oldBreaksFilter,
    ]
}

extension Ledger {
    /// Rewrites the file without its free pages (`VACUUM`): it shrinks to what it holds. Needs
    /// free disk space about the ledger's size while it runs.
    public func vacuum() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
    }
}
