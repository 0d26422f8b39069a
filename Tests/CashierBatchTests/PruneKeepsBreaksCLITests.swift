import BatchRun
import CashierModel
import Foundation
import Gateway
import GRDB
import Ledger
import Sandbox
import Testing

/// Moves runs (with their reconciliations and breaks), batches and rows back by `days`, as if
/// they were that old.
func ageNights(_ path: String, batches: [Int64], runs: [Int64], days: Int) throws {
    let queue = try DatabaseQueue(path: path)
    let shift = "'-\(days) days'"
    func ids(_ list: [Int64]) -> String { list.map(String.init).joined(separator: ",") }
    func moved(_ column: String) -> String { "\(column) = strftime('%Y-%m-%d %H:%M:%f', \(column), \(shift))" }
    try queue.write { db in
        try db.execute(sql: "UPDATE runs SET \(moved("started_at")), \(moved("finished_at")) WHERE id IN (\(ids(runs)))")
        try db.execute(sql: "UPDATE reconciliations SET \(moved("reconciled_at")) WHERE run_id IN (\(ids(runs)))")
        try db.execute(sql: "UPDATE breaks SET \(moved("created_at")) WHERE run_id IN (\(ids(runs)))")
        try db.execute(sql: "UPDATE breaks SET \(moved("first_seen_at")) WHERE first_seen_run_id IN (\(ids(runs)))")
        try db.execute(sql: "UPDATE batches SET \(moved("created_at")), \(moved("staged_at")) WHERE id IN (\(ids(batches)))")
        try db.execute(sql: "UPDATE rows SET \(moved("updated_at")) WHERE batch_id IN (\(ids(batches)))")
    }
    try queue.close()
}

/// `prune` never removes a batch holding a row with an open break, whichever reconciliation found
/// it (the night's own, or a `reconcile` of an old night today) and however old the night is; it
/// never deletes an open break or the baseline a later reconcile needs; and a night whose rows
/// were pruned cannot be reconciled (exit 64, nothing written).
@Suite(.serialized) struct PruneKeepsBreaksCLITests {
    /// A ledger in a temporary directory, nights sent to one sandbox.
    struct Nights {
        let dir: TempDir
        let sandbox: RunningSandbox
        var ledger: String { dir.path("ledger.sqlite") }
        var env: [String: String] { ["REBILLY_API_KEY": sandbox.apiKey] }

        func night(_ files: [String]) async throws -> CLIResult {
            try await runCLI(runArgs(sandbox, dir, files), environment: env)
        }

