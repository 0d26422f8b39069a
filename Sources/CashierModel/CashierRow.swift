/// A (minimum, maximum) pair of limits; either side may be absent.
public struct AmountRange: Hashable, Sendable {
    public var minimum: Amount?
    public var maximum: Amount?

    public init(minimum: Amount?, maximum: Amount?) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// True when `amount` lies within the limits that are set.
    public func contains(_ amount: Amount) -> Bool {
        if let minimum, amount < minimum { return false }
        if let maximum, amount > maximum { return false }
        return true
    }
}

/// `customAmount` of a deposit request: maximum = minimum + k·multipleOf, k ≥ 1.
public struct CustomAmount: Hashable, Sendable {
    public var minimum: Amount
    public var maximum: Amount
    public var multipleOf: Amount
}

/// The body of `POST /cashiers` for one row, typed and validated.
public struct CashierRequest: Hashable, Sendable {
    public var websiteId: String
    public var customerId: String
    public var currency: Currency
    public var balance: Amount?
    public var bonusBalance: Amount?
    public var pendingPayoutTotal: Amount?
    public var depositLimits: AmountRange?
    public var redirectUrl: String?
    public var notificationUrl: String?
}

/// The row-specific part of `POST /deposit-requests` (websiteId, customerId and
/// currency come from the cashier).
public struct DepositRequestSpec: Hashable, Sendable {
    public var strategyId: String?
    public var amounts: [Amount]?
    public var customAmount: CustomAmount?
    public var amountLimits: AmountRange?
    public var redirectUrl: String?
    public var notificationUrl: String?
    public var expirationTime: String?
    public var customPropertySetId: String?

    public init(strategyId: String? = nil, amounts: [Amount]? = nil, customAmount: CustomAmount? = nil,
                amountLimits: AmountRange? = nil, redirectUrl: String? = nil, notificationUrl: String? = nil,
                expirationTime: String? = nil, customPropertySetId: String? = nil) {
        self.strategyId = strategyId
        self.amounts = amounts
        self.customAmount = customAmount
        self.amountLimits = amountLimits
        self.redirectUrl = redirectUrl
        self.notificationUrl = notificationUrl
        self.expirationTime = expirationTime
        self.customPropertySetId = customPropertySetId
    }
}

/// A valid row: the cashier to create and the deposit request to create after it.
public struct CashierRow: Hashable, Sendable {
    public var line: Int
    public var cashier: CashierRequest
    public var deposit: DepositRequestSpec

    /// The row's identity in the API and the ledger: (websiteId, customerId, currency).
    public var key: RowKey { RowKey(websiteId: cashier.websiteId, customerId: cashier.customerId, currency: cashier.currency.code) }
}

/// (websiteId, customerId, currency): one cashier in Rebilly, one row per batch.
public struct RowKey: Hashable, Sendable, CustomStringConvertible {
    public var websiteId: String
    public var customerId: String
    public var currency: String

    public init(websiteId: String, customerId: String, currency: String) {
        self.websiteId = websiteId
        self.customerId = customerId
        self.currency = currency
    }

    /// `websiteId/customerId/currency`, for messages.
    public var description: String { "\(websiteId)/\(customerId)/\(currency)" }
}

/// The outcome of validating one record: exactly one of a valid row or its rejection.
public enum RowVerdict: Sendable {
    case valid(CashierRow)
    case rejected(line: Int, issues: [FieldIssue])
}
