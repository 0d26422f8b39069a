import CashierModel
import Foundation
import Gateway
import Ledger

/// Comparing a cashier figure by figure, and the result: each break's lifecycle, totals, counts.
extension Reconciler {
    /// A difference found now (before its lifecycle is decided).
    struct Finding {
        var key: CashierKey
        var field: BreakField
        var exponent: Int
        var expected: Int64?
        var actual: Int64?
        var actualText: String?
        var rowID: Int64?
        var cashierID: String?
        var source: FigureSource?
        var detail: String?
        /// Deposit breaks: requests expected (1) and found.
        var countExpected: Int? = nil
        var countActual: Int? = nil
        var opening = false
        var canWithdraw: Bool? = nil
    }

    struct BreakKey: Hashable {
        var cashier: CashierKey
        var field: BreakField
    }

    /// Compares one cashier with what Rebilly holds (nil: nothing known, not compared), figure
    /// by figure, into the totals and the findings. An opening cashier's known differences go
    /// into the totals only (counted and summed): a first night holds one per figure per cashier.
    func compare(_ cashier: ExpectedCashier, _ observation: Observation?, into tally: inout Tally) {
        guard let observation else { return }
        let key = cashier.key
        tally.compared += 1
        if tally.baselineCashiers.contains(key) { tally.comparedBaseline.insert(key) }
        let tkey = TotalsKey(websiteID: key.websiteID, currency: key.currency)
        tally.totals[tkey]?.compared += 1
        if observation.figures?.canWithdraw == false { tally.cannotWithdraw += 1 }
        var differs = false
        for (i, figure) in Figure.allCases.enumerated() {
            let expected = cashier.expected[i]
            var actual: Int64?
            var text: String?
            var detail = observation.detail
            if let figures = observation.figures {
                (actual, text) = Self.pick(figure, figures)
                if text == nil {
                    actual = 0  // absent means 0, as in the batch
                } else if actual == nil {
                    detail = "Rebilly reported \(figure.rawValue) \"\(text ?? "")\", not a valid \(key.currency) amount"
                } else if figures.exponent != nil, figures.exponent != cashier.exponent {
                    actual = nil
                    detail = "Rebilly's figures are at exponent \(figures.exponent ?? -1), \(key.currency) has \(cashier.exponent)"
                }
            }
            if let actual {
                let diff = Int128(actual) - Int128(expected)
                tally.totals[tkey]?.rebilly[i] += Int128(actual)
                if cashier.opening {
                    tally.totals[tkey]?.opening[i] += diff
                } else {
                    tally.totals[tkey]?.net[i] += diff
                    tally.totals[tkey]?.gross[i] += diff < 0 ? -diff : diff
                }
            }
            if actual == expected { continue }
            differs = true
            if cashier.opening, actual != nil {
                // A cashier's first night: counted and summed, not a break of its own.
                tally.totals[tkey]?.openingCount[i] += 1
                continue
            }
            tally.findings.append(Finding(key: key, field: BreakField(rawValue: figure.rawValue) ?? .balance, exponent: cashier.exponent,
                                          expected: expected, actual: actual, actualText: text, rowID: cashier.rowID,
                                          cashierID: cashier.cashierID, source: observation.source, detail: detail,
                                          opening: cashier.opening, canWithdraw: observation.figures?.canWithdraw))
        }
        if cashier.opening && differs { tally.totals[tkey]?.openingCashiers += 1 }
    }

