import BatchRun
import Foundation
import Ledger
import Sandbox
import Testing

/// The ledger against failures of the job's own machine: a full disk, a corrupt file,
/// a file that is not a ledger, permissions.
@Suite(.serialized) struct LedgerSurvivalCLITests {
    /// A disk that fills in the middle of the sending: the run stops sending at once, records
    /// nothing as "not sent" that may have been sent, and the `retry` after it lists before
    /// it resends, so Rebilly ends with exactly one deposit request per row.
    @Test(arguments: DiskFault.available)
    func aDiskThatFillsMidRunThenRetryCreatesNoDuplicate(_ kind: DiskFault.Kind) async throws {
        let dir = try TempDir()
        let disk = try DiskFault(in: dir, megabytes: 16, kind: kind)
        var config = SandboxConfiguration()
        config.latency = .milliseconds(5) ... .milliseconds(20)
        let sandbox = try await SandboxServer.start(config)
        let rows = 400
        let batch = try writeBatch(dir, count: rows)
        let ledgerPath = disk.directory + "/ledger.sqlite"
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        func args(_ command: String, _ extra: [String]) -> [String] {
            [command, "--api-url", sandbox.baseURL, "--db", ledgerPath, "--rate", "1000/s", "--in-doubt-settle", "1",
             "--report-dir", dir.path("reports")] + extra
        }
        let process = try startCLI(args("run", [batch, "--concurrency", "16"]), environment: env, stderrTo: dir.path("run.log"))
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(10))
            if let n = try await sandboxStats(sandbox)["depositRequests"]?.numberText.flatMap(Int.init), n >= 60 { break }
        }
        try disk.strike(pid: process.processIdentifier)
        await waitForExit(process)
        let log = (try? String(contentsOfFile: dir.path("run.log"), encoding: .utf8)) ?? ""
        let midway = try await sandboxStats(sandbox)["depositRequests"]?.numberText.flatMap(Int.init) ?? 0
        #expect(midway > 0 && midway < rows, "the disk must fill mid-run (\(midway) deposit requests, \(disk.kind))")
        #expect(process.terminationStatus == 74, "\(log)")
        #expect(log.contains("the ledger \(ledgerPath) could not record"), "\(log)")

        disk.heal()
        let retry = try await runCLI(args("retry", []), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(stats["cashiers"] == .number("\(rows)"))
        #expect(stats["depositRequests"] == .number("\(rows)"), "\(disk.kind): one deposit request per row")
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        let ledger = try Ledger(path: ledgerPath)
        let runs = try ledger.runs()
        #expect(runs.map(\.command) == ["retry", "run"])
        #expect(runs.last?.status == .crashed, "the failed run is recorded as crashed, not finished")
        let batchID = try #require(try ledger.batches(runID: runs[0].id).first?.id)
        #expect(try ledger.countsByState(batchID: batchID)[.done] == rows)
        #expect(try ledger.inFlightAttempts().isEmpty)
    }
}
