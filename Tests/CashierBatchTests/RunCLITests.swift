import AsyncHTTPClient
import BatchRun
import CashierModel
import Foundation
@testable import Ledger
import Sandbox
import Testing

/// A batch of `count` valid rows with distinct customers.
func writeBatch(_ dir: TempDir, name: String = "batch.csv", count: Int, prefix: String = "cus_") throws -> String {
    var text = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
    for i in 0..<count { text += "web_1,\(prefix)\(i),USD,\(i).25,1.50,10;20\n" }
    return try dir.write(name, text)
}

func sandboxStats(_ sandbox: RunningSandbox) async throws -> JSONValue {
    var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/stats")
    request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return try JSONParser.parse(Array(body.readableBytesView))
}

func runArgs(_ sandbox: RunningSandbox, _ dir: TempDir, _ extra: [String]) -> [String] {
    ["run", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s", "--in-doubt-settle", "1", "--report-dir", dir.path("reports")] + extra
}

@Suite(.serialized) struct RunCLITests {
    @Test func aRunSendsEveryRowOnceAndARerunSendsNothing() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 30)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let first = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let second = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(stats["cashiers"] == .number("30"))
        #expect(stats["depositRequests"] == .number("30"))
        #expect(stats["requestsTotal"] == .number("60"))
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let batchID = try #require(try ledger.runs().last.flatMap { try ledger.batches(runID: $0.id).first?.id })
        #expect(try ledger.countsByState(batchID: batchID)[.done] == 30)
        #expect(!first.stderr.contains(sandbox.apiKey))
    }

    @Test func refusedCredentialsExitSeventySevenAfterOneRequest() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 20)
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": "not-the-key"])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 77, "\(result.stderr)")
        #expect(stats["requestsTotal"] == .number("1"))
        #expect(result.stderr.contains("credentials refused"))
        #expect(!result.stderr.contains("not-the-key"))
    }

    @Test func aControlMismatchRefusesTheBatchAndSendsNothing() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        try dir.write("batch.csv.control.json", #"{"rows": 4, "totals": {}}"#)
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 65)
        #expect(result.stderr.contains("control manifest mismatch: rows: expected 4, found 3"))
        #expect(stats["requestsTotal"] == .number("0"))
    }

    @Test func aSecondRunOnTheSameLedgerExitsSeventyFive() async throws {
        let dir = try TempDir()
        let lock = try RunLock(ledgerPath: dir.path("ledger.sqlite"))
        defer { lock.release() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 75)
        #expect(result.stderr.contains("another run holds the ledger lock"))
        #expect(stats["requestsTotal"] == .number("0"))
    }

    @Test func killNineMidRunThenRunAgainSendsEveryRowExactlyOnce() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.latency = .milliseconds(5) ... .milliseconds(25)
        let sandbox = try await SandboxServer.start(config)
        let rows = 300
        let batch = try writeBatch(dir, count: rows)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        // Start a run, let it get going, then kill -9 it.
        let process = try startCLI(runArgs(sandbox, dir, [batch, "--concurrency", "8"]), environment: env)
        var waited = 0
        while waited < 200 {
            try await Task.sleep(for: .milliseconds(25))
            waited += 1
            let stats = try await sandboxStats(sandbox)
            if let n = stats["depositRequests"]?.numberText.flatMap(Int.init), n >= 40 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        await waitForExit(process)
        let midway = try await sandboxStats(sandbox)
        let createdBeforeKill = midway["depositRequests"]?.numberText.flatMap(Int.init) ?? 0
        #expect(createdBeforeKill > 0 && createdBeforeKill < rows, "the kill must land mid-run (\(createdBeforeKill))")

        let again = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("recovered after an unfinished run: its calls in flight are checked before anything is sent again crashedRuns=1"))
        #expect(stats["cashiers"] == .number("\(rows)"))
        #expect(stats["depositRequests"] == .number("\(rows)"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let runs = try ledger.runs()
        #expect(runs.map(\.status) == [.finished, .crashed])
        let batchID = try #require(try ledger.batches(runID: runs[0].id).first?.id)
        #expect(try ledger.countsByState(batchID: batchID)[.done] == rows)
    }
}

