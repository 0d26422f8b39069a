/// Exact per-currency sums of the three cashier figures (128-bit minor units, no overflow in practice).
///
/// Sums are kept in an array indexed by the currency's slot (`Currency.codesBySlot`),
/// so that adding a row costs no String hashing; `byCurrency` is built on demand.
public struct CurrencyTotals: Sendable, Equatable {
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

    /// Indexed by currency slot; `rows == 0` means the currency was never seen.
    private var slots: [Sums]

    public init() {
        slots = Currency.codesBySlot.map { Sums(exponent: Currency.exponents[$0]!) }
    }

    /// Code → sums, for every currency that has at least one row.
    public var byCurrency: [String: Sums] {
        var out: [String: Sums] = [:]
        for (slot, sums) in slots.enumerated() where sums.rows > 0 { out[Currency.codesBySlot[slot]] = sums }
        return out
    }

    public mutating func add(currency: Currency, balance: Amount?, bonusBalance: Amount?, pendingPayoutTotal: Amount?) {
        add(slot: currency.slot, balance: balance?.minorUnits ?? 0, bonusBalance: bonusBalance?.minorUnits ?? 0,
            pendingPayoutTotal: pendingPayoutTotal?.minorUnits ?? 0)
    }

    /// Adds one row by slot; absent figures are 0.
    @inline(__always)
    public mutating func add(slot: Int, balance: Int64, bonusBalance: Int64, pendingPayoutTotal: Int64) {
        slots[slot].rows += 1
        slots[slot].balance += Int128(balance)
        slots[slot].bonusBalance += Int128(bonusBalance)
        slots[slot].pendingPayoutTotal += Int128(pendingPayoutTotal)
    }

    public mutating func add(_ row: CashierRow) {
        add(currency: row.cashier.currency, balance: row.cashier.balance,
            bonusBalance: row.cashier.bonusBalance, pendingPayoutTotal: row.cashier.pendingPayoutTotal)
    }
}
