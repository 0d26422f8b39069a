import CashierModel
import Foundation
import Ledger

extension ReconciliationReport {
    /// The log lines of this reconciliation's breaks, what needs a person first: one WARNING
    /// `break` line per open drift break (by ``Break/order(_:_:)``), then one INFO line per website
    /// and currency for the opening differences and for the accepted ones (count and sums), then
    /// one INFO `break resolved` line per drift break resolved now.
    public var breakEvents: [RunEvent] {
        var events: [RunEvent] = breaks.needingAttention.map { b in
            RunEvent(.warning, "break", Self.fields(b, at: reconciledAt))
        }
        for (message, group) in [("opening differences", DifferenceSums.opening(totals: totals, breaks: breaks)),
                                 ("accepted differences", DifferenceSums.of(breaks.accepted))] {
            for sums in group {
                var fields: [(String, LogValue)] = [
                    ("websiteId", .string(sums.websiteID)), ("currency", .string(sums.currency)),
                    ("cashiers", .int(sums.cashiers)), ("differences", .int(sums.differences)),
                ]
                fields += Figure.allCases.map { ($0.rawValue, .string(sums.sum($0))) }
                if sums.unknown > 0 { fields.append(("unknown", .int(sums.unknown))) }
                events.append(RunEvent(.info, message, fields))
            }
        }
        for b in breaks where b.lifecycle == .resolved && !b.opening {
            events.append(RunEvent(.info, "break resolved", Self.fields(b, at: reconciledAt)))
        }
        return events
    }

    static func fields(_ b: Break, at date: Date) -> [(String, LogValue)] {
        var fields: [(String, LogValue)] = [
            ("lifecycle", .string(b.lifecycle.rawValue)), ("priority", .string(b.priority.rawValue)), ("websiteId", .string(b.websiteID)),
            ("customerId", .string(b.customerID)), ("currency", .string(b.currency)), ("field", .string(b.field.rawValue)),
            ("expected", .string(b.expected ?? "-")), ("actual", .string(b.actual ?? b.actualText ?? "-")), ("difference", .string(b.difference ?? "-")),
            ("firstSeenRun", .int(b.firstSeenRunID)), ("nightsOpen", .int(b.nightsOpen(at: date))),
        ]
        if let id = b.id { fields.append(("id", .int(id))) }
        if let detail = b.detail, !detail.isEmpty { fields.append(("detail", .string(detail))) }
        return fields
    }
}
