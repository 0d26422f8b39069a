// Enumerations of the attempt log, stored as TEXT and listed in CHECK constraints of the
// ledger's schema.

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
