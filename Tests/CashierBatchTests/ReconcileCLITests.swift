import Foundation
import Sandbox
import Testing

/// `reconcile` after `run`: the read-back confirms the break (still "new": it replaces the run's own
/// breaks), exits 4 and writes the run's reports again to `--report-dir` with it.
@Suite(.serialized) struct ReconcileCLITests {
    @Test func reconcileReadsBackExitsFourAndRewritesTheReports() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.preload = try PreloadedCashier.load(jsonLines: """
            {"customerId":"cus_1","websiteId":"web_1","currency":"USD","balance":99.00,"pendingPayoutTotal":1.50}
            """)
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 4)  // cus_1's balance in the batch is 1.25
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let again = dir.path("again")
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"),
                                          "--report-dir", again], environment: env)
        await sandbox.stop()

        #expect(run.status == 4, "\(run.stderr)")
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("reconciled run=1 cashiers=4 readBack=4 readBackFailures=0 unread=0 newBreaks=1 persistingBreaks=0"),
                "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0"), "\(reconcile.stderr)")
        let summary = try String(contentsOfFile: again + "/summary.md", encoding: .utf8)
        #expect(summary.contains("1 open break"), "\(summary)")
        let json = try String(contentsOfFile: again + "/report.json", encoding: .utf8)
        #expect(json.contains("\"customerId\":\"cus_1\"") && json.contains("\"expected\":\"1.25\"") && json.contains("\"actual\":\"99.00\""),
                "\(json.prefix(2000))")
        for name in ["report.html", "report.json", "summary.md", "rejects.csv", "metrics.prom"] {
            #expect(FileManager.default.fileExists(atPath: again + "/" + name), "\(name)")
        }
    }
}

/// Read-backs that keep failing: the cashiers not read are neither matched nor broken, they are
/// counted and listed, and `reconcile` exits 69 instead of calling the night clean.
@Suite(.serialized) struct ReconcileUnreadCLITests {
    @Test func cashiersThatCouldNotBeReadBackAreListedAndExitSixtyNine() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.failRate = 0.6
        config.seed = 7
        config.faultOperations = ["GetCashier"]
        let sandbox = try await SandboxServer.start(config)
        let rows = 60
        let batch = try writeBatch(dir, count: rows)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        let again = dir.path("again")
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"),
                                          "--rate", "1000/s", "--report-dir", again], environment: env)
        await sandbox.stop()
        #expect(reconcile.status == 69, "\(reconcile.stderr)")
        let unreadLines = reconcile.stderr.split(separator: "\n").filter { $0.contains("WARNING not read back: neither matched nor broken") }
        #expect(!unreadLines.isEmpty && unreadLines.count < rows, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("unread=\(unreadLines.count) "), "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("\(unreadLines.count) of \(rows) cashiers could not be read back, so the night is not reconciled"))
        #expect(reconcile.stderr.contains("newBreaks=0"), "an unread cashier is not a break")
        let summary = try String(contentsOfFile: again + "/summary.md", encoding: .utf8)
        #expect(!summary.contains("Clean run"), "\(summary)")
        #expect(summary.contains("\(unreadLines.count) cashier\(unreadLines.count == 1 ? "" : "s") could not be read back, so neither matched nor broken"), "\(summary)")
        let json = try String(contentsOfFile: again + "/report.json", encoding: .utf8)
        #expect(json.contains(#""unreadCashiers":[{"websiteId":"web_1","customerId":"cus_"#), "\(json.prefix(3000))")
        #expect(json.contains(#""level":"failure""#))
    }
}