@Suite(.serialized) struct SignalCLITests {
    @Test func sigtermStopsTakingRowsClosesTheRunAndExits143() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.latency = .milliseconds(20) ... .milliseconds(40)
        let sandbox = try await SandboxServer.start(config)
        let rows = 200
        let batch = try writeBatch(dir, count: rows)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let process = try startCLI(runArgs(sandbox, dir, [batch, "--concurrency", "4"]), environment: env)
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(25))
            if let n = try await sandboxStats(sandbox)["depositRequests"]?.numberText.flatMap(Int.init), n >= 10 { break }
        }
        kill(process.processIdentifier, SIGTERM)
        await waitForExit(process)
        #expect(process.terminationStatus == 143)
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let run = try #require(try ledger.runs().first)
        #expect(run.status == .interrupted)
        #expect(run.exitCode == 143)
        #expect(try ledger.inFlightAttempts().isEmpty, "every in-flight call is finished or recorded")

        let again = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(stats["depositRequests"] == .number("\(rows)"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
    }
}

extension SignalCLITests {
    /// At 6 writes a minute every worker waits about 10 s for its turn; SIGINT ends those waits at
    /// once instead of letting each take its token in turn. The watchdog (10 s) is generous: the
    /// command must end on its own, with 130, long before its queue of waiters would have.
    @Test func sigintAtALowRateStopsWithoutWaitingForTokens() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 20)
        let process = try startCLI(["run", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "6/m", "--burst", "1",
                                    "--report-dir", dir.path("reports"), batch], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(25))
            if let n = try await sandboxStats(sandbox)["cashiers"]?.numberText.flatMap(Int.init), n >= 1 { break }
        }
        try await Task.sleep(for: .milliseconds(300))  // the workers are queued for tokens now
        kill(process.processIdentifier, SIGINT)
        var waited = 0
        while process.isRunning, waited < 400 {
            try await Task.sleep(for: .milliseconds(25))
            waited += 1
        }
        let endedOnItsOwn = !process.isRunning
        if !endedOnItsOwn { kill(process.processIdentifier, SIGKILL) }
        await waitForExit(process)
        await sandbox.stop()
        #expect(endedOnItsOwn, "still running 10 s after SIGINT")
        #expect(process.terminationStatus == 130)
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let run = try #require(try ledger.runs().first)
        #expect(run.status == .interrupted && run.exitCode == 130)
        #expect(try ledger.inFlightAttempts().isEmpty, "every in-flight call is finished or recorded")
    }
}

@Suite(.serialized) struct RetryAndDryRunCLITests {
    @Test func dryRunStagesAndListsButSendsNothing() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, "--dry-run"]), environment: [:])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(stats["requestsTotal"] == .number("0"))
        #expect(result.stderr.contains("dry run: would send batch=1 rows=3 deposits=true"))
        #expect(result.stderr.contains("would send line=4 customerId=cus_2 websiteId=web_1 currency=USD state=pending"))
    }

    @Test func retryResendsOnlyTheFailedRowsOfTheLastRun() async throws {
        let dir = try TempDir()
        var broken = SandboxConfiguration()
        broken.failRate = 1
        let down = try await SandboxServer.start(broken)
        let healthy = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 4)
        let env = ["REBILLY_API_KEY": healthy.apiKey]
        let first = try await runCLI(runArgs(down, dir, [batch, "--max-attempts", "2"]), environment: env)
        #expect(first.status == 69, "nothing got through: the API is unavailable (\(first.stderr))")
        let retry = try await runCLI(["retry", "--api-url", healthy.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s", "--report-dir", dir.path("reports")], environment: env)
        let stats = try await sandboxStats(healthy)
        await down.stop()
        await healthy.stop()
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stderr.contains("retrying run 1"))
        #expect(stats["cashiers"] == .number("4"))
        #expect(stats["depositRequests"] == .number("4"))

        let runs = try await runCLI(["runs", "--db", dir.path("ledger.sqlite"), "--json"])
        #expect(runs.status == 0)
        #expect(runs.stdoutLines.count == 2)
        #expect(runs.stdoutLines[0].contains(#""command":"retry""#) && runs.stdoutLines[0].contains(#""exitCode":0"#))
        #expect(runs.stdoutLines[1].contains(#""command":"run""#) && runs.stdoutLines[1].contains(#""exitCode":69"#))
    }
}

