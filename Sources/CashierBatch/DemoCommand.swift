#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BatchRun
import Foundation
import Ledger
import Reports
import RebillyClient
import Sandbox

/// `cashier-batch demo`: the whole night on a laptop. Starts the sandbox in-process on a
/// free loopback port (a little latency, a few injected faults with a fixed seed, and a few
/// cashiers that already exist with other figures), runs the job on `SampleData/` with the
/// same wiring as `run`, and prints the summary and the path of `report.html`.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the nightly job on SampleData against an in-process sandbox and show the reports.",
        discussion: """
            Everything happens on loopback with the sandbox's development key; nothing leaves the \
            machine. The ledger and reports go to --out (default ./demo-output), the ledger fresh \
            each time. The batch's own exit code (3: rejected rows in bad-rows.csv, 4: reconciliation \
            breaks from the preloaded cashiers) is expected and shown; the demo exits 0 when it worked.
            """
    )

    @Option(help: "Directory for the demo's ledger and reports (its old ledger is removed).")
    var out: String = "demo-output"

    @Option(help: "Directory holding the sample batches.")
    var sampleData: String = "SampleData"

    /// The sample batches, in the order they are run.
    static let sampleFiles = ["customers.csv", "customers.jsonl.gz", "customers-with-control.csv", "bad-rows.csv"]

    /// Cashiers Rebilly has held since yesterday, with figures that differ from
    /// SampleData/customers.csv, so reconciliation finds drift (one of them in pendingPayoutTotal).
    /// Every other cashier is made this night: its differences are the opening ones.
    static var preload: [PreloadedCashier] {
        let yesterday = Date().addingTimeInterval(-86_400)
        return established.map { var c = $0; c.createdTime = yesterday; return c }
    }

    private static let established: [PreloadedCashier] = [
        PreloadedCashier(customerId: "cus_player-000184", websiteId: "web_01J8ZK4Q7M2XR5T9VB3C6NDWEH", currency: "USD",
                         balance: Decimal(string: "21000.00")!, bonusBalance: 0, pendingPayoutTotal: 0),
        PreloadedCashier(customerId: "cus_8f2c1e9a-4b7d-4e21-9c3a-77d0b5e1f402", websiteId: "web_01J8ZK9T3F6HQ1W8YD2N5PRGAS",
                         currency: "EUR", balance: 0, bonusBalance: Decimal(string: "148.66")!,
                         pendingPayoutTotal: Decimal(string: "25.00")!),
        PreloadedCashier(customerId: "cus_01JYJN8SQVEHEZDSG36WPXBBKS", websiteId: "web_01J90AC5R8K3M7P1ZS4V6XGTBN", currency: "JPY",
                         balance: 2_256_845, bonusBalance: 47_000, pendingPayoutTotal: 0),
    ]

    static var sandboxConfiguration: SandboxConfiguration {
        var config = SandboxConfiguration(failRate: 0.05, dropRate: 0.03, latency: .milliseconds(2) ... .milliseconds(15),
                                          seed: 20_261_122, preload: preload)
        config.logLevel = .warning
        return config
    }

    func validate() throws {
        for name in Self.sampleFiles where !FileManager.default.isReadableFile(atPath: sampleData + "/" + name) {
            throw ValidationError("sample batch \(sampleData)/\(name) not found; run the demo from the repository root or give --sample-data")
        }
    }

    /// Unbuffered, so the lines interleave correctly with the run's log on stderr.
    private func say(_ text: String) {
        Terminal.out(text)
    }

    func run() async throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let ledgerPath = out + "/ledger.sqlite"
        for suffix in ["", "-wal", "-shm", "-journal"] where fm.fileExists(atPath: ledgerPath + suffix) {
            try fm.removeItem(atPath: ledgerPath + suffix)
        }
        let files = Self.sampleFiles.map { sampleData + "/" + $0 }

        let sandbox = try await SandboxServer.start(Self.sandboxConfiguration)
        say("Sandbox listening on \(sandbox.baseURL) (latency 2ms..15ms, fail-rate 0.05, drop-rate 0.03, seed 20261122, "
              + "\(Self.preload.count) preloaded cashiers with other figures)")
        say("Running: cashier-batch run \(files.joined(separator: " ")) --db \(ledgerPath) --report-dir \(out)\n")

        let options = try CommandOptions.parse([
            "--api-url", sandbox.baseURL, "--db", ledgerPath, "--report-dir", out, "--rate", "200/s",
        ])
        let sending = try SendingOptions.parse(["--in-doubt-settle", "0.5"])
        let json = optionsJSON(command: "run", files: files) { options.writeJSON(into: &$0); sending.writeJSON(into: &$0) }
        let settings = RunSettings(ledgerPath: ledgerPath, command: "run", optionsJSON: json,
                                   policy: sending.policy(concurrency: options.concurrency), dryRun: false)
        var batchExit: Int32 = 0
        do {
            try await CommandWiring(options: options, inDoubtSettleSeconds: sending.inDoubtSettle, apiKey: try APIKey(sandbox.apiKey))
                .perform(command: "run") { gateway, progress, log in
                    let result = try await NightlyRun(settings: settings, log: { log($0) })
                        .run(files: files, gateway: gateway, onPlan: progress.plan, onRow: progress.row,
                            onWait: { progress.waiting(seconds: $0, rows: $1) })
                    return CommandOutcome(result)
                }
        } catch let code as ExitCode {
            batchExit = code.rawValue
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()

        let summaryPath = out + "/summary.md"
        let htmlPath = out + "/report.html"
        // On a terminal the summary is plain text; piped, it is summary.md as written.
        if isatty(1) != 0, let ledger = try? Ledger(path: ledgerPath, access: .read),
           let data = try? ReportBuilder(ledger: ledger).build(runID: nil) {
            say(ReportMarkdown.render(data, style: .plain))
        } else if let summary = fm.contents(atPath: summaryPath) {
            say(String(decoding: summary, as: UTF8.self))
        }
        let meaning: String
        switch batchExit {
        case 0: meaning = "clean"
        case 3: meaning = "rows rejected or failed (expected: bad-rows.csv)"
        case 4: meaning = "reconciliation breaks (expected: the preloaded cashiers)"
        default: meaning = "unexpected"
        }
        say("Batch exit code: \(batchExit) — \(meaning)")
        say("Ledger: \(ledgerPath)   (try: sqlite3 \(ledgerPath) 'select state, count(*) from rows group by state')")
        guard [0, 3, 4].contains(batchExit), fm.fileExists(atPath: htmlPath) else {
            say("The demo did not work: the run ended with exit code \(batchExit)"
                  + (fm.fileExists(atPath: htmlPath) ? "" : " and wrote no report.html"))
            throw ExitCode(batchExit == 0 ? 70 : batchExit)
        }
        say("Report: \(URL(fileURLWithPath: htmlPath).standardizedFileURL.path)")
    }
}
