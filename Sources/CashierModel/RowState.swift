/// The fate of one batch row (`rows.state`), stored as TEXT and listed in a CHECK constraint of
/// the ledger's schema. Which state may follow which is ``RowLifecycle``'s rule
/// (``RowLifecycle/allowedNext(from:)``), and the ledger refuses any other move.
///
/// `skipped` is deliberately **not** a state: it is a per-run count of rows
/// that were already `done` before the run began (see `RowCounts`).
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

    /// `true` for rows a send/retry still has work to do on.
    public var isOpen: Bool {
        switch self {
        case .pending, .cashierCreated, .failed, .inDoubt: true
        case .rejected, .done, .needsReview: false
        }
    }
}
