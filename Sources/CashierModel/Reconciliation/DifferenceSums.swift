/// Differences summed per website and currency: how the opening differences (and the accepted
/// ones) are shown, one line each in summary.md and the log, instead of one per break.
public struct DifferenceSums: Sendable, Equatable {
    public var websiteID: String
    /// ISO 4217 code, and its minor-unit exponent.
    public var currency: String
    public var exponent: Int
    /// Distinct cashiers, and breaks.
    public var cashiers: Int
    public var differences: Int
    /// Σ (Rebilly − batch) per figure, in ``Figure`` order, over the differences with a known value.
    public var sums: [Int128]
    /// Differences whose value is unknown (Rebilly's figure unreadable): counted, not summed.
    public var unknown: Int

    /// The sum of one figure as exact signed decimal text (`"-12.50"`).
    public func sum(_ figure: Figure) -> String {
        Amount.format(sums[Figure.allCases.firstIndex(of: figure) ?? 0], exponent: exponent)
    }

    /// The figure breaks among `breaks` summed per (websiteId, currency), sorted by both.
    public static func of(_ breaks: [Break]) -> [DifferenceSums] {
        var groups: [Key: DifferenceSums] = [:]
        var cashiers: [Key: Set<String>] = [:]
        for b in breaks {
            guard let figure = b.field.figure, let index = Figure.allCases.firstIndex(of: figure) else { continue }
            let key = Key(website: b.websiteID, currency: b.currency)
            var group = groups[key] ?? DifferenceSums(websiteID: b.websiteID, currency: b.currency, exponent: b.exponent, cashiers: 0,
                                                      differences: 0, sums: Array(repeating: 0, count: Figure.allCases.count), unknown: 0)
            group.differences += 1
            if let d = b.differenceMinor { group.sums[index] += Int128(d) } else { group.unknown += 1 }
            cashiers[key, default: []].insert(b.customerID)
            group.cashiers = cashiers[key]?.count ?? 0
            groups[key] = group
        }
        return groups.sorted { $0.key < $1.key }.map(\.value)
    }

    /// A night's opening differences per (websiteId, currency), sorted by both: the ones counted
    /// and summed in `totals` plus the open opening breaks recorded one by one (an unreadable
    /// figure). Where a reconciliation recorded every opening difference as a break (before ledger
    /// v15), those breaks alone are the sums.
    public static func opening(totals: [ReconciliationTotals], breaks: [Break]) -> [DifferenceSums] {
        var groups: [Key: DifferenceSums] = [:]
        for g in of(breaks.openOpening) { groups[Key(website: g.websiteID, currency: g.currency)] = g }
        for t in totals {
            let counted = t.figures.reduce(0) { $0 + $1.openingDifferences }
            guard counted > 0 || t.openingCashiers > 0 else { continue }
            let key = Key(website: t.websiteID, currency: t.currency)
            if let listed = groups[key], listed.differences > listed.unknown { continue }
            var group = groups[key] ?? DifferenceSums(
                websiteID: t.websiteID, currency: t.currency, exponent: t.exponent, cashiers: 0, differences: 0,
                sums: Array(repeating: 0, count: Figure.allCases.count), unknown: 0)
            group.cashiers = t.openingCashiers
            group.differences += counted
            for (i, figure) in Figure.allCases.enumerated() { group.sums[i] += t[figure].openingDifferences > 0 ? t[figure].openingDifferenceMinor ?? 0 : 0 }
            groups[key] = group
        }
        return groups.sorted { $0.key < $1.key }.map(\.value)
    }

    /// (websiteId, currency): one group.
    private struct Key: Hashable, Comparable {
        var website: String, currency: String
        static func < (a: Key, b: Key) -> Bool { (a.website, a.currency) < (b.website, b.currency) }
    }
}

extension [DifferenceSums] {
    /// The differences of every group, and their cashiers.
    public var differences: Int { reduce(0) { $0 + $1.differences } }
    public var cashiers: Int { reduce(0) { $0 + $1.cashiers } }
}

extension Sequence where Element == Break {
    /// What needs a person, in the order it is shown: open drift (figures, deposit requests
    /// missing or duplicated), by ``Break/order(_:_:)``.
    public var needingAttention: [Break] { filter(\.isOpenDrift).sorted(by: Break.order) }
    /// Open opening differences (a cashier's first night).
    public var openOpening: [Break] { filter { $0.opening && $0.isOpen } }
    /// Open breaks covered by an acceptance, in the order they are shown.
    public var accepted: [Break] { filter(\.isAccepted).sorted(by: Break.order) }
}
