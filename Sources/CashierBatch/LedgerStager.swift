import BatchInput
import CashierModel

/// Placeholder until the Ledger module lands: staging into SQLite for `validate --db`.
final class LedgerStager {
    init(path: String, command: String) throws { throw ValidationErrorText("--db is not available yet") }
    func beginBatch(path: String) throws -> BatchStaging { BatchStaging() }
    func finish(exitStatus: ExitStatus) throws {}
}
final class BatchStaging {
    func add(_ record: RawRecord, _ verdict: RowVerdict) throws {}
    func finish(_ summary: BatchSummary) throws {}
}
struct ValidationErrorText: Error { let text: String; init(_ t: String) { text = t } }
