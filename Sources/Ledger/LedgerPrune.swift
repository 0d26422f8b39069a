import CashierModel
import Foundation
import GRDB

/// What `prune` removed, or would remove, and what it kept although it was old enough.
public struct PruneSummary: Sendable, Equatable {
    /// Batches whose rows were removed (their batch record stays, marked pruned).
    public var batches: [BatchRecord] = []
    public var rows = 0
    public var attempts = 0
    public var figures = 0
    /// Break records of the old reconciliations removed with them.
    public var breaks = 0
    /// Batches old enough but kept, with the reason.
    public var kept: [KeptBatch] = []

    /// A batch `prune` left in place, and why.
    public struct KeptBatch: Sendable, Equatable {
        public var batch: BatchRecord
        public var reason: String
    }
}

/// A break record that is still open: the latest state of its key (docs/ledger.md, "Pruning old nights").
struct OpenBreak {
    var runID: Int64
    var rowID: Int64?
    var websiteID: String
    var customerID: String
    var currency: String
    var field: String
    var opening: Bool
    /// `breaks.created_at` as stored: when its reconciliation was made.
    var createdAt: String
}

extension Ledger {
    /// Removes the rows, attempts and figures of every batch whose last activity (its rows, and
    /// every run that touched it) is before `cutoff`, and the old reconciliations no one needs.
    /// Never touched: a batch a run still holds (`running`), a batch with a row that is not done or
    /// rejected (pending, cashier_created, failed, in_doubt, needs_review), a batch holding a row an
    /// open break is about (any reconciliation's, opening differences apart), and the
    /// reconciliations that hold an open break, were made since `cutoff`, or are the baseline of
    /// the next reconciliation or of a run that can still be reconciled. A pruned batch keeps its
    /// record (SHA-256, counts) with `pruned_at`, so the same file is refused, never sent again.
    /// One transaction; `dryRun` counts and changes nothing.
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
                let openBreaks = try Self.openBreaks(db)
                let holding = try Self.batchesHolding(openBreaks.filter { !$0.opening }, db)
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
                    if let run = holding[batch.id] {
                        summary.kept.append(PruneSummary.KeptBatch(batch: batch, reason: "a row has an open break, recorded by run \(run)'s reconciliation"))
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
                // The old runs' reconciliation records go with their breaks (their reports were written when they ran).
                let prunedNow = Set(summary.batches.map(\.id))
                for run in try Self.oldReconciliations(db, before: stamp, open: openBreaks, prunedNow: prunedNow) {
                    summary.breaks += try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.breakCountOfRun), arguments: [run]) ?? 0
                    guard !dryRun else { continue }
                    for sql in ReconciliationSQL.deleteOfRun { try db.cachedStatement(sql: sql).execute(arguments: [run]) }
                }
                return dryRun ? .rollback : .commit
            }
            return summary
        }
    }

    /// Every break record that is still open: not resolved, and no reconciliation of a later run
    /// made since has recorded its key again or, for a figure, compared its cashier.
    static func openBreaks(_ db: Database) throws -> [OpenBreak] {
        let lastReconciled = try Int64.fetchOne(db.cachedStatement(sql: LedgerSQL.lastReconciledRun)) ?? 0
        var open: [OpenBreak] = []
        for row in try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.unsupersededBreaks)) {
            let b = OpenBreak(runID: try row.decode(forColumn: "run_id"), rowID: try row.decode(forColumn: "row_id"),
                              websiteID: try row.decode(forColumn: "website_id"), customerID: try row.decode(forColumn: "customer_id"),
                              currency: try row.decode(forColumn: "currency"), field: try row.decode(forColumn: "field"),
                              opening: try row.decode(forColumn: "opening"), createdAt: try row.decode(forColumn: "created_at"))
            if b.runID < lastReconciled, BreakField(rawValue: b.field)?.figure != nil {
                let key = keyHash(rowKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency))
                let compared = try Bool.fetchOne(db.cachedStatement(sql: LedgerSQL.cashierComparedSince), arguments: [
                    b.runID, b.createdAt, key, b.websiteID, b.customerID, b.currency,
                ]) ?? false
                if compared { continue }
            }
            open.append(b)
        }
        return open
    }

    /// The batches holding a row these breaks are about, each with the latest run whose
    /// reconciliation holds one: the row a break names, and the rows of its cashier in the
    /// batches of the run it was recorded for.
    static func batchesHolding(_ breaks: [OpenBreak], _ db: Database) throws -> [Int64: Int64] {
        var holding: [Int64: Int64] = [:]
        for b in breaks {
            var batches: [Int64] = []
            if let rowID = b.rowID, let batch = try Int64.fetchOne(db.cachedStatement(sql: LedgerSQL.batchOfRow), arguments: [rowID]) {
                batches.append(batch)
            }
            let key = keyHash(rowKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency))
            batches += try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.batchesOfRunHoldingCashier),
                                          arguments: [b.runID, key, b.websiteID, b.customerID, b.currency])
            for batch in batches { holding[batch] = max(holding[batch] ?? 0, b.runID) }
        }
        return holding
    }

    /// The runs whose reconciliation records `prune` removes: finished and reconciled before
    /// `stamp`, holding no open break, not the latest to record breaks (the next
    /// reconciliation's baseline), and not the baseline of a `run` or `retry` none of whose
    /// batches is pruned (`reconcile --run` of it reads that baseline again).
    static func oldReconciliations(_ db: Database, before stamp: String, open: [OpenBreak], prunedNow: Set<Int64>) throws -> [Int64] {
        var kept = Set(open.map(\.runID))
        let breakRuns = try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.runsWithBreaks))
        if let latest = breakRuns.last { kept.insert(latest) }
        var whole: [Int64: Bool] = [:]
        let commands = "[" + RunRecord.nightCommands.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]"
        for row in try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.batchesOfNightRuns), arguments: [commands]) {
            let run: Int64 = try row.decode(atIndex: 0), batch: Int64? = try row.decode(atIndex: 1), wasPruned: Bool = try row.decode(atIndex: 2)
            let gone = wasPruned || batch.map(prunedNow.contains) ?? false
            whole[run] = (whole[run] ?? true) && !gone
        }
        var i = 0
        for run in whole.filter(\.value).keys.sorted() {
            while i < breakRuns.count, breakRuns[i] < run { i += 1 }
            if i > 0 { kept.insert(breakRuns[i - 1]) }
        }
        return try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.oldReconciledRuns), arguments: [stamp]).filter { !kept.contains($0) }
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
    /// Break records not resolved whose key (website, customer, currency, field) no reconciliation
    /// of a later run, made at or after them, recorded again (persisting, carried or resolved).
    static let unsupersededBreaks = """
        SELECT b.run_id, b.row_id, b.website_id, b.customer_id, b.currency, b.field, b.opening, b.created_at FROM breaks b
        WHERE b.lifecycle <> 'resolved'
          AND NOT EXISTS (SELECT 1 FROM breaks l
                          WHERE l.website_id = b.website_id AND l.customer_id = b.customer_id AND l.currency = b.currency
                            AND l.field = b.field AND l.run_id > b.run_id AND l.created_at >= b.created_at)
        ORDER BY b.run_id, b.id
        """
    static let lastReconciledRun = "SELECT max(run_id) FROM reconciliations"
    /// Whether a reconciliation of a run after ?1, made at or after ?2, compared the cashier
    /// (?3 key hash, ?4 website, ?5 customer, ?6 currency): its run's batches hold a row of it with
    /// a cashier, and it did not list the cashier as unread.
    static let cashierComparedSince = """
        SELECT EXISTS (
          SELECT 1 FROM reconciliations c JOIN run_batches rb ON rb.run_id = c.run_id
            JOIN rows r ON r.batch_id = rb.batch_id AND r.key_hash = ?3
          WHERE c.run_id > ?1 AND c.reconciled_at >= ?2
            AND r.website_id = ?4 AND r.customer_id = ?5 AND r.currency = ?6 AND r.cashier_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM json_each(c.unread_json) u
                            WHERE json_extract(u.value, '$.websiteID') = ?4 AND json_extract(u.value, '$.customerID') = ?5
                              AND json_extract(u.value, '$.currency') = ?6))
        """
    static let batchOfRow = "SELECT batch_id FROM rows WHERE id = ?"
    /// The batches of run ?1 holding a row of the cashier (?2 key hash, ?3 website, ?4 customer, ?5 currency).
    static let batchesOfRunHoldingCashier = """
        SELECT rb.batch_id FROM run_batches rb
        WHERE rb.run_id = ?1
          AND EXISTS (SELECT 1 FROM rows r WHERE r.batch_id = rb.batch_id AND r.key_hash = ?2
                        AND r.website_id = ?3 AND r.customer_id = ?4 AND r.currency = ?5)
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
    static let runsWithBreaks = "SELECT DISTINCT run_id FROM breaks ORDER BY run_id"
    /// Each run of the commands in the JSON array ?1 with each of its batches (none: NULL) and
    /// whether that batch is pruned.
    static let batchesOfNightRuns = """
        SELECT r.id, rb.batch_id, b.pruned_at IS NOT NULL FROM runs r
        LEFT JOIN run_batches rb ON rb.run_id = r.id LEFT JOIN batches b ON b.id = rb.batch_id
        WHERE r.command IN (SELECT value FROM json_each(?1))
        """
    /// Runs finished before ?1 whose reconciliation (or breaks, in a ledger older than whole
    /// reconciliations) was made before ?1.
    static let oldReconciledRuns = """
        SELECT r.id FROM runs r
        WHERE r.status <> 'running' AND coalesce(r.finished_at, r.started_at) < ?1
          AND (EXISTS (SELECT 1 FROM reconciliations c WHERE c.run_id = r.id) OR EXISTS (SELECT 1 FROM breaks b WHERE b.run_id = r.id))
          AND NOT EXISTS (SELECT 1 FROM reconciliations c WHERE c.run_id = r.id AND c.reconciled_at >= ?1)
          AND NOT EXISTS (SELECT 1 FROM breaks b WHERE b.run_id = r.id AND b.created_at >= ?1)
        ORDER BY r.id
        """
    static let breakCountOfRun = "SELECT count(*) FROM breaks WHERE run_id = ?"
}

extension Ledger {
    /// Rewrites the file without its free pages (`VACUUM`): it shrinks to what it holds. Needs
    /// free disk space about the ledger's size while it runs.
    public func vacuum() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
    }
}
