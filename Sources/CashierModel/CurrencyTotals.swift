/// Exact per-currency sums of the three cashier figures (128-bit minor units, no overflow in practice).
public struct CurrencyTotals: Sendable, Equatable {
    /// The figures a control manifest and the reports total.
    public enum Figure: String, CaseIterable, Sendable { case balance, bonusBalance, pendingPayoutTotal }

    public struct Sums: Sendable, Equatable {
        public var exponent: Int
        public var rows = 0
        public var balance: Int128 = 0
        public var bonusBalance: Int128 = 0
        public var pendingPayoutTotal: Int128 = 0

        public subscript(figure: Figure) -> Int128 {
            switch figure {
            case .balance: balance
            case .bonusBalance: bonusBalance
            case .pendingPayoutTotal: pendingPayoutTotal
            }
        }

        /// Exact decimal text of one figure.
        public func text(_ figure: Figure) -> String { Amount.format(self[figure], exponent: exponent) }
    }

    public private(set) var byCurrency: [String: Sums] = [:]

    public init() {}

    public mutating func add(currency: Currency, balance: Amount?, bonusBalance: Amount?, pendingPayoutTotal: Amount?) {
        var sums = byCurrency[currency.code] ?? Sums(exponent: currency.exponent)
        sums.rows += 1
        sums.balance += Int128(balance?.minorUnits ?? 0)
        sums.bonusBalance += Int128(bonusBalance?.minorUnits ?? 0)
        sums.pendingPayoutTotal += Int128(pendingPayoutTotal?.minorUnits ?? 0)
        byCurrency[currency.code] = sums
    }

    public mutating func add(_ row: CashierRow) {
        add(currency: row.cashier.currency, balance: row.cashier.balance,
            bonusBalance: row.cashier.bonusBalance, pendingPayoutTotal: row.cashier.pendingPayoutTotal)
    }
}
