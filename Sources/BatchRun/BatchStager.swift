import BatchInput
import CashierModel
import Ledger

/// Stages batches into the SQLite ledger while they are scanned (`validate --db`, and
/// the first step of `run`): one batch record per file (reused when the same bytes were
/// seen before), every row with its verdict, in large transactions.
public struct BatchStager: Sendable {
    public let ledger: Ledger
    public let runID: Int64

    public init(ledger: Ledger, runID: Int64) {
        self.ledger = ledger
        self.runID = runID
    }

    /// Registers the batch by the SHA-256 of its bytes and returns the staging sink for its rows.
    public func beginBatch(path: String) throws -> BatchStaging {
        let sha = try FileByteSource.sha256(path: path)
        let format = try BatchInput.BatchFormat.detect(path: path)
        let (batch, _) = try ledger.upsertBatch(
            NewBatch(sha256: sha, path: path, format: format.syntax == .csv ? .csv : .jsonl, gzip: format.gzip),
            runID: runID)
        return BatchStaging(ledger: ledger, batch: batch)
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
    private static let chunk = 20_000

    init(ledger: Ledger, batch: BatchRecord) {
        self.ledger = ledger
        self.batch = batch
        pending.reserveCapacity(Self.chunk)
    }

    public func add(_ record: RawRecord, _ verdict: RowVerdict) throws {
        pending.append(Self.stagedRow(record, verdict))
        if pending.count >= Self.chunk { try flush() }
    }

    public func finish(_ summary: BatchSummary) throws {
        try flush()
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

    static func stagedRow(_ record: RawRecord, _ verdict: RowVerdict) -> StagedRow {
        switch verdict {
        case let .valid(row):
            let key = row.key
            return StagedRow(
                line: row.line,
                rowKey: Ledger.rowKey(websiteID: key.websiteId, customerID: key.customerId, currency: key.currency),
                websiteID: key.websiteId, customerID: key.customerId, currency: key.currency,
                payloadJSON: row.payloadJSON, sourceJSON: record.sourceJSON, state: .pending, reasonsJSON: nil)
        case let .rejected(line, issues):
            let website = record[.websiteId]?.scalarText
            let customer = record[.customerId]?.scalarText
            let currency = record[.currency]?.scalarText
            var key: String?
            if let website, let customer, let currency {
                key = Ledger.rowKey(websiteID: website, customerID: customer, currency: currency)
            }
            return StagedRow(
                line: line, rowKey: key, websiteID: website, customerID: customer, currency: currency,
                payloadJSON: nil, sourceJSON: record.sourceJSON, state: .rejected, reasonsJSON: reasonsJSON(issues))
        }
    }

    static func reasonsJSON(_ issues: [FieldIssue]) -> String {
        var w = JSONWriter()
        w.beginArray()
        for issue in issues {
            w.beginObject(); w.string("field", issue.field); w.string("message", issue.message); w.endObject()
        }
        w.endArray()
        return w.text
    }
}