/// Rejected rows make every run over their batch exit 3, not only the first one.
@Suite(.serialized) struct RejectedRowsExitCLITests {
    @Test func everyRunOverABatchWithRejectedRowsExitsThree() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<5 { text += "web_1,cus_\(i),USD,1.00\n" }
        text += "web_1,cus_bad,XXX,1.00\n"
        let batch = try dir.write("b.csv", text)
        let first = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let second = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--report-dir", dir.path("reports")],
                                     environment: env)
        await sandbox.stop()
        #expect(first.status == 3, "\(first.stderr)")
        #expect(second.status == 3, "\(second.stderr)")
        #expect(retry.status == 3, "\(retry.stderr)")
    }
}

/// Rows whose deposit POST went unanswered wait out `--in-doubt-settle` without holding one of
/// the `--concurrency` slots: the night ends within its sending time, two settle waits and the
/// retries' backoff, every row done once.
@Suite(.serialized) struct ParkedRowsCLITests {
    /// A row of the first batch parked for its in-doubt check does not hold up the second batch:
    /// the second batch's rows are sent during the first row's settle wait, before it is listed
    /// (one pass per batch listed it first, then sent the second batch).
    @Test func aParkedRowDoesNotHoldUpTheNextBatch() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.dropRate = 1
        config.faultOperations = ["PostDepositRequest"]
        let sandbox = try await SandboxServer.start(config)
        let first = try writeBatch(dir, name: "first.csv", count: 1, prefix: "cus_first_")
        let second = try writeBatch(dir, name: "second.csv", count: 3, prefix: "cus_second_")
        var args = runArgs(sandbox, dir, [first, second])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = "5"
        let run = try await runCLI(args, environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(stats["depositRequests"] == .number("4") && stats["duplicateDepositRequests"] == .number("0"))
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let firstRow = try #require(try ledger.rows(batchID: 1).first)
        let firstList = try #require(try ledger.attempts(rowID: firstRow.id).first { $0.operation == .listDepositRequests })
        let secondPosts = try ledger.rows(batchID: 2).flatMap { try ledger.attempts(rowID: $0.id) }
            .filter { $0.operation == .createDepositRequest }.map(\.requestedAt)
        #expect(secondPosts.count == 3)
        #expect(secondPosts.min().map { $0 < firstList.requestedAt } == true, "second batch's POSTs \(secondPosts), first batch's listing \(firstList.requestedAt)")
    }

