import BatchRun
import Foundation
import GRDB
@testable import Ledger
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

/// Ledgers that cannot be used: damaged, not a ledger, newer, unwritable.
@Suite(.serialized) struct LedgerRefusalCLITests {
    /// A ledger with a damaged page: the sending commands check it first, send nothing, leave the
    /// file as it is and say how to recover it.
    @Test func aDamagedLedgerIsCheckedFirstAndNothingIsSent() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let first = try writeBatch(dir, name: "night1.csv", count: 60)
        let night1 = try await runCLI(runArgs(sandbox, dir, [first]), environment: env)
        #expect(night1.status == 0, "\(night1.stderr)")
        let path = dir.path("ledger.sqlite")
        // 600 bytes over the b-tree page nearest the middle of the file, from its header on:
        // quick_check sees structural damage (a byte changed inside a value it cannot see).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let pageSize = 4096
        let pages = bytes.count / pageSize
        let btree: Set<UInt8> = [0x02, 0x05, 0x0A, 0x0D]
        let middle = pages / 2
        let candidates: [Int] = (1..<pages).sorted { (a: Int, b: Int) -> Bool in abs(a - middle) < abs(b - middle) }
        let found: Int? = candidates.first { (p: Int) -> Bool in btree.contains(bytes[p * pageSize]) }
        let page = try #require(found)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(page * pageSize))
        handle.write(Data((0..<600).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        try handle.close()
        let damaged = try fileState(path)
        let before = try await sandboxStats(sandbox)["requestsTotal"]

        let second = try writeBatch(dir, name: "night2.csv", count: 60, prefix: "cus2_")
        let night2 = try await runCLI(runArgs(sandbox, dir, [second]), environment: env)
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", path], environment: env)
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", path], environment: env)
        let after = try await sandboxStats(sandbox)["requestsTotal"]
        await sandbox.stop()
        for result in [night2, retry, reconcile] {
            #expect(result.status == 74, "\(result.stderr)")
            // quick_check's own words, or SQLite's when the damage is met reading the schema first.
            #expect(result.stderr.contains("the ledger \(path) is damaged (quick_check: ")
                    || result.stderr.contains("the ledger \(path) is damaged (SQLite error 11: "), "\(result.stderr)")
            #expect(result.stderr.contains("nothing was sent and the file was left untouched. Recover it with `sqlite3 \(path) .recover | sqlite3 recovered.sqlite`"))
        }
        #expect(after == before, "nothing was sent")
        let now = try fileState(path)
        #expect(now.bytes == damaged.bytes && now.mode == damaged.mode, "the damaged file is untouched")
    }

    /// Another program's SQLite file given as --db: refused by every command, not a byte written.
    @Test func anotherProgramsDatabaseIsRefusedUntouched() async throws {
        let dir = try TempDir()
        let other = dir.path("other.db")
        try makeForeignDatabase(other)
        chmod(other, 0o644)
        let original = try fileState(other)
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 3)
        let runs = try await runCLI(["runs", "--db", other])
        let report = try await runCLI(["report", "--db", other, "--out", dir.path("r")])
        let run = try await runCLI(["run", "--api-url", sandbox.baseURL, "--db", other, batch], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let validate = try await runCLI(["validate", "--db", other, batch])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        for result in [runs, report, run, validate] {
            #expect(result.status == 74, "\(result.stderr)")
            #expect(result.stderr.contains("\(other) is not a cashier-batch ledger (an SQLite database with tables notes, people); nothing was written to it"),
                    "\(result.stderr)")
        }
        #expect(stats["requestsTotal"] == .number("0"))
        let now = try fileState(other)
        #expect(now.bytes == original.bytes && now.mode == 0o644)
        #expect(!FileManager.default.fileExists(atPath: other + "-wal") && !FileManager.default.fileExists(atPath: other + "-shm"))