    /// The result: each finding's lifecycle against the baseline, the baseline's breaks not found
    /// now (resolved when their cashier was looked at, else carried forward), totals and counts.
    func finish(runID: Int64, tally: Tally, deposits: DepositCheck?, method: ReconciliationMethod,
                readBackRequests: Int, readBackFailures: Int) -> ReconciliationReport {
        let now = clock()
        var findings = tally.findings
        if let deposits { findings += deposits.findings }

        var open: [BreakKey: Break] = [:]
        for b in tally.baseline where b.isOpen {
            open[BreakKey(cashier: CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency), field: b.field)] = b
        }
        var breaks: [Break] = []
        var seen = Set<BreakKey>()
        for f in findings {
            let bkey = BreakKey(cashier: f.key, field: f.field)
            guard seen.insert(bkey).inserted else { continue }
            breaks.append(Self.makeBreak(f, before: open[bkey], runID: runID, now: now))
        }
        for b in tally.baseline where b.isOpen {
            let bkey = BreakKey(cashier: CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency), field: b.field)
            guard seen.insert(bkey).inserted else { continue }
            let checked = b.field.isDepositRequest
                ? deposits?.checkedBaseline.contains(bkey.cashier) ?? false
                : tally.comparedBaseline.contains(bkey.cashier)
            breaks.append(Self.carry(b, resolved: checked))
        }
        var ended: [Int64] = []
        for i in breaks.indices {
            let b = breaks[i]
            guard let acceptance = tally.acceptances[BreakKey(cashier: CashierKey(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency), field: b.field)] else {
                breaks[i].acceptance = nil  // revoked since the baseline recorded it
                continue
            }
            breaks[i].acceptance = Self.covers(acceptance, b) ? acceptance : nil
            guard breaks[i].acceptance == nil else { continue }
            ended.append(acceptance.id)
            breaks[i].detail = Self.ended(acceptance, b)
        }
        breaks.sort(by: Break.order)

        let totals = tally.totals.sorted { ($0.key.websiteID, $0.key.currency) < ($1.key.websiteID, $1.key.currency) }.map { key, t in
            ReconciliationTotals(
                websiteID: key.websiteID, currency: key.currency, exponent: t.exponent, inputRows: t.inputRows,
                sentRows: t.sentRows, comparedCashiers: t.compared,
                figures: Figure.allCases.enumerated().map { i, figure in
                    FigureTotals(figure: figure, exponent: t.exponent, inputMinor: t.input[i], sentMinor: t.sent[i],
                                 rebillyMinor: t.rebilly[i], netDifferenceMinor: t.net[i], grossDifferenceMinor: t.gross[i],
                                 openingDifferenceMinor: t.opening[i], openingDifferences: t.openingCount[i])
                }, openingCashiers: t.openingCashiers)
        }
        let counts = ReconciliationCounts(
            breaks: breaks, inputRows: tally.inputRows, cashiers: tally.cashiers, compared: tally.compared,
            readBackRequests: readBackRequests, readBackFailures: readBackFailures, cannotWithdraw: tally.cannotWithdraw,
            openingDifferences: tally.totals.values.reduce(0) { $0 + $1.openingCount.reduce(0, +) })
        var report = ReconciliationReport(
            runID: runID, method: method, reconciledAt: now, baselineRunID: tally.baselineRunID, breaks: breaks,
            totals: totals, accounting: tally.accounting, depositChecks: deposits?.checks, counts: counts)
        report.endedAcceptances = ended
        return report
    }

    /// An acceptance covers an open drift break whose difference is exactly the one accepted.
    static func covers(_ acceptance: Acceptance, _ b: Break) -> Bool {
        b.isOpen && !b.opening && b.differenceMinor == acceptance.differenceMinor
    }

    /// The detail of a break whose acceptance ends now: what was accepted, and what is found.
    static func ended(_ a: Acceptance, _ b: Break) -> String {
        let accepted = "accepted by \(a.acceptedBy) on \(RFC3339.string(a.acceptedAt)) for a difference of \(a.difference) (\(a.reason))"
        let now = b.lifecycle == .resolved ? "resolved now, so the acceptance ends"
            : "the difference is now \(b.difference ?? "unknown"), so it is open again"
        return accepted + "; " + now + (b.detail.map { "; " + $0 } ?? "")
    }

    static func pick(_ figure: Figure, _ f: RemoteFigures) -> (Int64?, String?) {
        switch figure {
        case .balance: (f.balanceMinor, f.balanceText)
        case .bonusBalance: (f.bonusBalanceMinor, f.bonusBalanceText)
        case .pendingPayoutTotal: (f.pendingPayoutTotalMinor, f.pendingPayoutTotalText)
        }
    }

    /// A break found now: new, or persisting when the baseline had it open.
    static func makeBreak(_ f: Finding, before: Break?, runID: Int64, now: Date) -> Break {
        let isCount = f.field.isDepositRequest
        return Break(
            websiteID: f.key.websiteID, customerID: f.key.customerID, currency: f.key.currency, exponent: f.exponent,
            field: f.field, lifecycle: before == nil ? .new : .persisting,
            expectedMinor: isCount ? f.countExpected.map(Int64.init) : f.expected,
            actualMinor: isCount ? f.countActual.map(Int64.init) : f.actual, actualText: f.actualText,
            firstSeenRunID: before?.firstSeenRunID ?? runID, firstSeenAt: before?.firstSeenAt ?? now,
            timesSeen: (before?.timesSeen ?? 0) + 1, rechecked: true, source: f.source, rowID: f.rowID,
            cashierID: f.cashierID, detail: f.detail, opening: f.opening, canWithdraw: f.canWithdraw)
    }

    /// A baseline break not found now: resolved when its cashier was looked at, else carried forward.
    static func carry(_ b: Break, resolved: Bool) -> Break {
        var carried = b
        carried.id = nil
        carried.runID = nil
        carried.lifecycle = resolved ? .resolved : .persisting
        carried.rechecked = resolved
        carried.source = nil
        carried.canWithdraw = nil
        if resolved {
            carried.detail = b.field.isDepositRequest
                ? "resolved: exactly one deposit request now" : "resolved: Rebilly's figure now agrees with the batch"
        } else {
            // Carried forward night after night, the detail keeps what was found, once.
            let prefix = "carried forward: not checked again by this run"
            var found: Substring? = b.detail.map { Substring($0) }
            if let text = found, text.hasPrefix(prefix) {
                let rest = text.dropFirst(prefix.count)
                found = rest.hasPrefix("; was: ") ? rest.dropFirst("; was: ".count) : nil
            }
            carried.detail = prefix + (found.map { "; was: \($0)" } ?? "")
        }
        return carried
    }
}
