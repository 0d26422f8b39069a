import BatchInput
import CashierModel
import Ledger

/// Stages batches into the SQLite ledger while they are scanned (`validate --db`, and
/// the first step of `run`): one batch record per file (reused when the same bytes were
/// seen before), every row with its verdict, in large transactions.
public struct BatchStager: Sendable {
    public let ledger: Ledger
    public let runID: Int64
    /// `--shard i/N`: only this shard's rows are staged (nil: every row).
    public let shard: Shard?

    public init(ledger: Ledger, runID: Int64, shard: Shard? = nil) {
        self.ledger = ledger
        self.runID = runID
        self.shard = shard
    }

    /// Registers the batch by the SHA-256 of its bytes and returns the staging sink for its rows.
    public func beginBatch(_ file: BatchFile) throws -> BatchStaging {
        let sha = try file.sha256()
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha, path: file.path, format: try BatchFormat.detect(file)), runID: runID)
        return BatchStaging(ledger: ledger, batch: batch, shard: shard)
    }
}

/// Writes a batch's rows into the ledger as they are scanned; re-staging a batch leaves rows
/// already in the ledger untouched (idempotent per batch and line).
public final class BatchStaging {
    private let ledger: Ledger
    /// The batch as the ledger knew it before this staging (`stagedAt` set = fully staged before).
    public let batch: BatchRecord
    public var batchID: Int64 { batch.id }
    private let shard: Shard?
    /// Records of the file that belong to other shards (not staged, never sent by this run).
    public private(set) var otherShardRows = 0
    /// Of those, the rejected ones (another shard reports them).
    public private(set) var otherShardRejectedRows = 0

    init(ledger: Ledger, batch: BatchRecord, shard: Shard? = nil) {
        self.ledger = ledger
        self.batch = batch
        self.shard = shard
    }

    /// Runs `scan`, staging every row it hands to `add` (this shard's only) as it comes, then
    /// records the end of staging with the scan's summary, which it returns.
    public func stage(_ scan: (_ add: (RawRecord, RowVerdict) throws -> Void) throws -> BatchSummary) throws -> BatchSummary {
        var summary: BatchSummary?
        try ledger.stageRows(batchID: batchID) { stage in
            // `scan` calls it only while this closure runs.
            try withoutActuallyEscaping(stage) { stage in
                summary = try scan { record, verdict in
                    if self.belongsToAnotherShard(record, verdict) { return }
                    try stage(StagedRow(record, verdict))
                }
            }
        }
        guard let summary else { preconditionFailure("a scan that returned has a summary") }
        try finish(summary)
        return summary
    }

    private func belongsToAnotherShard(_ record: RawRecord, _ verdict: RowVerdict) -> Bool {
        guard let shard else { return false }
        let customerID: String?
        switch verdict {
        case let .valid(row): customerID = row.key.customerId
        case .rejected: customerID = record[.customerId]?.scalarText
        }
        if shard.owns(customerID: customerID) { return false }
        otherShardRows += 1
        if case .rejected = verdict { otherShardRejectedRows += 1 }
        return true
    }

    private func finish(_ summary: BatchSummary) throws {
        // With a shard the batch's counts are this shard's rows, so row accounting closes per ledger.
        var summary = summary
        summary.rowsRead -= otherShardRows
        summary.rejected -= otherShardRejectedRows
        summary.valid -= otherShardRows - otherShardRejectedRows
        let verdict: ControlVerdict
        switch summary.control {
        case nil: verdict = .absent
        case let check? where check.matched: verdict = .matched
        case .some: verdict = .mismatch
        }
        try ledger.finishStaging(
            batchID: batchID, rowCount: summary.rowsRead, valid: summary.valid, rejected: summary.rejected,
            controlVerdict: verdict, controlDetail: summary.control.map { $0.differences.joined(separator: "\n") })
    }
}