        let text = try dir.write("notes.txt", "not a database at all, but long enough to have a header of one hundred bytes .......................\n")
        let notSQLite = try await runCLI(["runs", "--db", text])
        #expect(notSQLite.status == 74)
        #expect(notSQLite.stderr.contains("\(text) is not a cashier-batch ledger (not an SQLite database)"))
    }

    /// A ledger from a newer cashier-batch: refused, not upgraded, not written.
    @Test func aLedgerOfANewerVersionIsRefused() async throws {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")
        let batch = try writeBatch(dir, count: 2)
        let staged = try await runCLI(["validate", "--db", path, batch])
        #expect(staged.status == 0)
        try setUserVersion(path, 99)
        let original = try fileState(path)
        for arguments in [["runs", "--db", path], ["validate", "--db", path, batch], ["report", "--db", path, "--out", dir.path("r")]] {
            let result = try await runCLI(arguments)
            #expect(result.status == 74, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("the ledger \(path) was written by a newer cashier-batch (schema 99; this one knows 15); nothing was written to it"),
                    "\(result.stderr)")
        }
        #expect(try fileState(path).bytes == original.bytes)
    }

    /// `runs` and `report` read a ledger the user may only read; a writing command says which
    /// file to fix, and once fixed the ledger works again (no 0400 companion left behind).
    @Test func aReadOnlyLedgerIsReadAndNamedWhenItMustBeWritten() async throws {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")
        let batch = try writeBatch(dir, count: 2)
        chownToNobody(dir.url.path)
        let staged = try await runCLIAsNobody(["validate", "--db", path, batch])
        #expect(staged.status == 0, "\(staged.stderr)")
        chmod(path, 0o400)
        let runs = try await runCLIAsNobody(["runs", "--db", path])
        #expect(runs.status == 0, "\(runs.stderr)")
        #expect(runs.stdoutLines.count == 2 && runs.stdoutLines[1].contains("validate"))
        let report = try await runCLIAsNobody(["report", "--db", path, "--out", dir.path("r")])
        #expect(report.status == 0, "\(report.stderr)")
        let validate = try await runCLIAsNobody(["validate", "--db", path, batch])
        #expect(validate.status == 74)
        #expect(validate.stderr.contains("error: the ledger \(path) cannot be written by this user (\(path): Permission denied): make it and its -wal/-shm files writable (chmod 600 \(path)*"),
                "\(validate.stderr)")
        chmod(path, 0o600)
        let again = try await runCLIAsNobody(["validate", "--db", path, batch])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test func aLedgerPathThatIsADirectoryOrMissingSaysSo() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 1)
        let asDirectory = try await runCLI(["validate", "--db", dir.url.path, batch])
        #expect(asDirectory.status == 74)
        #expect(asDirectory.stderr.contains("--db \(dir.url.path) is a directory: give the ledger's file path, e.g. \(dir.url.path)/cashier-batch.sqlite"))
        let missing = try await runCLI(["runs", "--db", dir.path("nosuch.sqlite")])
        #expect(missing.status == 66)
        #expect(missing.stderr == "error: no ledger at \(dir.path("nosuch.sqlite")): give --db the ledger file of the runs\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("nosuch.sqlite")))
        let locked = try TempDir()
        chownToNobody(locked.url.path)
        chmod(locked.url.path, 0o500)
        let unwritable = try await runCLIAsNobody(["validate", "--db", locked.path("ledger.sqlite"), batch])
        #expect(unwritable.status == 74)
        #expect(unwritable.stderr.contains("the ledger \(locked.path("ledger.sqlite")) cannot be written by this user (directory \(locked.url.path): Permission denied)"),
                "\(unwritable.stderr)")
        chmod(locked.url.path, 0o700)
    }
}

/// An SQLite file of some other program: two tables, a few rows.
func makeForeignDatabase(_ path: String) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
        try db.execute(sql: "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        try db.execute(sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        try db.execute(sql: "INSERT INTO people (name) VALUES ('Ada'), ('Grace')")
    }
    try queue.close()
}

/// Writes `PRAGMA user_version` as a newer cashier-batch would.
func setUserVersion(_ path: String, _ version: Int) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { try $0.execute(sql: "PRAGMA user_version = \(version)") }
    try queue.close()
}

/// Reports that cannot be written end the command with 74 after the night is recorded.
@Suite(.serialized) struct ReportFailureCLITests {
    @Test func aReportDirThatIsAFileExitsSeventyFourAfterRecordingTheNight() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5)
        let blocker = try dir.write("reports", "a file where the report directory should be\n")
        let result = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("the reports could not be written to \(blocker) (\(blocker): not a directory); the run is recorded in the ledger: "
            + "make \(blocker) a writable directory, then `cashier-batch report --db \(dir.path("ledger.sqlite")) --run 1 --out \(blocker)` writes them"),
                "\(result.stderr)")
        #expect(stats["depositRequests"] == .number("5"))
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let run = try #require(try ledger.run(id: 1))
        #expect(run.exitCode == 74 && run.status == .finished)
        #expect(try ledger.countsByState(batchID: 1)[.done] == 5)
        let report = try await runCLI(["report", "--db", dir.path("ledger.sqlite"), "--out", blocker])
        #expect(report.status == 74)
    }

    @Test func anUnwritableReportDirExitsSeventyFour() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let reports = dir.path("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        chownToNobody(dir.url.path)
        chmod(reports, 0o500)
        let result = try await runCLIAsNobody(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        chmod(reports, 0o700)
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("the reports could not be written to \(reports) ("), "\(result.stderr)")
        #expect(result.stderr.contains("Permission denied); the run is recorded in the ledger"), "\(result.stderr)")
    }

    @Test(.enabled(if: DiskFault.available.contains(.tmpfs)))
    func aFullReportDiskExitsSeventyFour() async throws {
        let dir = try TempDir()
        let disk = try DiskFault(in: dir, megabytes: 1, kind: .tmpfs)
        try #require(disk.kind == .tmpfs)
        try disk.strike(pid: 0)
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 40)
        var arguments = runArgs(sandbox, dir, [batch])
        arguments[arguments.firstIndex(of: "--report-dir")! + 1] = disk.directory + "/reports"
        let result = try await runCLI(arguments, environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("No space left on device); the run is recorded in the ledger"), "\(result.stderr)")
    }

    /// A planted `metrics.prom` link to a file claiming a success far in the future is not read:
    /// the staleness alert still sees the real last success.
    @Test func aPreviousMetricsFileIsNeverReadThroughALink() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let planted = try dir.write("planted.prom", "cashier_batch_last_success_timestamp_seconds 99999999999\n")
        try FileManager.default.createDirectory(atPath: dir.path("reports"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.path("reports/metrics.prom"), withDestinationPath: planted)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, "--max-attempts", "1"]), environment: ["REBILLY_API_KEY": "wrong-key"])
        await sandbox.stop()
        #expect(result.status == 77)
        let metrics = try String(contentsOfFile: dir.path("reports/metrics.prom"), encoding: .utf8)
        #expect(metrics.contains("\ncashier_batch_last_success_timestamp_seconds 0.000\n"), "\(metrics)")
        #expect(try String(contentsOfFile: planted, encoding: .utf8) == "cashier_batch_last_success_timestamp_seconds 99999999999\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path("reports/metrics.prom"))
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
    }
}