    @Test func inDoubtRowsDoNotHoldASlot() async throws {
        let rows = 300, settle = 3.0
        let env = { (sandbox: RunningSandbox) in ["REBILLY_API_KEY": sandbox.apiKey] }
        // The same night without faults, on this machine now: the sending time.
        let quietDir = try TempDir()
        var quietConfig = SandboxConfiguration()
        quietConfig.latency = .milliseconds(2) ... .milliseconds(10)
        let quiet = try await SandboxServer.start(quietConfig)
        let quietBatch = try writeBatch(quietDir, count: rows)
        let quietStart = ContinuousClock.now
        let baseline = try await runCLI(runArgs(quiet, quietDir, [quietBatch, "--concurrency", "16"]), environment: env(quiet))
        let sending = quietStart.duration(to: .now)
        await quiet.stop()
        #expect(baseline.status == 0, "\(baseline.stderr)")

        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.latency = .milliseconds(2) ... .milliseconds(10)
        config.failRate = 0.15
        config.dropRate = 0.15
        config.seed = 2026
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: rows)
        // 30 % faults: a row can need more than the default 6 attempts (0.3^6 × 300 ≈ 0.2 rows);
        // with 12, a row's listing fails every time about once in 6,000 nights (0.3^12 × 300).
        var args = runArgs(sandbox, dir, [batch, "--concurrency", "16", "--max-attempts", "12"])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = String(settle)
        let result = try await runCLI(args, environment: env(sandbox))
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        // A row that did not end done, with its reason and attempts, for whoever reads a failure.
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let unfinished = try ledger.rows(batchID: 1).filter { $0.state != .done }.map { row in
            "row \(row.id) \(row.state): \(row.reasonsJSON); " + ((try? ledger.attempts(rowID: row.id))?
                .map { "\($0.operation.rawValue) \($0.outcome.rawValue) \($0.httpStatus.map(String.init) ?? "-") \($0.error ?? "")" }
                .joined(separator: " | ") ?? "")
        }
        #expect(result.status == 0, "\(result.stderr.suffix(2000)) \(unfinished)")
        #expect(stats["depositRequests"] == .number("\(rows)"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        #expect(try ledger.countsByState(batchID: 1)[.done] == rows, "\(unfinished)")
        // Each row's own path: its first call, one settle wait each time its deposit POST went
        // unanswered (a 5xx makes the row POST again, so a few rows need three or four), its
        // retries' backoff. Rows waiting to settle hold no slot, so (1) every row starts within
        // the sending time (twice the fault-free one: 30 % of the calls are repeated) plus a
        // row's backoff, and (2) the night ends with its slowest row's own path: the waits do
        // not queue behind each other.
        let run = try #require(try ledger.run(id: 1))
        let attempts = try ledger.attempts(runID: 1)
        var byRow: [Int64: [AttemptRecord]] = [:]
        for attempt in attempts { byRow[attempt.rowID, default: []].append(attempt) }
        var lastStart = 0.0, slowestPath = 0.0, longestBackoff = 0.0
        for (_, list) in byRow {
            let start = list[0].requestedAt.timeIntervalSince(run.startedAt)
            let rounds = list.count { $0.operation == .createDepositRequest && $0.outcome == .lost }
            var backoff = 0.0, work = 0.0
            for attempt in list { work += (attempt.finishedAt ?? attempt.requestedAt).timeIntervalSince(attempt.requestedAt) }
            for (previous, next) in zip(list, list.dropFirst()) {
                // After an unanswered deposit POST the pause is the settle wait; any other is backoff.
                guard let finished = previous.finishedAt,
                      !(previous.operation == .createDepositRequest && previous.outcome == .lost) else { continue }
                backoff += max(0, next.requestedAt.timeIntervalSince(finished))
            }
            lastStart = max(lastStart, start)
            longestBackoff = max(longestBackoff, backoff)
            let path = start + work + backoff + Double(rounds) * settle
            slowestPath = max(slowestPath, path)
        }
        let night = (run.finishedAt ?? Date()).timeIntervalSince(run.startedAt)
        let sendingSeconds = Double(sending.components.seconds) + Double(sending.components.attoseconds) / 1e18
        #expect(lastStart <= 2 * sendingSeconds + longestBackoff + 1, "the last row started at \(lastStart) s")
        #expect(night <= slowestPath + 2, "the night took \(night) s; its slowest row's own path \(slowestPath) s")
    }
}

/// A 429 storm: the job, paced at 100/s, against a sandbox that allows 10/s. It runs as its own
/// process (an in-process job shares the test runner's two cooperative threads with every
/// other test running at the same time). The sandbox runs in the test runner and may be starved
/// by other tests: then the job's 16 rows in flight reach it at once, and 10/s, under 16, still
/// pushes back (a limit of 20/s once saw no 429 at all that way).
@Suite(.serialized) struct RateLimitCLITests {
    @Test func a429StormSlowsTheJobToTheSandboxRateWithoutFailingRows() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.rate = SandboxRate(parsing: "10/s")
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 30)
        var args = runArgs(sandbox, dir, [batch, "--concurrency", "16", "--max-attempts", "20"])
        args[args.firstIndex(of: "--rate")! + 1] = "100/s"
        let start = ContinuousClock.now
        let result = try await runCLI(args, environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let elapsed = start.duration(to: .now)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()

        #expect(result.status == 0, "\(result.stderr)")
        #expect(stats["depositRequests"] == .number("30"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        let limited = Int(stats["rateLimited"]?.numberText ?? "0") ?? 0
        #expect(limited > 0, "the sandbox must have pushed back")
        // 60 accepted requests at 10/s cannot take less than ~5 s (the first second's 10 are free).
        #expect(elapsed >= .milliseconds(4900), "\(elapsed)")
        let attempts = try Ledger(path: dir.path("ledger.sqlite")).attempts(runID: 1)
        #expect(attempts.filter { $0.httpStatus == 429 }.count == limited)
    }
}

