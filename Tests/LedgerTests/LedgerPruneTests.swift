import CashierModel
import Foundation
import GRDB
import Testing
@testable import Ledger

/// `Ledger.prune`: which breaks are still open (the latest state of their key), which batches they
/// keep, and which reconciliations stay.
@Suite struct LedgerPruneTests {
    /// A finished night: a `run` with one staged batch holding a done row, with a cashier, per customer.
    func night(_ ledger: Ledger, _ name: String, customers: [String]) throws -> (run: Int64, batch: Int64) {
        let run = try ledger.beginRun(command: "run", optionsJSON: "{}")
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha(name), path: "/in/\(name).csv", format: .csv), runID: run)
        try ledger.stageRows(batchID: batch.id, rows: customers.enumerated().map { validRow($0.offset + 2, customer: $0.element) })
        try ledger.finishStaging(batchID: batch.id, rowCount: customers.count, valid: customers.count, rejected: 0,
                                 controlVerdict: .absent, controlDetail: nil)
        try edit(ledger.path, "UPDATE rows SET state = 'done', cashier_id = 'cashier_' || customer_id WHERE batch_id = ?", [batch.id])
        try ledger.finishRun(id: run, status: .finished, exitCode: 0)
        return (run, batch.id)
    }

    func edit(_ path: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    /// Moves a night (its run, reconciliation, breaks, batch and rows) back by `days`.
    func age(_ path: String, run: Int64, batch: Int64, days: Int) throws {
        func moved(_ column: String) -> String { "\(column) = strftime('%Y-%m-%d %H:%M:%f', \(column), '-\(days) days')" }
        try edit(path, "UPDATE runs SET \(moved("started_at")), \(moved("finished_at")) WHERE id = ?", [run])
        try edit(path, "UPDATE reconciliations SET \(moved("reconciled_at")) WHERE run_id = ?", [run])
        try edit(path, "UPDATE breaks SET \(moved("created_at")) WHERE run_id = ?", [run])
        try edit(path, "UPDATE batches SET \(moved("created_at")), \(moved("staged_at")) WHERE id = ?", [batch])
        try edit(path, "UPDATE rows SET \(moved("updated_at")) WHERE batch_id = ?", [batch])
    }

    func rowID(_ ledger: Ledger, batch: Int64, customer: String) throws -> Int64? {
        try ledger.rows(batchID: batch).first { $0.customerID == customer }?.id
    }

    func found(_ customer: String, _ field: BreakField, run: Int64, row: Int64?, opening: Bool = false) -> Break {
        Break(websiteID: "web_1", customerID: customer, currency: "USD", exponent: 2, field: field, lifecycle: .new,
              expectedMinor: field.isDepositRequest ? 1 : 1_000, actualMinor: field.isDepositRequest ? 0 : 900,
              firstSeenRunID: run, firstSeenAt: Date(), rowID: row, opening: opening)
    }

    /// Night A's reconciliation, made today, found drift on cus_a and a missing deposit request for
    /// cus_b; night B (later) compares both cashiers and finds no difference. The drift is closed
    /// (its cashier was compared since), the deposit break is not (only a later record of its key
    /// closes it): night A stays, for cus_b's row.
    @Test func aComparedCashierClosesItsDriftButNotItsDepositBreak() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let a = try night(ledger, "a", customers: ["cus_a", "cus_b", "cus_c"])
        let b = try night(ledger, "b", customers: ["cus_a", "cus_b", "cus_n"])
        try ledger.recordReconciliation(reconciliation(b.run, [found("cus_n", .balance, run: b.run, row: try rowID(ledger, batch: b.batch, customer: "cus_n"))],
                                                       at: Date().addingTimeInterval(-60)))
        try age(ledger.path, run: a.run, batch: a.batch, days: 10)
        try ledger.recordReconciliation(reconciliation(a.run, [
            found("cus_a", .balance, run: a.run, row: try rowID(ledger, batch: a.batch, customer: "cus_a")),
            found("cus_b", .depositRequestMissing, run: a.run, row: try rowID(ledger, batch: a.batch, customer: "cus_b")),
        ], at: Date().addingTimeInterval(-30)))
        // Night C, later still, compares cus_a and cus_b and finds nothing: no record of either.
        let c = try night(ledger, "c", customers: ["cus_a", "cus_b"])
        try ledger.recordReconciliation(reconciliation(c.run, [], at: Date()))

        let summary = try ledger.prune(before: Date().addingTimeInterval(-5 * 86_400), dryRun: false)
        #expect(summary.batches.isEmpty)
        #expect(summary.kept.map(\.reason) == ["a row has an open break, recorded by run \(a.run)'s reconciliation"])
        #expect(try ledger.breaks(runID: a.run).count == 2)

        // A later reconciliation records cus_b's deposit request as found (resolved): night A goes.
        try ledger.recordReconciliation(reconciliation(c.run, [
            Break(websiteID: "web_1", customerID: "cus_b", currency: "USD", exponent: 2, field: .depositRequestMissing, lifecycle: .resolved,
                  expectedMinor: 1, actualMinor: 0, firstSeenRunID: a.run, firstSeenAt: Date()),
        ], at: Date()))
        let released = try ledger.prune(before: Date().addingTimeInterval(-5 * 86_400), dryRun: false)
        #expect(released.batches.map(\.id) == [a.batch])
    }

    /// A later reconciliation that could not read the cashier back (unread) did not compare it.
    @Test func aCashierLeftUnreadIsNotCompared() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let a = try night(ledger, "a", customers: ["cus_a"])
        try ledger.recordReconciliation(reconciliation(a.run, [found("cus_a", .balance, run: a.run, row: try rowID(ledger, batch: a.batch, customer: "cus_a"))],
                                                       at: Date().addingTimeInterval(-60)))
        try age(ledger.path, run: a.run, batch: a.batch, days: 10)
        let b = try night(ledger, "b", customers: ["cus_a", "cus_n"])
        var later = reconciliation(b.run, [found("cus_n", .balance, run: b.run, row: try rowID(ledger, batch: b.batch, customer: "cus_n"))], at: Date())
        later.unread = [UnreadCashier(websiteID: "web_1", customerID: "cus_a", currency: "USD", cashierID: "cashier_cus_a", reason: "GET failed")]
        try ledger.recordReconciliation(later)

        let summary = try ledger.prune(before: Date().addingTimeInterval(-5 * 86_400), dryRun: false)
        #expect(summary.batches.isEmpty, "cus_a's drift is still open")
        #expect(summary.kept.map(\.batch.id) == [a.batch])
        #expect(summary.breaks == 0)
        #expect(try ledger.breaks(runID: a.run).count == 1)
    }

    /// An opening difference keeps no batch, but its record stays while it is open (night A's
    /// reconciliation is no one's baseline: night B's is night C's).
    @Test func anOpeningDifferenceKeepsItsRecordButNotItsBatch() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let a = try night(ledger, "a", customers: ["cus_a"])
        try ledger.recordReconciliation(reconciliation(a.run, [
            found("cus_a", .balance, run: a.run, row: try rowID(ledger, batch: a.batch, customer: "cus_a"), opening: true),
        ], at: Date().addingTimeInterval(-120)))
        let b = try night(ledger, "b", customers: ["cus_x"])
        var resolved = found("cus_y", .balance, run: a.run, row: nil)
        resolved.lifecycle = .resolved
        try ledger.recordReconciliation(reconciliation(b.run, [resolved], at: Date().addingTimeInterval(-60)))
        try age(ledger.path, run: a.run, batch: a.batch, days: 10)
        try age(ledger.path, run: b.run, batch: b.batch, days: 10)
        let c = try night(ledger, "c", customers: ["cus_n"])
        try ledger.recordReconciliation(reconciliation(c.run, [found("cus_n", .balance, run: c.run, row: try rowID(ledger, batch: c.batch, customer: "cus_n"))], at: Date()))

        let summary = try ledger.prune(before: Date().addingTimeInterval(-5 * 86_400), dryRun: false)
        #expect(summary.batches.map(\.id) == [a.batch, b.batch])
        #expect(summary.breaks == 0, "night A's holds an open break, night B's is night C's baseline")
        let kept = try #require(try ledger.breaks(runID: a.run).first)
        #expect(kept.opening && kept.isOpen && kept.rowID == nil, "the record stays, its row is gone")
        #expect(try ledger.reconciliation(runID: a.run) != nil)
    }
}