        func reconcile(run: Int64? = nil) async throws -> CLIResult {
            try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", ledger, "--rate", "1000/s",
                              "--report-dir", dir.path("reports")] + (run.map { ["--run", String($0)] } ?? []), environment: env)
        }

        func prune(keepDays: Int, dryRun: Bool = false) async throws -> CLIResult {
            try await runCLI(["prune", "--db", ledger, "--keep-days", String(keepDays)] + (dryRun ? ["--dry-run"] : []))
        }

        /// Every row `sql` returns, as text.
        func rows(_ sql: String) throws -> [String] {
            let queue = try DatabaseQueue(path: ledger)
            defer { try? queue.close() }
            return try queue.read { db in try Row.fetchAll(db, sql: sql).map(\.description) }
        }

        func count(_ sql: String) throws -> Int {
            let queue = try DatabaseQueue(path: ledger)
            defer { try? queue.close() }
            return try queue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
        }

        func cashierID(_ customer: String) throws -> String {
            let queue = try DatabaseQueue(path: ledger)
            defer { try? queue.close() }
            return try queue.read { db in
                try String.fetchOne(db, sql: "SELECT cashier_id FROM rows WHERE customer_id = ? ORDER BY id LIMIT 1", arguments: [customer]) ?? "?"
            }
        }

        /// Rebilly's side of a cashier moves (the sandbox's figures endpoint).
        func setFigures(_ customer: String, _ body: String) async throws {
            try await TodaysRebillyCLITests.setFigures(sandbox, cashier: try cashierID(customer), body)
        }
    }

    /// When the preloaded cashiers were created: they are established, not new tonight.
    let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))

    /// Night A (run 1: cus_a0…a2, cashiers Rebilly already holds with the rows' figures, apart from
    /// `preload`'s) and night B (run 2: cus_b0…b1, new tonight, so its reconciliation counts
    /// opening differences); night A is then 10 days old.
    func twoNights(preload: String = "", except: Set<String> = [], nightA: Int32 = 0, nightB: Int32 = 0) async throws -> Nights {
        let dir = try TempDir()
        let a = try writeBatch(dir, name: "night-a.csv", count: 3, prefix: "cus_a")
        let b = try writeBatch(dir, name: "night-b.csv", count: 2, prefix: "cus_b")
        let sandbox = try await TodaysRebillyCLITests.sandbox(preload: preload, holding: [a], except: except)
        let nights = Nights(dir: dir, sandbox: sandbox)
        let first = try await nights.night([a])
        #expect(first.status == nightA, "\(first.stderr)")
        let second = try await nights.night([b])
        #expect(second.status == nightB, "\(second.stderr)")
        // Night B's opening differences are counted in its totals (balance and pendingPayoutTotal of two new cashiers).
        #expect(try nights.count("SELECT sum(opening_count) FROM reconciliation_totals WHERE run_id = 2") == 4)
        #expect(try nights.count("SELECT count(*) FROM breaks WHERE run_id = 2 AND opening = 1") == 0)
        try ageNights(nights.ledger, batches: [1], runs: [1], days: 10)
        return nights
    }

    @Test func aDriftFoundTodayByReconcilingAnOldNightKeepsItsBatchAndTheBreak() async throws {
        let n = try await twoNights()
        try await n.setFigures("cus_a1", #"{"balance":7.00}"#)
        let reconcile = try await n.reconcile(run: 1)
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("break lifecycle=new priority=normal websiteId=web_1 customerId=cus_a1 currency=USD field=balance"),
                "\(reconcile.stderr)")
        let breaks = try n.rows("SELECT * FROM breaks WHERE run_id = 1 ORDER BY id")
        #expect(breaks.count == 1, "\(breaks)")

        let pruned = try await n.prune(keepDays: 5)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.hasPrefix("pruned 0 batches last active before "), "\(pruned.stdout)")
        #expect(pruned.stdout.contains("\nkept 1 batch old enough to prune:\n  batch 1 \(n.dir.path("night-a.csv")): a row has an open break, recorded by run 1's reconciliation\n"),
                "\(pruned.stdout)")
        #expect(try n.count("SELECT count(*) FROM rows WHERE batch_id = 1") == 3)
        #expect(try n.count("SELECT count(*) FROM batches WHERE pruned_at IS NOT NULL") == 0)
        #expect(try n.rows("SELECT * FROM breaks WHERE run_id = 1 ORDER BY id") == breaks, "the break stays as recorded")
        #expect(try n.count("SELECT count(*) FROM reconciliations WHERE run_id = 1") == 1)

        let again = try await n.reconcile(run: 1)
        await n.sandbox.stop()
        #expect(again.status == 4, "still open, and the night can still be reconciled: \(again.stderr)")
    }

    @Test func depositRequestBreaksFoundTodayByReconcilingAnOldNightKeepItsBatch() async throws {
        let n = try await twoNights()
        // cus_a0: the ledger names a deposit request Rebilly does not list (missing). cus_a2: a
        // deposit POST lost its answer and was sent again, so Rebilly lists two of the job's (duplicated).
        let queue = try DatabaseQueue(path: n.ledger)
        let dup = try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM rows WHERE customer_id = 'cus_a2'") ?? 0 }
        let sentAt = DepositOwnership.sendTime(Date())
        try await queue.write { db in
            try db.execute(sql: "UPDATE rows SET deposit_request_id = 'dep_req_not_listed' WHERE customer_id = 'cus_a0'")
            try db.execute(sql: """
                INSERT INTO attempt_log (row_id, run_id, operation, requested_ms, outcome)
                SELECT ?, 1, o.code, ?, u.code FROM attempt_operations o, attempt_outcomes u
                WHERE o.name = 'create_deposit_request' AND u.name = 'lost'
                """, arguments: [dup, Int64((sentAt.timeIntervalSince1970 * 1000).rounded())])
        }
        try queue.close()
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: dup))
        _ = try await seedForeignDepositRequest(n.sandbox, customer: "cus_a2", createdTime: sentAt,
                                                members: #""amounts":[10,20],"expirationTime":"\#(expiry)""#)

        let reconcile = try await n.reconcile(run: 1)
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("depositMissing=1 depositDuplicated=1"), "\(reconcile.stderr)")
        let breaks = try n.rows("SELECT customer_id, field, lifecycle FROM breaks WHERE run_id = 1 ORDER BY customer_id")
        #expect(breaks == [#"[customer_id:"cus_a0" field:"depositRequestMissing" lifecycle:"new"]"#,
                           #"[customer_id:"cus_a2" field:"depositRequestDuplicate" lifecycle:"new"]"#], "\(breaks)")

        await n.sandbox.stop()
        let pruned = try await n.prune(keepDays: 5)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("\n  batch 1 \(n.dir.path("night-a.csv")): a row has an open break, recorded by run 1's reconciliation\n"),
                "\(pruned.stdout)")
        #expect(try n.count("SELECT count(*) FROM rows WHERE batch_id = 1") == 3)
        #expect(try n.rows("SELECT customer_id, field, lifecycle FROM breaks WHERE run_id = 1 ORDER BY customer_id") == breaks)
    }

    /// Night A's own reconciliation finds drift on cus_a1; night B carries it forward. Ten days
    /// later night A stays, and night A's breaks stay as night B's baseline: reconciling night B
    /// again still carries the break. Once a later night finds Rebilly in agreement (resolved),
    /// night A is pruned.
    @Test func aNightsOwnOpenBreakKeepsItsBatchAndStaysTheBaselineUntilResolved() async throws {
        let held = #"{"customerId":"cus_a1","websiteId":"web_1","currency":"USD","balance":9.00,"pendingPayoutTotal":1.50,"createdTime":"\#(yesterday)"}"#
        let n = try await twoNights(preload: held, except: ["cus_a1"], nightA: 4, nightB: 4)
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 1 AND customer_id = 'cus_a1' AND lifecycle = 'new'") == 1)
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 2 AND customer_id = 'cus_a1' AND lifecycle = 'persisting'") == 1)
        let nightA = try n.rows("SELECT * FROM breaks WHERE run_id = 1 ORDER BY id")
        let cashier = try n.cashierID("cus_a1")

        let pruned = try await n.prune(keepDays: 5)  // run 3
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("\n  batch 1 \(n.dir.path("night-a.csv")): a row has an open break, recorded by run 2's reconciliation\n"),
                "\(pruned.stdout)")
        #expect(try n.count("SELECT count(*) FROM rows WHERE batch_id = 1") == 3)
        #expect(try n.rows("SELECT * FROM breaks WHERE run_id = 1 ORDER BY id") == nightA, "night B's baseline stays")
        #expect(try n.count("SELECT count(*) FROM reconciliations WHERE run_id = 1") == 1)

        let reconcile = try await n.reconcile()  // night B again (run 4)
        #expect(reconcile.status == 4, "the break is still carried forward: \(reconcile.stderr)")
        #expect(reconcile.stderr.contains("reconciled run=2 ") && reconcile.stderr.contains("persistingBreaks=1 "), "\(reconcile.stderr)")
        let kept = try await n.prune(keepDays: 5)  // run 5
        #expect(kept.stdout.contains("\n  batch 1 \(n.dir.path("night-a.csv")): a row has an open break, recorded by run 2's reconciliation\n"),
                "\(kept.stdout)")

        // Rebilly is brought to the operator's figure; tonight's export has cus_a1: resolved.
        try await TodaysRebillyCLITests.setFigures(n.sandbox, cashier: cashier, #"{"balance":1.25}"#)
        let tonight = try n.dir.write("night-c.csv", "websiteId,customerId,currency,balance,pendingPayoutTotal\nweb_1,cus_a1,USD,1.25,1.50\n")
        let night = try await n.night([tonight, "--no-deposits"])  // run 6
        #expect(night.status == 0, "\(night.stderr)")
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 6 AND customer_id = 'cus_a1' AND lifecycle = 'resolved'") == 1)
        await n.sandbox.stop()
        let released = try await n.prune(keepDays: 5)
        #expect(released.status == 0, "\(released.stderr)")
        #expect(released.stdout.hasPrefix("pruned 1 batch last active before "), "\(released.stdout)")
        #expect(try n.count("SELECT count(*) FROM rows WHERE batch_id = 1") == 0)
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 1") == 1, "night B can still be reconciled: its baseline stays")
    }

    /// A break found today by reconciling an old night holds it until a later night looks at the
    /// cashier and finds Rebilly in agreement; then night A is pruned.
    @Test func aBreakALaterNightFindsGoneReleasesItsBatch() async throws {
        let n = try await twoNights()
        try await n.setFigures("cus_a1", #"{"balance":7.00}"#)
        #expect(try await n.reconcile(run: 1).status == 4)
        let dry = try await n.prune(keepDays: 5, dryRun: true)
        #expect(dry.stdout.hasPrefix("would prune 0 batches last active before "), "\(dry.stdout)")
        #expect(dry.stdout.contains("\n  batch 1 \(n.dir.path("night-a.csv")): a row has an open break, recorded by run 1's reconciliation"),
                "\(dry.stdout)")

        // Tonight's export says what Rebilly holds for cus_a1: the reconciliation compares it and finds no difference.
        let tonight = try n.dir.write("night-c.csv", "websiteId,customerId,currency,balance,pendingPayoutTotal\nweb_1,cus_a1,USD,7.00,1.50\n")
        let night = try await n.night([tonight, "--no-deposits"])
        await n.sandbox.stop()
        #expect(night.status == 0, "\(night.stderr)")
        let pruned = try await n.prune(keepDays: 5)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.hasPrefix("pruned 1 batch last active before "), "\(pruned.stdout)")
        #expect(try n.count("SELECT count(*) FROM rows WHERE batch_id = 1") == 0)
        #expect(try n.count("SELECT count(*) FROM reconciliations WHERE run_id = 1") == 1, "made today: not old enough to prune")
    }

    /// Night A's own reconciliation found two breaks; night B resolved them; night A is pruned. A
    /// `reconcile --run 1` is refused in one line, before anything is written.
    @Test func reconcilingAPrunedNightIsRefusedAndWritesNothing() async throws {
        let held = #"{"customerId":"cus_a1","websiteId":"web_1","currency":"USD","balance":9.00,"pendingPayoutTotal":3.00,"createdTime":"\#(yesterday)"}"#
        let dir = try TempDir()
        let a = try writeBatch(dir, name: "night-a.csv", count: 3, prefix: "cus_a")
        let b = try dir.write("night-b.csv", "websiteId,customerId,currency,balance,pendingPayoutTotal\nweb_1,cus_a1,USD,9.00,3.00\n")
        let sandbox = try await TodaysRebillyCLITests.sandbox(preload: held, holding: [a], except: ["cus_a1"])
        let n = Nights(dir: dir, sandbox: sandbox)
        #expect(try await n.night([a]).status == 4)
        #expect(try await n.night([b, "--no-deposits"]).status == 0)
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 1 AND lifecycle = 'new'") == 2)
        #expect(try n.count("SELECT count(*) FROM breaks WHERE run_id = 2 AND lifecycle = 'resolved'") == 2)
        try ageNights(n.ledger, batches: [1], runs: [1], days: 10)
        let pruned = try await n.prune(keepDays: 5)
        #expect(pruned.stdout.hasPrefix("pruned 1 batch last active before "), "\(pruned.stdout)")

        let tables = "SELECT * FROM reconciliations ORDER BY run_id", totals = "SELECT * FROM reconciliation_totals ORDER BY run_id, website_id, currency, figure"
        let breaks = "SELECT * FROM breaks ORDER BY id", runs = "SELECT * FROM runs ORDER BY id"
        let before = try [tables, totals, breaks, runs].map { try n.rows($0) }
        #expect(before[0].count == 2 && before[2].count == 4, "\(before)")

        let refused = try await n.reconcile(run: 1)
        await sandbox.stop()
        #expect(refused.status == 64, "\(refused.stderr)")
        // The build line, then the refusal alone.
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(refused.stderr)")
        #expect(lines.first?.contains(" INFO cashier-batch release=") == true, "\(refused.stderr)")
        #expect(lines.last?.contains(" ERROR run 1 cannot be reconciled: its batch 1 (\(a)) was pruned from the ledger on ") == true,
                "\(refused.stderr)")
        #expect(!refused.stderr.contains("report"), "\(refused.stderr)")
        #expect(try [tables, totals, breaks, runs].map { try n.rows($0) } == before, "nothing written, not even a run")
    }
}
