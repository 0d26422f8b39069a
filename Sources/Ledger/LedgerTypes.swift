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

/// The fate of one batch row (`rows.state`).
///
/// Allowed transitions (enforced by the ledger, see ``LedgerWriter/transition(rowID:to:cashierID:depositRequestID:reasonsJSON:)``):
///
/// ```
/// pending ─────────► cashier_created ─► done
///    │  ╲                 │   ▲          ▲
///    │   ╲                ▼   │          │
///    │    └──────► failed / in_doubt ────┘
///    └─► rejected (terminal)          done (terminal)
/// ```
///
/// `skipped` is deliberately **not** a state: it is a per-run count of rows
/// that were already `done` before the run began (see ``RowCounts``).
public enum RowState: String, Sendable, CaseIterable, Codable, Hashable {
    /// Valid and staged; nothing sent yet (or only a `create_cashier` whose
    /// answer was lost: repeating a cashier create is safe).
    case pending
    /// Refused before sending (validation, duplicate key) or by the API (422/4xx).
    /// Terminal: a corrected row comes back as a new batch (rejects.csv).
    case rejected
    /// The cashier exists (`cashier_id` set); the deposit request is still to do.
    case cashierCreated = "cashier_created"
    /// Everything this row needed exists at Rebilly. Terminal.
    case done
    /// Gave up after retries or a non-retryable error; `retry` picks it up again.
    case failed
    /// A `create_deposit_request` was sent and its answer never arrived: it may or
    /// may not exist. It must be verified (list the customer's deposit requests)
    /// before anything is sent again.
    case inDoubt = "in_doubt"
    /// Listing found more than one deposit request matching every field the job sent, or one
    /// that differs in a single field: it cannot be told apart from another client's. Never
    /// adopted and never re-sent automatically; `resolve --adopt ID | --resend` closes it.
    case needsReview = "needs_review"

    /// States a row may move to from this one. Open states may be re-entered
    /// (e.g. `failed` → `failed` with new reasons); terminal states (`done`,
    /// `rejected`) allow nothing.
    public var allowedNext: Set<RowState> {
        switch self {
        case .pending: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .cashierCreated: [.cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .failed: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .inDoubt: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected, .needsReview]
        case .needsReview: [.done, .cashierCreated, .needsReview]
        case .rejected: []
        case .done: []
        }
    }

    /// `true` for rows a send/retry still has work to do on.
    public var isOpen: Bool {
        switch self {
        case .pending, .cashierCreated, .failed, .inDoubt: true
        case .rejected, .done, .needsReview: false
        }
    }
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

/// The API operation an attempt performed (`attempts.operation`).
public enum AttemptOperation: String, Sendable, CaseIterable, Codable {
    /// `POST /cashiers`
    case createCashier = "create_cashier"
    /// `POST /deposit-requests`
    case createDepositRequest = "create_deposit_request"
    /// `GET /deposit-requests?filter=…` (verifying an in-doubt row, reconciliation)
    case listDepositRequests = "list_deposit_requests"
    /// `GET /cashiers/{id}` (reconciliation read-back)
    case getCashier = "get_cashier"
    /// `GET /deposit-requests/{id}`
    case getDepositRequest = "get_deposit_request"
}

/// How an attempt ended (`attempts.outcome`).
public enum AttemptOutcome: String, Sendable, CaseIterable, Codable {
    /// Intent recorded, no answer recorded yet. After a crash this means "unknown".
    case inFlight = "in_flight"
    /// 2xx.
    case succeeded
    /// 429, 5xx, timeout, connection error: may be tried again.
    case retryable
    /// 422 and other 4xx: the API refused the row.
    case rejected
    /// 401/403 or another error that stops the whole run.
    case fatal
    /// The request may have reached the API but its answer is unknown
    /// (connection dropped after sending, or the process died while in flight).
    case lost
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
