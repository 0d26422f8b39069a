import Sandbox
import Foundation
import Testing
import CashierModel
import Ledger

@Suite struct ValidateCLITests {
    @Test func validSampleDataExitsZeroWithExactTotals() async throws {
        let result = try await runCLI(["validate", "SampleData/customers-with-control.csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines == [
            "SampleData/customers-with-control.csv (csv): 12 rows read, 12 valid, 0 rejected",
            "  BHD: 2 valid rows, balance 37818.059, bonusBalance 477.284, pendingPayoutTotal 4284.992",
            "  CAD: 1 valid rows, balance 16155.00, bonusBalance 337.00, pendingPayoutTotal 0.00",
            "  EUR: 2 valid rows, balance 16484.93, bonusBalance 470.99, pendingPayoutTotal 2227.58",
            "  JPY: 2 valid rows, balance 1427085, bonusBalance 0, pendingPayoutTotal 118075",
            "  USD: 5 valid rows, balance 48053.03, bonusBalance 319.88, pendingPayoutTotal 5044.94",
            "  control manifest SampleData/customers-with-control.csv.control.json: matched",
        ])
    }

    @Test func rejectionsArePrintedAsFileLineFieldReasonAndExitThree() async throws {
        let result = try await runCLI(["validate", "SampleData/bad-rows.csv"])
        #expect(result.status == 3)
        let lines = result.stdoutLines
        #expect(lines.contains("SampleData/bad-rows.csv:12: balance: \"10.001\" has 3 decimals but USD allows 2 (amounts are never rounded)"))
        #expect(lines.contains("SampleData/bad-rows.csv:13: balance: \"0.5\" has 1 decimal but JPY allows 0 (amounts are never rounded)"))
        #expect(lines.contains("SampleData/bad-rows.csv:7: currency: unknown currency code XYZ (not an active ISO 4217 code with a minor unit)"))
        #expect(lines.contains("SampleData/bad-rows.csv (csv): 29 rows read, 5 valid, 24 rejected"))
        #expect(lines.filter { $0.hasPrefix("SampleData/bad-rows.csv:") }.count == 24)
    }

    @Test func jsonModePrintsOneObjectPerRowWithExactMoney() async throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", "websiteId,customerId,currency,balance,deposit.amounts\nweb_1,cus_1,BHD,12.345,1.5;2\nweb_1,cus_2,USD,10.001,\n")
        let result = try await runCLI(["validate", "--json", path])
        #expect(result.status == 3)
        #expect(result.stdoutLines == [
            #"{"line":2,"valid":true,"errors":[],"cashier":{"websiteId":"web_1","customerId":"cus_1","currency":"BHD","balance":"12.345"},"depositRequest":{"websiteId":"web_1","customerId":"cus_1","currency":"BHD","amounts":["1.500","2.000"]}}"#,
            #"{"line":3,"valid":false,"errors":[{"field":"balance","message":"\"10.001\" has 3 decimals but USD allows 2 (amounts are never rounded)"}]}"#,
        ])
        #expect(result.stderr.hasPrefix("\(path) (csv): 2 rows read, 1 valid, 1 rejected"))
    }

    @Test func unusableFilesExitSixtyFiveOrSixtySixAndTheOthersStillRun() async throws {
        let dir = try TempDir()
        let truncated = dir.path("t.csv.gz")
        let original = try Data(contentsOf: repoRoot.appendingPathComponent("SampleData/customers.jsonl.gz"))
        try original.prefix(original.count - 30).write(to: URL(fileURLWithPath: truncated))
        let result = try await runCLI(["validate", truncated, "SampleData/customers.csv", dir.path("missing.csv")])
        #expect(result.status == 66, "a path that cannot be opened is 66, worse than an unusable file's 65")
        #expect(result.stderr.contains("error: \(truncated): gzip stream is truncated"))
        #expect(result.stderr.contains("error: cannot open batch \(dir.path("missing.csv")): No such file or directory; check the path"))
        let unusable = try await runCLI(["validate", truncated, "SampleData/customers.csv"])
        #expect(unusable.status == 65)
        #expect(result.stdout.contains("SampleData/customers.csv (csv): 41 rows read, 41 valid, 0 rejected"))
    }

    @Test func controlMismatchRefusesTheBatch() async throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", "websiteId,customerId,currency,balance\nweb_1,cus_1,USD,10.00\n")
        try dir.write("b.csv.control.json", #"{"rows":1,"totals":{"USD":{"balance":"10.01"}}}"#)
        let result = try await runCLI(["validate", path])
        #expect(result.status == 65)
        #expect(result.stdoutLines.suffix(2) == [
            "  control manifest \(path).control.json: MISMATCH — the batch is refused",
            "    USD balance: expected 10.01, found 10.00",
        ])
    }

    @Test func usageErrorsExitSixtyFour() async throws {
        #expect(try await runCLI(["validate"]).status == 64)
        #expect(try await runCLI(["validate", "--no-such-flag", "x.csv"]).status == 64)
    }

    @Test func dbStagesEveryRowOnceAndReusesTheBatch() async throws {
        let dir = try TempDir()
        let db = dir.path("ledger.sqlite")
        let first = try await runCLI(["validate", "--db", db, "SampleData/bad-rows.csv"])
        #expect(first.status == 3)
        let second = try await runCLI(["validate", "--db", db, "SampleData/bad-rows.csv"])
        #expect(second.status == 3)
        let ledger = try Ledger(path: db)
        let runs = try ledger.runs()
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.command == "validate" && $0.exitCode == 3 })
        let batches = try ledger.batches(runID: runs[0].id)
        #expect(batches.count == 1)
        #expect(try ledger.batches(runID: runs[1].id).map(\.id) == batches.map(\.id))
        let batch = try #require(batches.first)
        #expect(batch.rowCount == 29)
        #expect(batch.validCount == 5)
        #expect(batch.rejectedCount == 24)
        #expect(try ledger.countsByState(batchID: batch.id).filter { $0.value > 0 } == [.pending: 5, .rejected: 24])
        let rejected = try ledger.rows(batchID: batch.id, states: [.rejected])
        let line12 = try #require(rejected.first { $0.line == 12 })
        #expect(line12.reasonsJSON == #"[{"field":"balance","message":"\"10.001\" has 3 decimals but USD allows 2 (amounts are never rounded)"}]"#)
        let attributes = try FileManager.default.attributesOfItem(atPath: db)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}

