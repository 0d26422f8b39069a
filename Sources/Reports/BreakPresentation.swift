import CashierModel
import Ledger

/// How every report shows a break: money columns for the figure fields, and for a deposit break
/// its counts in words, in the detail.
extension Break {
    /// The expected, actual and difference columns: exact money, nil for a deposit break.
    var moneyExpected: String? { field.isDepositRequest ? nil : expected }
    var moneyActual: String? { field.isDepositRequest ? nil : actual }
    var moneyDifferenceMinor: Int64? { field.isDepositRequest ? nil : differenceMinor }
    var moneyDifference: String? { field.isDepositRequest ? nil : difference }

    /// The detail; a deposit break found now starts with what was expected and what Rebilly lists.
    var shownDetail: String? {
        guard field.isDepositRequest else { return detail }
        var parts: [String] = []
        if source != nil, let expected, let actual { parts.append("expected \(expected) deposit request, Rebilly lists \(actual)") }
        if let detail, !detail.isEmpty { parts.append(detail) }
        return parts.joined(separator: "; ")
    }
}
