import Foundation
import CashierModel
import Ledger

/// The forecast a `run` or `retry` logged when sending began (`forecast` line), shown in the
/// reports that command writes at its end beside what happened. The ledger does not keep it:
/// reports written again later (`report`, `reconcile`) have none.
extension Forecast {
    /// Writes (cashier and deposit-request creates) the run made: every attempt recorded.
    public static func writesMade(_ data: ReportData) -> Int {
        data.requests.filter { $0.operation == .createCashier || $0.operation == .createDepositRequest }.map(\.sent).reduce(0, +)
    }

    /// Reads (listings, read-backs) the run made.
    public static func readsMade(_ data: ReportData) -> Int {
        data.requests.filter { $0.operation != .createCashier && $0.operation != .createDepositRequest }.map(\.sent).reduce(0, +)
    }

    /// One line for summary.md and report.html: the forecast beside what happened.
    public func line(_ data: ReportData) -> String {
        var s = "\(writes) writes and \(reads) reads planned, expected end \(Format.iso(expectedEnd))"
        if let until { s += " (until \(Format.iso(until)))" }
        if let left = budgetLeftByRebilly { s += ", \(left) writes left in Rebilly's window after the first" }
        s += " · made \(Self.writesMade(data)) writes and \(Self.readsMade(data)) reads, ended "
            + (data.run.finishedAt.map { Format.iso($0) } ?? "–")
        return s
    }

    /// The `forecast` member of report.json.
    func write(_ data: ReportData, into w: inout JSONWriter) {
        w.beginObject("forecast")
        w.int("rows", rows)
        w.int("writesPlanned", writes)
        w.int("writesMade", Self.writesMade(data))
        w.int("readsPlanned", reads)
        w.int("readsMade", Self.readsMade(data))
        w.int("budgetLeft", budgetLeft)
        if let left = budgetLeftByRebilly { w.int("budgetLeftByRebilly", left) } else { w.null("budgetLeftByRebilly") }
        w.string("budget", budget)
        w.number("ratePerSecond", literal: Format.seconds(ratePerSecond))
        w.string("at", Format.iso(at))
        w.string("expectedEnd", Format.iso(expectedEnd))
        if let end = data.run.finishedAt { w.string("actualEnd", Format.iso(end)) } else { w.null("actualEnd") }
        if let until { w.string("until", Format.iso(until)) } else { w.null("until") }
        w.endObject()
    }
}