/// Inputs that are not regular files: every input is read through a single open.
@Suite(.serialized) struct StreamInputCLITests {
    /// Runs `script` with bash (`$BIN` is the executable); its process group is killed after 30 s.
    func bash(_ script: String, environment: [String: String] = [:]) async throws -> CLIResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    // In a session of its own, so a timeout kills the whole group (a reader
                    // stuck on a FIFO too), and the test never hangs on a pipe it holds.
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
                    process.arguments = ["/bin/bash", "-c", script]
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                        .merging(["BIN": try cliBinary().path]) { $1 }
                    process.currentDirectoryURL = repoRoot
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    try process.run()
                    let deadline = Date().addingTimeInterval(30)
                    while process.isRunning && Date() < deadline { usleep(10_000) }
                    if process.isRunning { kill(-process.processIdentifier, SIGKILL) }
                    process.waitUntilExit()
                    let stdout = out.fileHandleForReading.readDataToEndOfFile()
                    let stderr = err.fileHandleForReading.readDataToEndOfFile()
                    continuation.resume(returning: CLIResult(status: process.terminationStatus,
                                                             stdout: String(decoding: stdout, as: UTF8.self),
                                                             stderr: String(decoding: stderr, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test func validateReadsAFifoAndAProcessSubstitution() async throws {
        let dir = try TempDir()
        let fifo = dir.path("batch.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let fromFifo = try await bash("cat SampleData/customers.csv > '\(fifo)' & \"$BIN\" validate '\(fifo)'; rc=$?; wait; exit $rc")
        #expect(fromFifo.status == 0, "\(fromFifo.stderr)")
        #expect(fromFifo.stdout.contains("\(fifo) (csv): 41 rows read, 41 valid, 0 rejected"), "\(fromFifo.stdout)")
        let gzipped = try await bash(#""$BIN" validate <(cat SampleData/customers.jsonl.gz)"#)
        #expect(gzipped.status == 0, "\(gzipped.stderr)")
        #expect(gzipped.stdout.contains("(jsonl+gzip): "), "\(gzipped.stdout)")
    }

    @Test func runSendsAProcessSubstitution() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 5)
        let result = try await bash(
            #""$BIN" run --api-url \#(sandbox.baseURL) --db '\#(dir.path("ledger.sqlite"))' --report-dir '\#(dir.path("reports"))' --rate 1000/s <(cat '\#(batch)')"#,
            environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(stats["depositRequests"] == .number("5"))
    }

    /// A mistyped input path exits 66 before the ledger or the reports are touched.
    @Test func aMistypedPathExitsSixtySixAndTouchesNothing() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, dir.path("nosuch.csv")]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(result.status == 66, "\(result.stderr)")
        #expect(result.stderr.contains("cannot open batch \(dir.path("nosuch.csv")): No such file or directory; check the path (nothing was sent, the ledger and the reports were not touched)"))
        #expect(stats["requestsTotal"] == .number("0"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("ledger.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: dir.path("reports")))
        let directory = try await runCLI(runArgs(sandbox, dir, [dir.url.path]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        #expect(directory.status == 66)
        #expect(directory.stderr.contains("cannot open batch \(dir.url.path): it is a directory"))
    }
}

/// A batch cannot write terminal control sequences or megabytes through an error message.
@Suite struct EchoedBytesCLITests {
    @Test func controlBytesInCellsAreEscapedInEveryMessage() async throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", "websiteId,customerId,currency,balance\nweb_1,cus_1,USD,\u{1B}[2J\u{07}12\u{0}\n")
        let result = try await runCLI(["validate", path])
        #expect(result.status == 3)
        #expect(!result.stdout.utf8.contains(0x1B) && !result.stdout.utf8.contains(0x07) && !result.stdout.utf8.contains(0x00), "\(result.stdout)")
        #expect(result.stdout.contains(#"\u{1B}[2J\u{7}12\u{0}"#), "\(result.stdout)")
    }

    @Test func aHugeHeaderLineIsNotEchoedWhole() async throws {
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("huge.csv")
        var header = Data("websiteId,customerId,currency,balance,".utf8)
        header.append(Data(repeating: UInt8(ascii: "z"), count: 50 << 20))
        header.append(Data(",\u{1B}]0;pwned\u{07}\nweb_1,cus_1,USD,1\n".utf8))
        try header.write(to: url)
        let result = try await runCLI(["validate", url.path])
        #expect(result.status == 65)
        #expect(result.stderr.utf8.count < 2_000, "\(result.stderr.utf8.count) bytes")
        #expect(result.stderr.contains("unknown columns \"zzzz"), "\(result.stderr.prefix(500))")
        #expect(result.stderr.contains("…"))
        #expect(!result.stderr.utf8.contains(0x1B) && !result.stderr.utf8.contains(0x07))
    }
}
