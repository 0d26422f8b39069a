import CashierModel
import Foundation
import GRDB
import Testing
@testable import Ledger

/// Known customers: the cashier an earlier night recorded, found by one query a page.
@Suite("Known cashiers")
struct LedgerKnownCashierTests {
    static let orgA = #"{"apiUrl":"http://127.0.0.1:9","organizationId":"org_a"}"#

    /// A batch of `customers` (customerId, currency) staged for `run`.
    static func night(_ ledger: Ledger, _ run: Int64, _ name: String, _ customers: [(String, String)]) throws -> [RowRecord] {
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha(name), path: "/in/\(name).csv", format: .csv), runID: run)
        try ledger.stageRows(batchID: batch.id, rows: customers.enumerated().map { validRow($0.offset + 2, customer: $0.element.0, currency: $0.element.1) })
        return try ledger.rows(batchID: batch.id)
    }

    /// A succeeded `POST /cashiers` for `row` in `run`, the row then `done` when `done`.
    static func created(_ writer: LedgerWriter, _ row: RowRecord, _ run: Int64, _ id: String, done: Bool) async throws {
        let attempt = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createCashier)
        try await writer.recordOutcome(attemptID: attempt, httpStatus: 201, latencyMs: 1, error: nil, returnedID: id,
                                       outcome: .succeeded, then: .cashierCreated(cashierID: id))
        if done { try await writer.transition(rowID: row.id, to: .done, depositRequestID: "dep_req_\(id)") }
    }

    static func lookup(_ ledger: Ledger, _ run: Int64, _ rows: [RowRecord]) throws -> [Int64: KnownCashier] {
        try ledger.knownCashiers(runID: run, batchID: rows[0].batchID, rows: rows.first!.id...rows.last!.id)
    }

    @Test func aCashierOfAnEarlierNightIsFoundForTheSameOrganizationAndExactKeyOnly() async throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        let writer = ledger.writer()

        // Night 1: cus_1 done, cus_2 refused by the API (no cashier), cus_3 cashier made (deposit to do), cus_4 done.
        let run1 = try ledger.beginRun(command: "run", optionsJSON: Self.orgA)
        let n1 = try Self.night(ledger, run1, "n1", [("cus_1", "USD"), ("cus_2", "USD"), ("cus_3", "USD"), ("cus_4", "USD")])
        try await Self.created(writer, n1[0], run1, "cashier_1", done: true)
        let refused = try await writer.recordIntent(rowID: n1[1].id, runID: run1, operation: .createCashier)
        try await writer.recordOutcome(attemptID: refused, httpStatus: 422, latencyMs: 1, error: "no", returnedID: nil,
                                       outcome: .rejected, then: .rejected(reasonsJSON: "[]"))
        try await Self.created(writer, n1[2], run1, "cashier_3", done: false)
        try await Self.created(writer, n1[3], run1, "cashier_4", done: true)
        // Night 1's reconciliation: cus_1 opening differences (its first night), cus_4 drift (open).
        let seen = Date(timeIntervalSince1970: 1_700_000_000)
        try ledger.recordReconciliation(reconciliation(run1, [
            Break(websiteID: "web_1", customerID: "cus_1", currency: "USD", exponent: 2, field: .balance, lifecycle: .new,
                  expectedMinor: 1_000, actualMinor: 0, firstSeenRunID: run1, firstSeenAt: seen, opening: true),
            Break(websiteID: "web_1", customerID: "cus_4", currency: "USD", exponent: 2, field: .balance, lifecycle: .new,
                  expectedMinor: 1_000, actualMinor: 0, firstSeenRunID: run1, firstSeenAt: seen),
        ]))
        try ledger.finishRun(id: run1, status: .finished, exitCode: 0)

        // Night 2, same organization: the same customers, and keys that differ only in case or currency.
        let run2 = try ledger.beginRun(command: "run", optionsJSON: Self.orgA)
        let n2 = try Self.night(ledger, run2, "n2", [("cus_1", "USD"), ("cus_2", "USD"), ("cus_3", "USD"), ("cus_4", "USD"),
                                                      ("CUS_1", "USD"), ("cus_1", "EUR")])
        // cus_4 has open drift: it makes its POST /cashiers, whose answer the night's reconciliation rechecks the break with.
        let found = try Self.lookup(ledger, run2, n2)
        #expect(found == [n2[0].id: KnownCashier(cashierID: "cashier_1", fromRowID: n1[0].id),
                          n2[2].id: KnownCashier(cashierID: "cashier_3", fromRowID: n1[2].id)])
        // Not within the batch that made them, and not for another organization or API.
        #expect(try Self.lookup(ledger, run2, n1).isEmpty)
        let otherOrg = try ledger.beginRun(command: "run", optionsJSON: #"{"apiUrl":"http://127.0.0.1:9","organizationId":"org_b"}"#)
        #expect(try Self.lookup(ledger, otherOrg, n2).isEmpty)
        let noOrg = try ledger.beginRun(command: "run", optionsJSON: #"{"apiUrl":"http://127.0.0.1:9"}"#)
        #expect(try Self.lookup(ledger, noOrg, n2).isEmpty)
        let otherAPI = try ledger.beginRun(command: "run", optionsJSON: #"{"apiUrl":"http://127.0.0.1:10","organizationId":"org_a"}"#)
        #expect(try Self.lookup(ledger, otherAPI, n2).isEmpty)

        // The row takes it: cashier_created with the id and its origin, no attempt; reports count it.
        try await writer.adoptKnownCashier(rowID: n2[0].id, found[n2[0].id]!)
        let adopted = try #require(try ledger.row(id: n2[0].id))
        #expect(adopted.state == .cashierCreated && adopted.cashierID == "cashier_1")
        #expect(try ledger.attempts(rowID: n2[0].id).isEmpty)
        #expect(try ledger.accounting(runID: run2, batchID: n2[0].batchID).cashierKnown == 1)
        #expect(try Self.lookup(ledger, run2, n2)[n2[0].id] == nil, "a row with a cashier is not looked up again")
        await #expect(throws: LedgerError.self) { try await writer.adoptKnownCashier(rowID: n2[0].id, found[n2[0].id]!) }

        // Night 3 finds the row that created the cashier, not the row that reused it.
        let run3 = try ledger.beginRun(command: "run", optionsJSON: Self.orgA)
        let n3 = try Self.night(ledger, run3, "n3", [("cus_1", "USD")])
        #expect(try Self.lookup(ledger, run3, n3) == [n3[0].id: KnownCashier(cashierID: "cashier_1", fromRowID: n1[0].id)])

        // The cashier was gone and night 2 made it again: that row is no longer a known one, and
        // later nights take the new id.
        try await Self.created(writer, n2[0], run2, "cashier_1b", done: true)
        #expect(try ledger.accounting(runID: run2, batchID: n2[0].batchID).cashierKnown == 0)
        #expect(try Self.lookup(ledger, run3, n3) == [n3[0].id: KnownCashier(cashierID: "cashier_1b", fromRowID: n2[0].id)])

        // One seek of the partial key index per row, the page read by its batch: no scan of earlier nights.
        let plan = try QueryPlanTests.plan(ledger, Ledger.knownCashiersSQL, [run3, n3[0].batchID, n3[0].id, n3[0].id])
        #expect(plan.contains("rows_cashier_key (key_hash=?)"), "\(plan)")
        #expect(!plan.contains("SCAN c") && !plan.contains("SCAN r"), "\(plan)")
        await writer.shutdown()
    }
}
