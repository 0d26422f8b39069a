import CashierModel
import Foundation

// Enumerations stored as TEXT in the ledger. Every raw value here is also listed
// in a CHECK constraint of the schema (see `LedgerSchema`), so a typo written
// with `sqlite3` by hand is refused by the database itself.

/// The lifecycle of one invocation of the job (`runs.status`).
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    /// The run has started and has not been closed yet (or its process died and
    /// nobody has noticed yet; see ``Ledger/recoverCrashedRuns(currentRunID:)``).
    case running
    /// The run went to its end (whatever its exit code).
    case finished
    /// The run was stopped by SIGINT/SIGTERM and closed itself cleanly.
    case interrupted
    /// The run's process died without closing the run (kill -9, power loss, crash);
    /// set by a later run during recovery.
    case crashed
}

/// What the control manifest (`<file>.control.json`) said (`batches.control_verdict`).
public enum ControlVerdict: String, Sendable, CaseIterable, Codable {
    /// No manifest next to the batch.
    case absent
    /// The manifest's row count and per-currency totals matched the batch.
    case matched
    /// They did not; the batch was refused (`control_detail` says why).
    case mismatch
}

/// Where a reconciliation break is in its life across runs (`breaks.lifecycle`).
public enum BreakLifecycle: String, Sendable, CaseIterable, Codable {
    /// First seen in this run.
    case new
    /// Seen in an earlier run too (`first_seen_run_id`, `first_seen_at`).
    case persisting
    /// Seen in an earlier run, gone in this one.
    case resolved
}

/// Errors thrown by the ledger itself (GRDB's `DatabaseError` passes through for SQLite errors).
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row does not exist.
    case noSuchRow(Int64)
    /// The attempt does not exist.
    case noSuchAttempt(Int64)
    /// The run does not exist.
    case noSuchRun(Int64)
    /// The batch does not exist.
    case noSuchBatch(Int64)
    /// The row is in a state that does not allow this move (e.g. `done` → `pending`).
    case illegalTransition(rowID: Int64, from: RowState, to: RowState)
    /// The row's state forbids this API call (a create on a `done`/`rejected` row,
    /// or a deposit-request create on an unverified `in_doubt` row).
    case sendRefused(rowID: Int64, state: RowState, operation: AttemptOperation)
    /// The options JSON given to ``Ledger/beginRun(command:optionsJSON:)`` names a secret.
    case secretInOptions(key: String)
    /// The options JSON is not a JSON object.
    case invalidOptionsJSON
    /// The ledger file could not be created or protected.
    case fileSetup(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .noSuchRow(let id): "ledger: no row \(id)"
        case .noSuchAttempt(let id): "ledger: no attempt \(id)"
        case .noSuchRun(let id): "ledger: no run \(id)"
        case .noSuchBatch(let id): "ledger: no batch \(id)"
        case .illegalTransition(let id, let from, let to):
            "ledger: row \(id) cannot go from \(from.rawValue) to \(to.rawValue)"
        case .sendRefused(let id, let state, let operation):
            "ledger: row \(id) is \(state.rawValue); refusing to record \(operation.rawValue)"
        case .secretInOptions(let key): "ledger: options must not contain secrets (key \"\(key)\")"
        case .invalidOptionsJSON: "ledger: options must be a JSON object"
        case .fileSetup(let path, let err): "ledger: cannot set up \(path): \(String(cString: strerror(err)))"
        }
    }
}
