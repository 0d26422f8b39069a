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

/// Collects a batch's rows and writes them in chunks; re-staging a batch leaves rows
/// already in the ledger untouched (idempotent per batch and line).
public final class BatchStaging {
    private let ledger: Ledger
    /// The batch as the ledger knew it before this staging (`stagedAt` set = fully staged before).
    public let batch: BatchRecord
    public var batchID: Int64 { batch.id }
    private var pending: [StagedRow] = []
    /// Rows written per transaction: small enough that the rows held in memory stay a few MB
    /// whatever the batch's size, large enough that commits cost little (one per chunk).
    private static let chunk = 2_000
    private let shard: Shard?
    /// Records of the file that belong to other shards (not staged, never sent by this run).
    public private(set) var otherShardRows = 0
    /// Of those, the rejected ones (another shard reports them).
    public private(set) var otherShardRejectedRows = 0

    init(ledger: Ledger, batch: BatchRecord, shard: Shard? = nil) {
        self.ledger = ledger
        self.batch = batch
        self.shard = shard
        pending.reserveCapacity(Self.chunk)
    }

    public func add(_ record: RawRecord, _ verdict: RowVerdict) throws {
        if let shard {
            let customerID: String?
            switch verdict {
            case let .valid(row): customerID = row.key.customerId
            case .rejected: customerID = record[.customerId]?.scalarText
            }
            if !shard.owns(customerID: customerID) {
                otherShardRows += 1
                if case .rejected = verdict { otherShardRejectedRows += 1 }
                return
            }
        }
        pending.append(StagedRow(record, verdict))
        if pending.count >= Self.chunk { try flush() }
    }

    public func finish(_ summary: BatchSummary) throws {
        try flush()
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

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try ledger.stageRows(batchID: batchID, rows: pending)
        pending.removeAll(keepingCapacity: true)
    }
}
