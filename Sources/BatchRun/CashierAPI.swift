import CashierModel

/// The three calls a run makes, as the sender sees them. `RebillyClient` is the real
/// implementation; the seam keeps the sending logic testable and free of HTTP details.
public protocol CashierAPI: Sendable {
    /// `POST /cashiers`; 200 (existing, returned unchanged) and 201 are both success.
    func createCashier(body: String) async -> Result<CashierReply, APIFailure>
    /// `POST /deposit-requests` (no idempotency key: a lost answer means "maybe created").
    func createDepositRequest(body: String) async -> Result<DepositReply, APIFailure>
    /// `GET /deposit-requests?filter=customerId:…;websiteId:…&sort=-createdTime`.
    func listDepositRequests(customerId: String, websiteId: String) async -> Result<DepositList, APIFailure>
}

/// The API's rate-limit headers on a success: the run slows down before the wall.
public struct Quota: Sendable, Equatable {
    public var limit: Int?
    public var remaining: Int?

    public init(limit: Int? = nil, remaining: Int? = nil) {
        self.limit = limit
        self.remaining = remaining
    }
}

/// A created or retrieved cashier, with the figures Rebilly holds (exact text).
public struct CashierReply: Sendable, Equatable {
    public var id: String
    /// `X-RateLimit-Limit` / `X-RateLimit-Remaining` of the answer, when sent.
    public var quota = Quota()
    public var httpStatus: Int
    public var latencyMs: Int
    public var balance: String?
    public var bonusBalance: String?
    public var pendingPayoutTotal: String?

    public init(id: String, httpStatus: Int, latencyMs: Int, balance: String? = nil, bonusBalance: String? = nil, pendingPayoutTotal: String? = nil) {
        self.id = id
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
        self.balance = balance
        self.bonusBalance = bonusBalance
        self.pendingPayoutTotal = pendingPayoutTotal
    }
}

/// A deposit request as created or listed.
public struct DepositReply: Sendable, Equatable {
    public var id: String
    public var quota = Quota()
    public var currency: String?
    /// `createdTime` as the API wrote it (RFC 3339), used to tell this row's request from older ones.
    public var createdTime: String?
    public var httpStatus: Int
    public var latencyMs: Int

    public init(id: String, currency: String?, createdTime: String?, httpStatus: Int, latencyMs: Int) {
        self.id = id
        self.currency = currency
        self.createdTime = createdTime
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
    }
}

/// A customer's deposit requests on one website, newest first.
public struct DepositList: Sendable, Equatable {
    public var items: [DepositReply]
    public var quota = Quota()
    public var httpStatus: Int
    public var latencyMs: Int

    public init(items: [DepositReply], httpStatus: Int, latencyMs: Int) {
        self.items = items
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
    }
}

/// Why a call did not succeed, classified for the sender.
public struct APIFailure: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 429, 5xx, timeouts, connection errors: try again after a pause.
        case retryable
        /// 422 and other 4xx: the row is wrong; the API's reasons go to the ledger.
        case rejected(invalidFields: [FieldIssue])
        /// 401/403: the credentials are refused; the whole run stops.
        case fatal
    }

    public var kind: Kind
    public var httpStatus: Int?
    public var message: String
    public var latencyMs: Int
    /// The request may have been applied although no answer arrived (a dropped
    /// connection or timeout after sending, or a 5xx): a deposit POST is then in doubt.
    public var mayHaveBeenApplied: Bool
    /// Seconds until the API accepts requests again (429's `X-RateLimit-Retry-After`, already converted from epoch).
    public var retryAfterSeconds: Double?

    public init(kind: Kind, httpStatus: Int?, message: String, latencyMs: Int, mayHaveBeenApplied: Bool = false, retryAfterSeconds: Double? = nil) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.message = message
        self.latencyMs = latencyMs
        self.mayHaveBeenApplied = mayHaveBeenApplied
        self.retryAfterSeconds = retryAfterSeconds
    }
}
