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
        #expect(reconcile.stderr.contains("reconciled run=1 cashiers=4 readBack=4 readBackFailures=0 newBreaks=1 persistingBreaks=0"),
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
