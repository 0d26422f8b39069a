/// The three cashier figures a batch gives and Rebilly holds, by their API names: what a control
/// manifest totals, what reconciliation compares and what the reports sum.
public enum Figure: String, Sendable, CaseIterable, Codable, Hashable {
    /// `balance`: the customer's withdrawable balance.
    case balance
    /// `bonusBalance`: bonus money.
    case bonusBalance
    /// `pendingPayoutTotal`: the sum of pending payout requests, the most the customer can
    /// "reverse withdraw". A break on it is high priority.
    case pendingPayoutTotal
}