/// When a night goes wrong the job says why and what to do, in one line each.
@Suite(.serialized) struct OperatorMessagesCLITests {
    @Test func retryOnANewLedgerExitsSixtyFourAndCreatesNothing() async throws {
        let dir = try TempDir()
        let path = dir.path("new.sqlite")
        let result = try await runCLI(["retry", "--db", path, "--api-url", "http://127.0.0.1:9"], environment: ["REBILLY_API_KEY": "k"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no run to retry in \(path): there is no ledger there"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: path + ".lock"))
    }

    @Test func aRefusedKeySaysSoOnceWithoutTheAccountingWarning() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5)
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": "not-the-key"])
        await sandbox.stop()
        #expect(result.status == 77)
        #expect(!result.stderr.contains("row accounting does not close"), "\(result.stderr)")
        #expect(!result.stderr.contains("HTTP 401: HTTP 401"), "\(result.stderr)")
        #expect(result.stderr.contains("credentials refused by the API (HTTP 401 Unauthorized"), "\(result.stderr)")
        #expect(result.stderr.contains("fix the API key"))
    }

    @Test func theLockSaysWhoHoldsItAndNoFinishedLineFollows() async throws {
        let dir = try TempDir()
        let lock = try RunLock(ledgerPath: dir.path("ledger.sqlite"))
        defer { lock.release() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 1)
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        #expect(result.status == 75)
        #expect(result.stderr.contains("another run holds the ledger lock") && result.stderr.contains("wait for it to finish; do not delete the lock"))
        #expect(!result.stderr.contains("run finished"), "\(result.stderr)")
    }

    @Test func aRefusedConnectionIsNamedPlainly() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 2)
        let result = try await runCLI(["run", "--api-url", "http://127.0.0.1:9", "--db", dir.path("ledger.sqlite"), "--max-attempts", "1",
                                       "--report-dir", dir.path("reports"), batch], environment: ["REBILLY_API_KEY": "k"])
        #expect(result.status == 69)
        let reasons = try Ledger(path: dir.path("ledger.sqlite")).rows(batchID: 1).map(\.reasonsJSON)
        #expect(reasons.allSatisfy { $0 == #"[{"field":"api","message":"connection error: connection refused by 127.0.0.1:9"}]"# }, "\(reasons)")
    }

    /// A night of `rows` rows whose every deposit POST answers 5xx, with a 2 s settle wait.
    func settlingNight(rows: Int) async throws -> CLIResult {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.failRate = 1
        config.faultOperations = ["PostDepositRequest"]
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: rows)
        var args = runArgs(sandbox, dir, [batch, "--max-attempts", "1"])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = "2"
        let result = try await runCLI(args, environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        return result
    }

    @Test func theSettleWaitIsSaidWhenItStarts() async throws {
        let result = try await settlingNight(rows: 1)
        #expect(result.stderr.contains("INFO waiting 2 s for 1 in-doubt deposit request to settle before checking it"), "\(result.stderr)")
    }

    /// The wait is said even when it began while another row was still running (the wake timer
    /// was armed before the last row parked).
    @Test func aWaitThatBeginsWhileRowsRunIsSaidToo() async throws {
        let result = try await settlingNight(rows: 2)
        let waits = result.stderr.split(separator: "\n").filter { $0.contains(" INFO waiting ") }
        // The first says both rows; a later one may say the row still waiting once the other was checked.
        #expect(waits.first?.contains(" s for 2 in-doubt deposit requests to settle before checking them") == true, "\(result.stderr)")
    }

    /// `--log-format json`: counts and codes are JSON numbers, flags booleans.
    @Test func jsonLogsCarryNumbers() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, "--log-format", "json"]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        #expect(result.status == 0)
        let lines = try result.stderr.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let finished = try #require(lines.first { $0["message"]?.stringValue == "run finished" })
        #expect(finished["exitCode"] == .number("0") && finished["done"] == .number("3") && finished["run"] == .number("1"))
        let staged = try #require(lines.first { $0["message"]?.stringValue == "batch staged" })
        #expect(staged["read"] == .number("3") && staged["valid"] == .number("3"))
    }
}

@Suite(.serialized) struct PauseMessageCLITests {
    /// A long 429 pause is said when it starts, with the server's retry instant.
    @Test func aLongPauseIsSaid() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.rate = SandboxRate(limit: 1, period: .seconds(6))
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 2)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, "--no-deposits"]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains("WARNING paused ") })
        #expect(line.contains(" s: Rebilly asked to retry after ") && line.hasSuffix("Z (HTTP 429)"), "\(line)")
    }
}
