import BatchRun
@testable import CashierBatch
import CashierModel
import Foundation
@testable import Ledger
import Sandbox
import Testing

/// `--until TIME` (a night that fits its window) and the `forecast` line, over sockets.
@Suite(.serialized) struct WindowCLITests {
    /// The rows of every batch of the ledger, by state.
    func states(_ path: String) throws -> [RowState: Int] {
        let ledger = try Ledger(path: path)
        var counts: [RowState: Int] = [:]
        for run in try ledger.runs() {
            for batch in try ledger.batches(runID: run.id) {
                for (state, n) in try ledger.countsByState(batchID: batch.id) where n > 0 { counts[state] = n }
            }
        }
        return counts
    }

    func dryRun(_ dir: TempDir, _ batch: String, _ extra: [String]) async throws -> CLIResult {
        try await runCLI(["run", "--dry-run", "--db", dir.path("ledger.sqlite"), "--report-dir", dir.path("reports"), batch] + extra)
    }

    /// A 40 s night (400 rows, 800 writes at 20/s) given 15 s: it ends in time with exit 5, the
    /// stop message in the log and summary.md, the unstarted rows pending; `retry` finishes them
    /// with nothing sent twice.
    @Test func aNightLongerThanItsWindowStopsAtTheEndAndRetryFinishesIt() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 400, prefix: "cus_w")
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let until = RFC3339.string(Date().addingTimeInterval(15))
        let started = Date()
        let first = try await runCLI(runArgs(sandbox, dir, ["--rate", "20/s", "--until", until, batch]), environment: env)
        let seconds = Date().timeIntervalSince(started)
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        let report = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("reports/report.json")))))
        let after = try states(dir.path("ledger.sqlite"))
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--in-doubt-settle", "1", "--report-dir", dir.path("reports")], environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        print("window night: \(String(format: "%.1f", seconds)) s, states after it \(after)")

        #expect(first.status == 5, "\(first.stderr.suffix(2000))")
        #expect(seconds < 30, "the command took \(seconds) s")
        #expect(first.stderr.contains("stopped at the window's end:"))
        #expect(first.stderr.contains("rows left for retry"))
        #expect(!first.stderr.contains("row accounting does not close"))
        #expect(first.stderr.contains("WARNING the forecast's expected end"))
        #expect(summary.contains("Stopped at the window's end:"), "\(summary)")
        #expect(summary.contains("Forecast: 800 writes"), "\(summary)")
        #expect(report["verdict"]?["exitCode"] == .number("5"))
        #expect(report["forecast"]?["writesPlanned"] == .number("800"))
        #expect(report["forecast"]?["until"]?.stringValue.flatMap(RFC3339.date) == RFC3339.date(until))
        let pending = after[.pending, default: 0]
        #expect(pending > 0 && pending < 400)
        #expect(after[.done, default: 0] > 40)  // 113–129 quiet, 96 with the other suites running
        #expect(after[.done, default: 0] + pending + after[.inDoubt, default: 0] + after[.failed, default: 0]
            + after[.cashierCreated, default: 0] == 400)

        #expect(retry.status == 0, "\(retry.stderr.suffix(2000))")
        #expect(try states(dir.path("ledger.sqlite"))[.done] == 400)
        #expect(stats["depositRequests"] == .number("400"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
    }

    /// A parked in-doubt row whose settle time falls after the deadline is not waited for: it stays
    /// in doubt (exit 5 at once, not a 30 s settle wait), and `retry` checks and adopts it.
    @Test func anInDoubtRowSettlingAfterTheDeadlineStaysInDoubt() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.dropRate = 0.3
        config.faultOperations = ["PostDepositRequest"]
        config.seed = 25
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 20, prefix: "cus_d")
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        var args = runArgs(sandbox, dir, ["--until", RFC3339.string(Date().addingTimeInterval(5)), batch])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = "30"
        let started = Date()
        let first = try await runCLI(args, environment: env)
        let seconds = Date().timeIntervalSince(started)
        let inDoubt = try states(dir.path("ledger.sqlite"))[.inDoubt, default: 0]
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--in-doubt-settle", "1", "--max-attempts", "12", "--report-dir", dir.path("reports")], environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(first.status == 5, "\(first.stderr.suffix(2000))")
        #expect(seconds < 15, "the command took \(seconds) s")
        #expect(inDoubt > 0)
        #expect(first.stderr.contains("stopped at the window's end: \(inDoubt) row"), "\(first.stderr.suffix(2000))")
        #expect(retry.status == 0, "\(retry.stderr.suffix(2000))")
        #expect(try states(dir.path("ledger.sqlite")) == [.done: 20])
        #expect(stats["depositRequests"] == .number("20"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
    }

    /// `--until` already past: the batch is staged, no row is started, every row stays pending.
    @Test func anUntilInThePastStartsNoRow() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5, prefix: "cus_p")
        let until = RFC3339.string(Date().addingTimeInterval(-3600))
        let result = try await runCLI(runArgs(sandbox, dir, ["--until", until, batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 5, "\(result.stderr)")
        #expect(stats["requestsTotal"] == .number("0"))
        #expect(try states(dir.path("ledger.sqlite")) == [.pending: 5])
        #expect(result.stderr.contains("stopped at the window's end: 5 rows left for retry"))
    }

    /// Rebilly's own count of the write budget: said once, as soon as the first write's answer
    /// carries `X-RateLimit-Remaining`, and shown in the reports beside the forecast.
    @Test func theForecastTakesRebillysCountFromTheFirstAnswer() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.rate = SandboxRate(parsing: "3000/10m")
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 5, prefix: "cus_q")
        var args = runArgs(sandbox, dir, ["--concurrency", "1", batch])
        args[args.firstIndex(of: "--rate")! + 1] = "3000/10m"
        let result = try await runCLI(args, environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        let report = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("reports/report.json")))))

        #expect(result.status == 0, "\(result.stderr)")
        #expect(stats["rateLimited"] == .number("0"))
        let said = result.stderr.split(separator: "\n").filter { $0.contains("forecast: Rebilly's count") }
        #expect(said.count == 1 && said[0].hasSuffix(" INFO forecast: Rebilly's count of the write budget budgetLeft=2999 limit=3000"), "\(said)")
        #expect(report["forecast"]?["budgetLeftByRebilly"] == .number("2999"))
        #expect(report["forecast"]?["budgetLeft"] == .number("3000"))
        #expect(summary.contains("2999 writes left in Rebilly's window after the first · made 10 writes"), "\(summary)")
    }

    /// The dry run's forecast with exact numbers: 2 writes a row with deposit requests, 1 without.
    @Test func aDryRunPrintsTheForecast() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 10, prefix: "cus_f")
        let with = try await dryRun(dir, batch, ["--rate", "20/s"])
        #expect(with.status == 0, "\(with.stderr)")
        let line = try #require(with.stderr.split(separator: "\n").first { $0.contains(" INFO forecast ") })
        // The limiter paces 20/s with its jitter margin, 19 writes a second one at a time (burst 1):
        // the 20th write is granted 19/19 s after the first.
        #expect(line.contains("rows=10 writes=20 reads=0 budgetLeft=20 budget=20/s ratePerSecond=19 seconds=1 expectedEnd="), "\(line)")
        #expect(!with.stderr.contains("WARNING"))
        let without = try await dryRun(dir, batch, ["--rate", "20/s", "--no-deposits"])
        #expect(without.stderr.contains("rows=10 writes=10 reads=0"), "\(without.stderr)")
        // Rebilly's 3000/10m: a fresh window's 2,940 (its jitter margin kept) go at once.
        let fresh = try await dryRun(dir, batch, ["--rate", "3000/10m"])
        #expect(fresh.stderr.contains("rows=10 writes=20 reads=0 budgetLeft=3000 budget=3000/10m ratePerSecond=4.900 seconds=0 expectedEnd="), "\(fresh.stderr)")
    }

    /// A window shorter than the forecast: a WARNING says so before anything is sent.
    @Test func theForecastWarnsWhenTheWindowIsTooShort() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 10, prefix: "cus_s")
        let until = RFC3339.string(Date().addingTimeInterval(120))
        let short = try await dryRun(dir, batch, ["--rate", "1/10s", "--until", until])
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stderr.contains("WARNING the forecast's expected end"), "\(short.stderr)")
        #expect(short.stderr.contains("passes --until \(until)"))
        let roomy = try await dryRun(dir, batch, ["--rate", "20/s", "--until", until])
        #expect(!roomy.stderr.contains("WARNING"), "\(roomy.stderr)")
    }

    /// HH:MM is the next such local time; RFC 3339 as given; anything else is refused.
    @Test func untilParsing() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let now = try #require(RFC3339.date("2026-12-07T04:00:00Z"))
        #expect(try UntilTime.parse("05:30", now: now, timeZone: utc) == RFC3339.date("2026-12-07T05:30:00Z"))
        #expect(try UntilTime.parse("03:15", now: now, timeZone: utc) == RFC3339.date("2026-12-08T03:15:00Z"))
        #expect(try UntilTime.parse("04:00", now: now, timeZone: utc) == RFC3339.date("2026-12-08T04:00:00Z"))
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        #expect(try UntilTime.parse("06:00", now: now, timeZone: paris) == RFC3339.date("2026-12-07T05:00:00Z"))
        #expect(try UntilTime.parse("2026-12-08T05:30:00Z", now: now) == RFC3339.date("2026-12-08T05:30:00Z"))
        #expect(try UntilTime.parse("2026-12-08T06:30:00+01:00", now: now) == RFC3339.date("2026-12-08T05:30:00Z"))
        for garbage in ["soon", "24:00", "7:30", "05:60", "2026-12-08", "05:30Z", ""] {
            #expect(throws: UntilTime.Invalid.self, "\(garbage)") { try UntilTime.parse(garbage, now: now, timeZone: utc) }
        }
    }

    /// Garbage in `--until`, the job file's `until:` or CASHIER_BATCH_UNTIL is a usage error (64);
    /// the job file's value is the run's.
    @Test func aBadUntilIsAUsageError() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 2, prefix: "cus_g")
        let flag = try await dryRun(dir, batch, ["--until", "soon"])
        #expect(flag.status == 64, "\(flag.stderr)")
        #expect(flag.stderr.contains("--until"))
        let env = try await runCLI(["run", "--dry-run", "--db", dir.path("ledger.sqlite"), batch], environment: ["CASHIER_BATCH_UNTIL": "25:00"])
        #expect(env.status == 64, "\(env.stderr)")
        let retry = try await runCLI(["retry", "--db", dir.path("ledger.sqlite"), "--until", "later"])
        #expect(retry.status == 64, "\(retry.stderr)")
        let job = try dir.write("job.yaml", "until: 2030-01-01T05:00:00Z\nfiles:\n  - \(batch)\n")
        let printed = try await runCLI(["run", "--job", job, "--print-config"])
        #expect(printed.stdout.contains("until: 2030-01-01T05:00:00Z"), "\(printed.stdout)")
    }
}
