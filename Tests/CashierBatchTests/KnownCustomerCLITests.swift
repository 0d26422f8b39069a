import AsyncHTTPClient
import CashierModel
import Foundation
import GRDB
import Ledger
import Sandbox
import Testing

/// Issue 25: a customer whose cashier an earlier night recorded costs one write (its deposit
/// request), not two. Night after night the same customers, each night a new export.
@Suite(.serialized) struct KnownCustomerCLITests {
    /// Night `night`'s export of customers cus_0 … cus_{count-1}: the cashier figures of every
    /// night (Rebilly keeps the first night's), other deposit amounts (a new export, not a repeat).
    static func night(_ dir: TempDir, _ night: Int, count: Int) throws -> String {
        var text = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
        for i in 0..<count { text += "web_1,cus_\(i),USD,\(i).25,1.50,\(10 * night);\(20 * night)\n" }
        return try dir.write("night-\(night).csv", text)
    }

    /// A sandbox that answers 422 to a deposit request whose cashier does not exist.
    static func sandbox() async throws -> RunningSandbox {
        var config = SandboxConfiguration()
        config.requireCashierForDeposits = true
        return try await SandboxServer.start(config)
    }

    /// Requests of `operation` the sandbox answered, with `status` or all.
    static func requests(_ stats: JSONValue, _ operation: String, _ status: String? = nil) -> Int {
        guard case let .object(members)? = stats["requests"]?[operation] else { return 0 }
        return members.filter { status == nil || $0.key == status }.reduce(0) { total, member in
            guard case let .number(n) = member.value else { return total }
            return total + (Int(n) ?? 0)
        }
    }

    /// The cashier id of each customer in the batch run `runID` read (one batch a night).
    static func cashiers(_ ledger: Ledger, run runID: Int64) throws -> [String: String] {
        let batch = try #require(try ledger.batches(runID: runID).first)
        var ids: [String: String] = [:]
        for row in try ledger.rows(batchID: batch.id) { ids[row.customerID ?? ""] = row.cashierID }
        return ids
    }

