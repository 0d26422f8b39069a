import Foundation

/// A cashier's three figures as Rebilly reported them (`remote_figures`): exact
/// text as written by the API and, when the text is a valid amount of the currency,
/// INTEGER minor units at `exponent`. A nil text means the member was absent or null.
public struct RemoteFigures: Sendable, Equatable, Hashable {
    /// Rebilly's cashier id.
    public var cashierID: String?
    /// The HTTP status of the answer (201 created, 200 retrieved / read back).
    public var httpStatus: Int?
    /// ISO 4217 code of the cashier.
    public var currency: String?
    /// The currency's minor-unit exponent, when known.
    public var exponent: Int?
    public var balanceMinor: Int64?
    public var bonusBalanceMinor: Int64?
    public var pendingPayoutTotalMinor: Int64?
    public var balanceText: String?
    public var bonusBalanceText: String?
    public var pendingPayoutTotalText: String?
    /// Whether the customer can withdraw, as Rebilly reported it (2026-07; nil when not reported).
    public var canWithdraw: Bool?
    /// The cashier's `createdTime` as Rebilly reported it.
    public var cashierCreatedAt: Date?

    public init(
        cashierID: String?, httpStatus: Int?, currency: String?, exponent: Int?,
        balanceMinor: Int64?, bonusBalanceMinor: Int64?, pendingPayoutTotalMinor: Int64?,
        balanceText: String?, bonusBalanceText: String?, pendingPayoutTotalText: String?, canWithdraw: Bool? = nil, cashierCreatedAt: Date? = nil
    ) {
        self.cashierCreatedAt = cashierCreatedAt
        self.cashierID = cashierID
        self.httpStatus = httpStatus
        self.currency = currency
        self.exponent = exponent
        self.balanceMinor = balanceMinor
        self.bonusBalanceMinor = bonusBalanceMinor
        self.pendingPayoutTotalMinor = pendingPayoutTotalMinor
        self.balanceText = balanceText
        self.bonusBalanceText = bonusBalanceText
        self.pendingPayoutTotalText = pendingPayoutTotalText
        self.canWithdraw = canWithdraw
    }
}

extension RemoteFigures {
    /// What a cashier answer says: its exact texts, and their minor units at the cashier's own
    /// currency's exponent when a text is a valid amount of it. Never through `Double`.
    public init(_ cashier: Cashier, httpStatus: Int) {
        self.init(
            cashierID: cashier.id, httpStatus: httpStatus, currency: cashier.currency,
            exponent: Currency(code: cashier.currency)?.exponent,
            balanceMinor: cashier.balance?.amount?.minorUnits, bonusBalanceMinor: cashier.bonusBalance?.amount?.minorUnits,
            pendingPayoutTotalMinor: cashier.pendingPayoutTotal?.amount?.minorUnits,
            balanceText: cashier.balance?.text, bonusBalanceText: cashier.bonusBalance?.text,
            pendingPayoutTotalText: cashier.pendingPayoutTotal?.text, canWithdraw: cashier.canWithdraw,
            cashierCreatedAt: cashier.createdTime)
    }
}
