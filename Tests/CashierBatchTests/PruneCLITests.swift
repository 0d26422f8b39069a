import BatchRun
import CashierModel
import Foundation
import GRDB
import Ledger
import Sandbox
import Testing

/// `prune --keep-days N`: old finished nights leave the ledger; an unfinished row, an open break
/// and a recent night stay; a pruned file is refused, never sent again.
@Suite(.serialized) struct PruneCLITests {
    func count(_ path: String, _ sql: String) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    @Test func oldFinishedNightsArePrunedAndTheirFilesRefused() async throws {
        let dir = try TempDir()
        let old = try writeBatch(dir, name: "old.csv", count: 5, prefix: "cus_o")
        let failing = try writeBatch(dir, name: "failing.csv", count: 3, prefix: "cus_f")
        let drift = try dir.write("drift.csv", "websiteId,customerId,currency,balance\nweb_1,cus_d,USD,100.00\n")
        let recent = try writeBatch(dir, name: "recent.csv", count: 4, prefix: "cus_r")
        // Only cus_d differs from its batch; every other cashier already holds its row's figures.
        let sandbox = try await TodaysRebillyCLITests.sandbox(
            preload: #"{"customerId":"cus_d","websiteId":"web_1","currency":"USD","balance":110.00}"#, holding: [old, failing, recent])
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let ledger = dir.path("ledger.sqlite")
        func night(_ file: String) async throws -> CLIResult {
            try await runCLI(runArgs(sandbox, dir, [file]), environment: env)
        }
        #expect(try await night(old).status == 0)
        #expect(try await night(failing).status == 0)
        #expect(try await night(drift).status == 4, "Rebilly holds 110.00 for cus_d: an open break")
        #expect(try await night(recent).status == 4, "the open break is carried forward")
        // One row of the second night ended failed (Rebilly refused it): it is not done.
        #expect(try count(ledger, "SELECT count(*) FROM rows WHERE batch_id = 2") == 3)
        let queue = try DatabaseQueue(path: ledger)
        try await queue.write { db in try db.execute(sql: "UPDATE rows SET state = 'failed' WHERE batch_id = 2 AND line = 3") }
        let sha = try await queue.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM batches WHERE id = 1") ?? "" }
        try queue.close()
        try ageNights(ledger, batches: [1, 2, 3], runs: [1, 2, 3], days: 40)

        let dry = try await runCLI(["prune", "--db", ledger, "--keep-days", "30", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let lines = dry.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(dry.stdout)")
        #expect(lines.first?.hasPrefix("would prune 1 batch last active before ") == true, "\(dry.stdout)")
        #expect(lines.first?.hasSuffix(" (--keep-days 30): 5 rows, 10 attempts, 5 figure records, 0 break records of older runs") == true, "\(dry.stdout)")
        #expect(Array(lines.dropFirst()) == [
            "  batch 1 \(old) (sha256 \(sha.prefix(12))…), 5 rows read",
            "kept 2 batches old enough to prune:",
            "  batch 2 \(failing): 1 row is not done (pending, failed, in doubt or needing review)",
            "  batch 3 \(drift): a row has an open break, recorded by run 4's reconciliation",
        ])
        #expect(try count(ledger, "SELECT count(*) FROM rows") == 13, "a dry run changes nothing")
        #expect(try count(ledger, "SELECT count(*) FROM runs WHERE command = 'prune'") == 0)

        let pruned = try await runCLI(["prune", "--db", ledger, "--keep-days", "30"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.hasPrefix("pruned 1 batch last active before "), "\(pruned.stdout)")
        #expect(pruned.stdout.hasSuffix("\nthe file keeps its size: SQLite reuses the freed pages for the next nights (--vacuum shrinks it now)\n"), "\(pruned.stdout)")
        #expect(try count(ledger, "SELECT count(*) FROM rows WHERE batch_id = 1") == 0)
        #expect(try count(ledger, "SELECT count(*) FROM rows") == 8, "3 + 1 + 4 rows stay")
        let attempts = try count(ledger, "SELECT count(*) FROM attempts")
        #expect(attempts == 2 * 8, "a cashier and a deposit request per row that stays: \(attempts)")
        #expect(try count(ledger, "SELECT count(*) FROM remote_figures") == 8)
        #expect(try count(ledger, "SELECT count(*) FROM attempts WHERE row_id NOT IN (SELECT id FROM rows)") == 0)
        #expect(try count(ledger, "SELECT count(*) FROM batches WHERE pruned_at IS NOT NULL") == 1)
        #expect(try count(ledger, "SELECT count(*) FROM breaks WHERE run_id = 3") == 1, "run 4's baseline stays: `reconcile --run 4` reads it again")
        #expect(try count(ledger, "SELECT count(*) FROM breaks WHERE run_id = 4 AND lifecycle <> 'resolved'") == 1, "the open break stays")
        #expect(try count(ledger, "SELECT count(*) FROM reconciliations WHERE run_id IN (1, 2)") == 0,
                "the older runs' reconciliation records went with their breaks")
        #expect(try count(ledger, "SELECT count(*) FROM reconciliation_totals WHERE run_id IN (1, 2)") == 0)
        #expect(try count(ledger, "SELECT count(*) FROM reconciliations WHERE run_id = 4") == 1, "the latest reconciliation stays")
        #expect(try count(ledger, "SELECT count(*) FROM pragma_foreign_key_check") == 0)
        let runs = try await runCLI(["runs", "--db", ledger, "--json"])
        #expect(runs.stdout.contains(#""command":"prune""#) && runs.stdout.contains(#""exitCode":0"#), "\(runs.stdout)")

        let oldReport = try await runCLI(["report", "--db", ledger, "--run", "1", "--out", dir.path("old-reports")])
        #expect(oldReport.status == 64, "\(oldReport.stderr)")
        #expect(oldReport.stderr.contains("error: run 1's rows were pruned from the ledger on "), "\(oldReport.stderr)")
        let latest = try await runCLI(["report", "--db", ledger, "--out", dir.path("latest-reports")])
        #expect(latest.status == 0, "the last night still reports: \(latest.stderr)")

        // The pruned file again: refused, nothing sent.
        let sent = try await sandboxStats(sandbox)
        let again = try await night(old)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(again.status == 65, "\(again.stderr)")
        #expect(again.stderr.contains("batch refused; nothing of it is sent (the reason says what to fix) file=\(old) reason=\"this file (sha256 \(sha.prefix(12))…) was processed by run 1 and its rows were pruned from the ledger on "),
                "\(again.stderr)")
        #expect(stats["cashiers"] == sent["cashiers"] && stats["depositRequests"] == sent["depositRequests"])

        // The last clean night ages too: pruned with --vacuum, the file shrinks to what it holds. Run 4's
        // reconciliation is now the baseline of run 6 (the refused file's, which carried the break), run 3's goes.
        try ageNights(ledger, batches: [4], runs: [4], days: 40)
        let size = { () throws -> Int in (try FileManager.default.attributesOfItem(atPath: ledger)[.size] as? Int) ?? 0 }
        let before = try size()
        let vacuumed = try await runCLI(["prune", "--db", ledger, "--keep-days", "30", "--vacuum"])
        #expect(vacuumed.status == 0, "\(vacuumed.stderr)")
        #expect(vacuumed.stdout.contains(" (--keep-days 30): 4 rows, 8 attempts, 4 figure records, 1 break record of older runs\n"), "\(vacuumed.stdout)")
        #expect(vacuumed.stdout.hasSuffix("\nthe file was rewritten without its free pages (--vacuum)\n"), "\(vacuumed.stdout)")
        #expect(try count(ledger, "SELECT count(*) FROM rows") == 4, "the failing night and the drift night stay")
        #expect(try count(ledger, "SELECT count(*) FROM breaks WHERE run_id = 3") == 0, "no one's baseline now")
        #expect(try count(ledger, "SELECT count(*) FROM breaks WHERE run_id = 4") == 1, "run 6's baseline")
        let after = try size()
        #expect(after < before, "\(after) bytes after, \(before) before")

        let usage = try await runCLI(["prune", "--db", ledger, "--keep-days", "0"])
        #expect(usage.status == 64 && usage.stderr.contains("--keep-days must be at least 1"), "\(usage.stderr)")
    }
}