    /// `rows.cashier_known_from` of each customer's row in the batch of `runID`.
    static func knownFrom(_ path: String, run runID: Int64) throws -> [String: Int64?] {
        try DatabaseQueue(path: path).read { db in
            var result: [String: Int64?] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT r.customer_id, r.cashier_known_from FROM rows r JOIN run_batches rb ON rb.batch_id = r.batch_id WHERE rb.run_id = ?
                """, arguments: [runID]) {
                result[row[0]] = row[1] as Int64?
            }
            return result
        }
    }

    @Test func nightTwoOfTheSameCustomersMakesNoCashierAndReconcileReadsEveryOneBack() async throws {
        let count = 12
        let dir = try TempDir()
        let sandbox = try await Self.sandbox()
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let before = try await sandboxStats(sandbox)
        let night1 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 1, count: count)]), environment: env)
        let afterNight1 = try await sandboxStats(sandbox)
        let night2 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 2, count: count)]), environment: env)
        let afterNight2 = try await sandboxStats(sandbox)
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"),
                                          "--report-dir", dir.path("reconciled")], environment: env)
        let afterReconcile = try await sandboxStats(sandbox)
        await sandbox.stop()

        #expect(night1.status == 0, "\(night1.stderr)")
        #expect(night2.status == 0, "night 2 is clean: a known row is not compared by the run's own reconciliation\n\(night2.stderr)")
        func delta(_ a: JSONValue, _ b: JSONValue, _ operation: String, _ status: String? = nil) -> Int {
            Self.requests(b, operation, status) - Self.requests(a, operation, status)
        }
        // Night 1: two writes a row. Night 2: one.
        #expect(delta(before, afterNight1, "PostCashier") == count)
        #expect(delta(before, afterNight1, "PostDepositRequest") == count)
        #expect(delta(afterNight1, afterNight2, "PostCashier") == 0)
        #expect(delta(afterNight1, afterNight2, "PostDepositRequest") == count)
        #expect(delta(afterNight1, afterNight2, "PostDepositRequest", "201") == count)
        let writes1 = Double(delta(before, afterNight1, "PostCashier") + delta(before, afterNight1, "PostDepositRequest")) / Double(count)
        let writes2 = Double(delta(afterNight1, afterNight2, "PostCashier") + delta(afterNight1, afterNight2, "PostDepositRequest")) / Double(count)
        #expect(writes1 == 2.0 && writes2 == 1.0, "writes per row: night 1 \(writes1), night 2 \(writes2)")

        // The log line, the reports.
        #expect(night2.stderr.contains("cashierKnown=\(count)"), "\(night2.stderr)")
        #expect(night1.stderr.contains("cashierKnown=0"), "\(night1.stderr)")
        // The forecast counts the creates it will not make.
        #expect(night1.stderr.contains("forecast rows=\(count) writes=\(2 * count) "), "\(night1.stderr)")
        #expect(night2.stderr.contains("forecast rows=\(count) writes=\(count) "), "\(night2.stderr)")
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        #expect(summary.contains("Cashier known: \(count)"), "\(summary)")
        let html = try String(contentsOfFile: dir.path("reports/report.html"), encoding: .utf8)
        #expect(html.contains("<div class=num>\(count)</div><div class=lbl>cashier known</div>"))
        let json = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("reports/report.json")))))
        #expect(json["counts"]?["cashierKnown"] == .number("\(count)"), "\(String(describing: json["counts"]))")
        #expect(json["counts"]?["done"] == .number("\(count)"))

        // The ledger: night 2's rows carry night 1's cashiers, marked as known, with no create attempt.
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let runs = try ledger.runs(limit: 10).map(\.id).sorted()
        let (run1, run2) = (runs[0], runs[1])
        let ids1 = try Self.cashiers(ledger, run: run1), ids2 = try Self.cashiers(ledger, run: run2)
        #expect(ids1.count == count && ids2 == ids1)
        #expect(try Self.knownFrom(ledger.path, run: run2).values.allSatisfy { $0 != nil })
        #expect(try ledger.attempts(runID: run2).allSatisfy { $0.operation == .createDepositRequest })

        // reconcile reads every cashier of night 2 back and compares it: the sandbox's cashiers hold
        // 0.00 (the figures are read-only), so night 1's opening differences are drift now (exit 4):
        // new breaks, first seen on the cashiers' second night (night 1 counted them, recorded none).
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        #expect(delta(afterNight2, afterReconcile, "GetCashier") == count)
        #expect(reconcile.stderr.contains("reconciled run=\(run2) cashiers=\(count) readBack=\(count) readBackFailures=0 unread=0 newBreaks=\(2 * count) persistingBreaks=0"),
                "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0"), "\(reconcile.stderr)")
    }

    @Test func aCashierDeletedAtRebillyBetweenTheNightsIsMadeAgainAndItsDepositRequestSentOnce() async throws {
        let count = 5
        let dir = try TempDir()
        let sandbox = try await Self.sandbox()
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let night1 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 1, count: count)]), environment: env)
        let first = try Ledger(path: dir.path("ledger.sqlite"))
        let run1 = try #require(try first.runs(limit: 1).first?.id)
        let gone = try #require(try Self.cashiers(first, run: run1)["cus_2"])
        try first.close()
        var delete = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/cashiers/\(gone)")
        delete.method = .DELETE
        delete.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        let deleted = try await HTTPClient.shared.execute(delete, timeout: .seconds(10))
        let afterNight1 = try await sandboxStats(sandbox)
        let night2 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 2, count: count)]), environment: env)
        let afterNight2 = try await sandboxStats(sandbox)
        await sandbox.stop()

        #expect(night1.status == 0, "\(night1.stderr)")
        #expect(deleted.status.code == 200)
        #expect(night2.status == 0, "\(night2.stderr)")
        func delta(_ operation: String, _ status: String? = nil) -> Int {
            Self.requests(afterNight2, operation, status) - Self.requests(afterNight1, operation, status)
        }
        // One cashier made again (201: a new one), one deposit request refused for want of it, then sent once more.
        #expect(delta("PostCashier") == 1 && delta("PostCashier", "201") == 1)
        #expect(delta("PostDepositRequest", "422") == 1)
        #expect(delta("PostDepositRequest", "201") == count)
        #expect(night2.stderr.contains("cashierKnown=\(count - 1)"), "\(night2.stderr)")
        // Nothing twice: one deposit request per customer and night.
        #expect(afterNight2["depositRequests"] == .number("\(2 * count)"))
        guard case let .array(perCashier)? = afterNight2["depositRequestsPerCashier"] else { Issue.record("no depositRequestsPerCashier"); return }
        #expect(perCashier.count == count && perCashier.allSatisfy { $0["count"] == .number("2") })

        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let run2 = try #require(try ledger.runs(limit: 10).map(\.id).max())
        let ids = try Self.cashiers(ledger, run: run2)
        let made = try #require(ids["cus_2"])
        #expect(made != gone)
        let known = try Self.knownFrom(ledger.path, run: run2)
        #expect(known["cus_2"] == .some(nil), "the row whose cashier was made again is not a known one")
        #expect(known.filter { $0.key != "cus_2" }.values.allSatisfy { $0 != nil })
        let batch = try #require(try ledger.batches(runID: run2).first)
        let row = try #require(try ledger.rows(batchID: batch.id).first { $0.customerID == "cus_2" })
        #expect(row.state == .done)
        #expect(try ledger.attempts(rowID: row.id).map { "\($0.operation.rawValue) \($0.httpStatus ?? 0)" }
                == ["create_deposit_request 422", "create_cashier 201", "create_deposit_request 201"])
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        #expect(summary.contains("Cashier known: \(count - 1)"), "\(summary)")
    }

    @Test func aNightOnAnotherOrganizationMakesItsOwnCashiersAndTheFirstOrganizationKeepsItsOwn() async throws {
        let count = 4
        let dir = try TempDir()
        let sandbox = try await Self.sandbox()
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let night1 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 1, count: count)]), environment: env)
        let afterNight1 = try await sandboxStats(sandbox)
        let night2 = try await runCLI(runArgs(sandbox, dir, ["--organization-id", "org_b", try Self.night(dir, 2, count: count)]), environment: env)
        let afterNight2 = try await sandboxStats(sandbox)
        let night3 = try await runCLI(runArgs(sandbox, dir, [try Self.night(dir, 3, count: count)]), environment: env)
        let afterNight3 = try await sandboxStats(sandbox)
        await sandbox.stop()

        #expect(night1.status == 0, "\(night1.stderr)")
        #expect(night2.status == 0, "\(night2.stderr)")
        #expect(night3.status == 0, "\(night3.stderr)")
        // Another organization: its own cashiers, made (201), none reused.
        #expect(Self.requests(afterNight2, "PostCashier", "201") - Self.requests(afterNight1, "PostCashier", "201") == count)
        #expect(night2.stderr.contains("cashierKnown=0"), "\(night2.stderr)")
        // Back on the first organization: night 1's cashiers, not night 2's, and no POST /cashiers.
        #expect(Self.requests(afterNight3, "PostCashier") - Self.requests(afterNight2, "PostCashier") == 0)
        #expect(Self.requests(afterNight3, "PostDepositRequest", "201") - Self.requests(afterNight2, "PostDepositRequest", "201") == count)
        #expect(night3.stderr.contains("cashierKnown=\(count)"), "\(night3.stderr)")
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let runs = try ledger.runs(limit: 10).map(\.id).sorted()
        let ids1 = try Self.cashiers(ledger, run: runs[0]), ids2 = try Self.cashiers(ledger, run: runs[1]), ids3 = try Self.cashiers(ledger, run: runs[2])
        #expect(ids3 == ids1)
        #expect(ids2.count == count && Set(ids2.values).isDisjoint(with: Set(ids1.values)))
    }
}