/// The same night's export saved again (CRLF line endings: a new SHA-256, the same rows).
/// These nights send the same customers twice, so their cashiers already hold the batch's
/// figures at Rebilly (a create sets none); else the second night would be drift against the
/// zeros of the cashiers the first one made, which is not what is tested.
@Suite(.serialized) struct RepeatedExportCLITests {
    @Test func theSameExportSavedAgainIsRefusedUnlessAllowed() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, name: "night.csv", count: 60)
        let sandbox = try await TodaysRebillyCLITests.sandbox(holding: [batch])
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let first = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        let text = try String(contentsOfFile: batch, encoding: .utf8)
        let resaved = try dir.write("night-crlf.csv", text.replacingOccurrences(of: "\n", with: "\r\n"))
        let refused = try await runCLI(runArgs(sandbox, dir, [resaved]), environment: env)
        let afterRefusal = try await sandboxStats(sandbox)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("batch refused; nothing of it is sent (the reason says what to fix) file=\(resaved) reason=\"60 of its 60 rows repeat rows that batch 1 (\(batch), sent by run 1) sent within the last 24 hours, with the same customer, website, currency, figures and deposit request: the same export saved again? Give --allow-repeat to send it anyway\""),
                "\(refused.stderr)")
        #expect(afterRefusal["depositRequests"] == .number("60"))
        // A later run without the flag refuses it again: the refusal is not forgotten once staged.
        let again = try await runCLI(runArgs(sandbox, dir, [resaved]), environment: env)
        #expect(again.status == 65)
        let allowed = try await runCLI(runArgs(sandbox, dir, [resaved, "--allow-repeat"]), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stderr.contains("sending a repeat on purpose (--allow-repeat)"))
        #expect(stats["depositRequests"] == .number("120"))
    }

    /// Rows done more than 24 hours ago, or a batch where only a few rows repeat, are no repeat.
    @Test func oldRowsAndAFewRepeatsAreNotARepeat() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, name: "night.csv", count: 10)
        // Tomorrow's export: 4 of the same customers with the same deposit request, 6 new ones.
        var tomorrow = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
        for i in 0..<4 { tomorrow += "web_1,cus_\(i),USD,\(i).25,1.50,10;20\n" }
        for i in 0..<6 { tomorrow += "web_1,new_\(i),USD,1.00,0,10;20\n" }
        let next = try dir.write("tomorrow.csv", tomorrow)
        let sandbox = try await TodaysRebillyCLITests.sandbox(holding: [batch, next])
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        #expect(try await runCLI(runArgs(sandbox, dir, [batch]), environment: env).status == 0)
        let nextRun = try await runCLI(runArgs(sandbox, dir, [next]), environment: env)
        #expect(nextRun.status == 0, "\(nextRun.stderr)")
        // Yesterday's rows, aged past the window: the re-saved export goes through.
        try ageDoneRows(dir.path("ledger.sqlite"), hours: 25)
        let text = try String(contentsOfFile: batch, encoding: .utf8)
        let resaved = try dir.write("night-crlf.csv", text.replacingOccurrences(of: "\n", with: "\r\n"))
        let late = try await runCLI(runArgs(sandbox, dir, [resaved]), environment: env)
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(late.status == 0, "\(late.stderr)")
        #expect(stats["depositRequests"] == .number("30"))
    }
}

/// Moves every done row's `updated_at` back by `hours`, as if the night were that old.
func ageDoneRows(_ path: String, hours: Int) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { try $0.execute(sql: "UPDATE rows SET updated_at = strftime('%Y-%m-%d %H:%M:%f', updated_at, '-\(hours) hours') WHERE state = 'done'") }
    try queue.close()
}
