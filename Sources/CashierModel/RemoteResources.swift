import Foundation

/// A money figure as the API reported it: the exact JSON number text, and that text
/// parsed into minor units at the currency's exponent.
///
/// `amount` is nil when the text does not fit the currency (more decimals than its
/// minor unit, a negative or malformed value, an unknown currency): reconciliation then
/// reports the text as a break instead of losing it. Never converted through `Double`.
public struct ReportedMoney: Sendable, Hashable, CustomStringConvertible {
    /// The literal from the response (`"1500.10"` stays `"1500.10"`).
    public let text: String
    /// The exact amount, when the text is a valid amount of the currency.
    public let amount: Amount?

    public init(text: String, currency: String) {
        self.text = text
        if let currency = Currency(code: currency), case let .success(amount) = Amount.parse(Substring(text), exponent: currency.exponent) {
            self.amount = amount
        } else {
            self.amount = nil
        }
    }

    public var description: String { text }
}

/// A cashier as Rebilly holds it (the answer to `POST /cashiers` and `GET /cashiers/{id}`),
/// decoded once: money as ``ReportedMoney``, times as `Date`.
public struct Cashier: Sendable, Hashable {
    public var id: String
    public var customerId: String
    public var websiteId: String
    public var currency: String
    /// nil when the member is absent or null.
    public var balance: ReportedMoney?
    public var bonusBalance: ReportedMoney?
    public var pendingPayoutTotal: ReportedMoney?
    /// Whether the customer can initiate a withdrawal (reported since 2026-07; nil before).
    public var canWithdraw: Bool?
    public var createdTime: Date?

    public init(id: String, customerId: String, websiteId: String, currency: String, balance: ReportedMoney? = nil,
                bonusBalance: ReportedMoney? = nil, pendingPayoutTotal: ReportedMoney? = nil, canWithdraw: Bool? = nil,
                createdTime: Date? = nil) {
        self.id = id
        self.customerId = customerId
        self.websiteId = websiteId
        self.currency = currency
        self.balance = balance
        self.bonusBalance = bonusBalance
        self.pendingPayoutTotal = pendingPayoutTotal
        self.canWithdraw = canWithdraw
        self.createdTime = createdTime
    }
}

/// A deposit request as Rebilly holds it, from either API generation: today's `dep_req_…`
/// with `transactionIds[]`, or the pre-2024 `cash_req_…` with a single `transactionId`.
public struct DepositRequest: Sendable, Hashable {
    /// Which generation of the API produced the object.
    public enum Generation: String, Sendable, Hashable {
        /// `dep_req_…`, `transactionIds[]`.
        case depositRequest
        /// `cash_req_…`, `transactionId`.
        case legacyCashierRequest
    }

    public var id: String
    public var generation: Generation
    /// `created`, `pending`, `initiated`, `attempted`, `completed` or `expired` (kept as sent).
    public var status: String?
    /// Transactions made from the request (the legacy single `transactionId` becomes one element).
    public var transactionIds: [String]
    public var customerId: String
    public var websiteId: String
    public var currency: String
    /// The hosted deposit form (`_links` rel `deposit`).
    public var depositURL: String?
    public var createdTime: Date?
    /// The members a client sets, as Rebilly keeps them (nil: absent or null), so the job can
    /// tell its own requests from another client's: money as exact number texts.
    public var terms: DepositTerms

    public init(id: String, generation: Generation = .depositRequest, status: String? = nil, transactionIds: [String] = [],
                customerId: String, websiteId: String, currency: String, depositURL: String? = nil, createdTime: Date? = nil,
                terms: DepositTerms = DepositTerms()) {
        self.id = id
        self.generation = generation
        self.status = status
        self.transactionIds = transactionIds
        self.customerId = customerId
        self.websiteId = websiteId
        self.currency = currency
        self.depositURL = depositURL
        self.createdTime = createdTime
        self.terms = terms
    }
}

/// The client-set members of a deposit request that Rebilly's `DepositRequest` answer carries
/// (it carries no strategyId, customPropertySetId or amountLimits). Money as number texts.
public struct DepositTerms: Sendable, Hashable {
    public var amounts: [String]?
    public var defaultAmount: String?
    /// minimum, maximum, multipleOf.
    public var customAmount: [String: String]?
    public var redirectUrl: String?
    public var notificationUrl: String?
    public var expirationTime: Date?

    public init(amounts: [String]? = nil, defaultAmount: String? = nil, customAmount: [String: String]? = nil,
                redirectUrl: String? = nil, notificationUrl: String? = nil, expirationTime: Date? = nil) {
        self.amounts = amounts
        self.defaultAmount = defaultAmount
        self.customAmount = customAmount
        self.redirectUrl = redirectUrl
        self.notificationUrl = notificationUrl
        self.expirationTime = expirationTime
    }
}
