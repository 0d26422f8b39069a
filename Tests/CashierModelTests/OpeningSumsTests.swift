@testable import CashierModel
import Foundation
import Testing

/// A night's opening differences per website and currency: counted in the totals (ledger v15),
/// with the unreadable ones recorded as breaks, or, in a reconciliation recorded before v15, every
/// one a break. Each difference is counted once either way.
@Suite struct OpeningSumsTests {
    func opening(_ customer: String, _ field: BreakField, expected: Int64, actual: Int64?, website: String = "web_1") -> Break {
        Break(websiteID: website, customerID: customer, currency: "USD", exponent: 2, field: field, lifecycle: .new,
              expectedMinor: expected, actualMinor: actual, firstSeenRunID: 1, firstSeenAt: Date(), opening: true)
    }

    /// web_1 USD totals: 3 opening cashiers, 3 balances off by −10.25 in all, 1 pendingPayoutTotal by −1.50.
    func totals(website: String = "web_1") -> ReconciliationTotals {
        ReconciliationTotals(
            websiteID: website, currency: "USD", exponent: 2, inputRows: 4, sentRows: 4, comparedCashiers: 4,
            figures: [
                FigureTotals(figure: .balance, exponent: 2, inputMinor: 1_025, sentMinor: 1_025, rebillyMinor: 0,
                             netDifferenceMinor: 0, grossDifferenceMinor: 0, openingDifferenceMinor: -1_025, openingDifferences: 3),
                FigureTotals(figure: .bonusBalance, exponent: 2, inputMinor: 0, sentMinor: 0, rebillyMinor: 0,
                             netDifferenceMinor: 0, grossDifferenceMinor: 0, openingDifferenceMinor: 0, openingDifferences: 0),
                FigureTotals(figure: .pendingPayoutTotal, exponent: 2, inputMinor: 150, sentMinor: 150, rebillyMinor: 0,
                             netDifferenceMinor: 0, grossDifferenceMinor: 0, openingDifferenceMinor: -150, openingDifferences: 1),
            ],
            openingCashiers: 3)
    }

    @Test func countedInTheTotalsWithTheUnreadableOnesAsBreaks() {
        let unreadable = opening("cus_9", .bonusBalance, expected: 0, actual: nil)
        let sums = DifferenceSums.opening(totals: [totals()], breaks: [unreadable])
        #expect(sums == [DifferenceSums(websiteID: "web_1", currency: "USD", exponent: 2, cashiers: 3, differences: 5,
                                        sums: [-1_025, 0, -150], unknown: 1)])
        #expect(sums.first?.sum(.balance) == "-10.25" && sums.first?.sum(.pendingPayoutTotal) == "-1.50")
    }

    @Test func recordedOneByOneBeforeV15TheBreaksAloneAreTheSums() {
        // The same night recorded before v15: every opening difference a break, and the totals
        // (recomputed from the ledger) counting them too; they are counted once.
        let breaks = [opening("cus_1", .balance, expected: 25, actual: 0), opening("cus_2", .balance, expected: 500, actual: 0),
                      opening("cus_3", .balance, expected: 500, actual: 0), opening("cus_3", .pendingPayoutTotal, expected: 150, actual: 0)]
        let sums = DifferenceSums.opening(totals: [totals()], breaks: breaks)
        #expect(sums == [DifferenceSums(websiteID: "web_1", currency: "USD", exponent: 2, cashiers: 3, differences: 4,
                                        sums: [-1_025, 0, -150], unknown: 0)])
    }

    @Test func eachWebsiteOnItsOwnAndNoneWithoutDifferences() {
        var quiet = ReconciliationTotals(websiteID: "web_0", currency: "USD", exponent: 2)
        quiet.comparedCashiers = 2
        let sums = DifferenceSums.opening(totals: [quiet, totals(website: "web_2"), totals()], breaks: [])
        #expect(sums.map(\.websiteID) == ["web_1", "web_2"] && sums.allSatisfy { $0.differences == 4 && $0.cashiers == 3 })
    }

    /// Shards add their counts; the reconciliation's headline count adds the counted ones to the breaks.
    @Test func shardsAddAndTheHeadlineCountsBoth() {
        let both = totals().adding(totals())
        #expect(both.openingCashiers == 6 && both[.balance].openingDifferences == 6 && both[.balance].openingDifferenceMinor == -2_050)
        let counts = ReconciliationCounts(breaks: [opening("cus_9", .bonusBalance, expected: 0, actual: nil)], openingDifferences: 4)
        #expect(counts.openingBreaks == 5 && counts.openBreaks == 0)
    }
}
