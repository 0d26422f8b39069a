import Foundation
import Ledger
import Sandbox
import Testing

/// An input that never ends (`/dev/zero`, `yes |`, a FIFO or `<(…)` fed forever) is refused with
/// exit 65 on its own (not by the test's 60 s watchdog), and its temporary copy never grows past `--max-stream-bytes`.
///
/// Every command runs under `ulimit -f` set to the cap: a copy that grew one byte past it would
/// kill the command with SIGXFSZ (exit 153) instead of filling the disk, so the exit code 65 is
/// itself the proof that the disk held no more than the cap.
@Suite(.serialized) struct EndlessInputCLITests {
    static let cap = 8 << 20

    struct Timed {
        var result: CLIResult
        var elapsed: Duration
        /// The watchdog killed the session: the command did not end by itself.
        var killed: Bool
        var stderrLines: [String] { result.stderr.split(separator: "\n").map(String.init) }
    }

    /// Runs `script` with bash (`$BIN` is the executable, `"$@"` the arguments), every file it writes
    /// limited to `fileLimit` bytes, in a session of its own. The session is killed after 60 s, or
    /// 5 s after bash ended if something it started still holds its output (children inherit the
    /// test runner's blocked signals, so only SIGKILL reliably ends them).
    func shell(_ script: String, arguments: [String] = [], fileLimit: Int = cap, environment: [String: String] = [:],
               standardInput: Pipe? = nil) async throws -> Timed {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let sessionFile = FileManager.default.temporaryDirectory.appendingPathComponent("cb-session-\(UUID().uuidString)").path
                    defer { try? FileManager.default.removeItem(atPath: sessionFile) }
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
                    process.arguments = ["--wait", "/bin/bash", "-c",
                                         #"echo $$ > "$CB_SESSION_FILE"; ulimit -f \#(fileLimit / 1024) || exit 99; "# + script, "bash"] + arguments
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                        .merging(["BIN": try cliBinary().path, "CB_SESSION_FILE": sessionFile]) { $1 }
                    process.currentDirectoryURL = repoRoot
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    if let standardInput { process.standardInput = standardInput }
                    let clock = ContinuousClock()
                    let started = clock.now
                    try process.run()
                    nonisolated(unsafe) var outData = Data(), errData = Data()
                    let outReader = Thread { outData = out.fileHandleForReading.readDataToEndOfFile() }
                    let errReader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
                    outReader.start()
                    errReader.start()
                    let deadline = clock.now + .seconds(60)
                    var ended: ContinuousClock.Instant?
                    var killed = false
                    while !(outReader.isFinished && errReader.isFinished) {
                        if ended == nil, !process.isRunning { ended = clock.now }
                        if clock.now > deadline || ended.map({ clock.now - $0 > .seconds(5) }) == true {
                            if let text = try? String(contentsOfFile: sessionFile, encoding: .utf8),
                               let session = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                                kill(-session, SIGKILL)
                            }
                            kill(process.processIdentifier, SIGKILL)
                            killed = ended == nil
                            while !(outReader.isFinished && errReader.isFinished) { usleep(1000) }
                            break
                        }
                        usleep(1000)
                    }
                    process.waitUntilExit()
                    let elapsed = (ended ?? clock.now) - started
                    continuation.resume(returning: Timed(
                        result: CLIResult(status: process.terminationStatus,
                                          stdout: String(decoding: outData, as: UTF8.self),
                                          stderr: String(decoding: errData, as: UTF8.self)),
                        elapsed: elapsed, killed: killed))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// The refusal, as `validate` prints it for `path`.
    func refusal(_ path: String) -> String {
        "error: \(path): the stream goes on past 8 MiB, the cap on a pipe, FIFO or device (it is copied to "
    }

    /// Nothing of a stream's copy is left behind in `$TMPDIR`.
    func leftovers(_ dir: TempDir) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix("cashier-batch-input-") }
    }

    @Test func validateRefusesDevZeroAtTheCap() async throws {
        let dir = try TempDir()
        let run = try await shell(#"exec "$BIN" validate --max-stream-bytes 8MiB /dev/zero"#, environment: ["TMPDIR": dir.url.path])
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(!run.killed, "\(run.elapsed)")
        #expect(run.stderrLines == [
            refusal("/dev/zero") + "\(dir.url.path) as it is read): the batch is refused; raise the cap with --max-stream-bytes "
                + "(default 2 GiB) or give a regular file (last complete line: 0)",
        ])
        #expect(run.result.stdout.isEmpty)
        #expect(try leftovers(dir).isEmpty)
    }

    /// Without the option, the record limit stops `/dev/zero` (one record of NULs with no end) at 64 MiB.
    @Test func validateStopsDevZeroAtTheRecordLimitUnderTheDefaultCap() async throws {
        let dir = try TempDir()
        let run = try await shell(#"exec "$BIN" validate /dev/zero"#, fileLimit: 80 << 20, environment: ["TMPDIR": dir.url.path])
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(!run.killed, "\(run.elapsed)")
        #expect(run.stderrLines == ["error: /dev/zero: the record starting at line 1 is larger than 64 MiB (last complete line: 0)"])
    }

    /// A pipe of valid rows, a pipe of blank lines, a FIFO and a process substitution, each fed forever
    /// (the writers' own "Broken pipe" complaints are not the command's: they go to /dev/null).
    @Test(arguments: [
        ("pipe", #"awk 'BEGIN { print "websiteId,customerId,currency,balance"; for (i = 0; ; i++) print "web_1,cus_" i ",USD,1.00" }' 2>/dev/null | "$BIN" validate --max-stream-bytes 8MiB /dev/stdin"#),
        ("yes", #"yes '' 2>/dev/null | "$BIN" validate --max-stream-bytes 8MiB /dev/stdin"#),
        ("fifo", #"mkfifo "$TMPDIR/f" && { cat /dev/zero 2>/dev/null > "$TMPDIR/f" & "$BIN" validate --max-stream-bytes 8MiB "$TMPDIR/f"; rc=$?; kill -9 $! 2>/dev/null; exit $rc; }"#),
        ("substitution", #"exec "$BIN" validate --max-stream-bytes 8MiB <(cat /dev/zero 2>/dev/null)"#),
    ])
    func anEndlessStreamIsRefusedAtTheCap(_ kind: String, _ script: String) async throws {
        let dir = try TempDir()
        let run = try await shell(script, environment: ["TMPDIR": dir.url.path])
        #expect(run.result.status == 65, "\(kind): \(run.result.stderr)")
        #expect(!run.killed, "\(kind): \(run.elapsed)")
        #expect(run.stderrLines.count == 1, "\(kind): \(run.result.stderr)")
        #expect(run.result.stderr.hasPrefix("error: ") && run.result.stderr.contains(": the stream goes on past 8 MiB, the cap on a pipe, FIFO or device"),
                "\(kind): \(run.result.stderr)")
        #expect(run.result.stderr.contains("raise the cap with --max-stream-bytes"), "\(kind)")
        #expect(!run.result.stdout.contains("rows read"), "\(kind): no summary for a refused batch: \(run.result.stdout)")
        #expect(try leftovers(dir).isEmpty)
    }

    /// A thread writes valid rows forever into the command's standard input: the command takes
    /// no more than the cap (and what the pipe buffers) before it refuses the batch.
    @Test func anEndlessPipeOnStandardInputIsReadNoFurtherThanTheCap() async throws {
        signal(SIGPIPE, SIG_IGN)  // the writer learns of the reader's end by EPIPE
        let input = Pipe()
        let writeEnd = input.fileHandleForWriting.fileDescriptor
        nonisolated(unsafe) var written = 0
        let writer = Thread {
            var text = "websiteId,customerId,currency,balance\n"
            var row = 0
            while true {
                while text.utf8.count < 64 << 10 { text += "web_1,cus_\(row),USD,\(row % 1000).25\n"; row += 1 }
                let bytes = Array(text.utf8)
                text = ""
                var sent = 0
                while sent < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(writeEnd, $0.baseAddress! + sent, bytes.count - sent) }
                    if n < 0, errno == EINTR { continue }
                    if n < 0 { return }
                    sent += n
                    written += n
                }
            }
        }
        writer.start()
        let run = try await shell(#"exec "$BIN" validate --max-stream-bytes 8MiB /dev/stdin"#, standardInput: input)
        try? input.fileHandleForReading.close()  // the command has exited: no reader is left
        while !writer.isFinished { usleep(1000) }
        try? input.fileHandleForWriting.close()
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(!run.killed, "\(run.elapsed)")
        #expect(run.result.stderr.hasPrefix(refusal("/dev/stdin")), "\(run.result.stderr)")
        #expect(written >= Self.cap && written <= Self.cap + (1 << 20), "the pipe took \(written) bytes")
    }

    @Test func aPipedBatchUnderTheCapStillValidates() async throws {
        let gzipped = try await shell(#"cat SampleData/customers.jsonl.gz | "$BIN" validate --max-stream-bytes 8MiB /dev/stdin"#)
        #expect(gzipped.result.status == 0, "\(gzipped.result.stderr)")
        #expect(gzipped.result.stdoutLines.first == "/dev/stdin (jsonl+gzip): 30 rows read, 30 valid, 0 rejected")
        let csv = try await shell(#"exec "$BIN" validate --max-stream-bytes 8MiB <(cat SampleData/customers.csv)"#)
        #expect(csv.result.status == 0, "\(csv.result.stderr)")
        #expect(csv.result.stdout.contains(" (csv): 41 rows read, 41 valid, 0 rejected"), "\(csv.result.stdout)")
        // A batch larger than the cap is refused only when it is a stream: the same bytes as a file pass.
        let small = try await shell(#"exec "$BIN" validate --max-stream-bytes 1KiB <(cat SampleData/customers.csv) SampleData/customers.csv"#)
        #expect(small.result.status == 65, "\(small.result.stderr)")
        #expect(small.result.stderr.contains(": the stream goes on past 1 KiB"), "\(small.result.stderr)")
        #expect(small.result.stdout.contains("SampleData/customers.csv (csv): 41 rows read, 41 valid, 0 rejected"))
    }

    /// `validate --db` hashes the batch before staging it: a stream past the cap stages nothing.
    @Test func validateWithALedgerStagesNothingOfARefusedStream() async throws {
        let dir = try TempDir()
        let db = dir.path("ledger.sqlite")
        let run = try await shell(#"exec "$BIN" validate --db "$1" --max-stream-bytes 8MiB /dev/zero"#, arguments: [db])
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(run.result.stderr.contains(refusal("/dev/zero")), "\(run.result.stderr)")
        let ledger = try Ledger(path: db)
        let runs = try ledger.runs()
        #expect(runs.count == 1)
        #expect(try runs.allSatisfy { try ledger.batches(runID: $0.id).isEmpty })
    }

    @Test func runRefusesAnEndlessInputAndSendsNothing() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let run = try await shell(#"exec "$BIN" "$@" /dev/zero"#, arguments: runArgs(sandbox, dir, ["--max-stream-bytes", "8MiB"]),
                                  environment: ["REBILLY_API_KEY": sandbox.apiKey, "TMPDIR": dir.url.path])
        let piped = try await shell(#"yes '' | "$BIN" "$@" /dev/stdin"#, arguments: runArgs(sandbox, dir, ["--max-stream-bytes", "8MiB"]),
                                    environment: ["REBILLY_API_KEY": sandbox.apiKey, "TMPDIR": dir.url.path])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(run.result.stderr.contains(#"batch refused; nothing of it is sent (the reason says what to fix) file=/dev/zero reason="/dev/zero: the stream goes on past 8 MiB, the cap on a pipe, FIFO or device"#),
                "\(run.result.stderr)")
        #expect(run.result.stderr.contains("refusedBatches=1"))
        #expect(piped.result.status == 65, "\(piped.result.stderr)")
        #expect(piped.result.stderr.contains(#"reason="/dev/stdin: the stream goes on past 8 MiB"#), "\(piped.result.stderr)")
        #expect(stats["requestsTotal"] == .number("0"))
        #expect(try leftovers(dir).isEmpty)
    }

    /// `run` takes the cap from the job file and `CASHIER_BATCH_MAX_STREAM_BYTES` too; `retry` and
    /// `reconcile` read no batch, so the variable is not given to them.
    @Test func theJobFileAndTheEnvironmentSetTheCapOfRunOnly() async throws {
        let dir = try TempDir()
        let variable = ["CASHIER_BATCH_MAX_STREAM_BYTES": "8MiB"]
        let run = try await shell(#"exec "$BIN" run --dry-run --db "$1" --report-dir "$2" /dev/zero"#,
                                  arguments: [dir.path("ledger.sqlite"), dir.path("reports")], environment: variable)
        #expect(run.result.status == 65, "\(run.result.stderr)")
        #expect(run.result.stderr.contains(#"reason="/dev/zero: the stream goes on past 8 MiB"#), "\(run.result.stderr)")

        let job = try dir.write("job.yaml", "max-stream-bytes: 16MiB\nfiles:\n  - /dev/zero\n")
        let config = try await runCLI(["run", "--job", job, "--print-config"])
        #expect(config.status == 0, "\(config.stderr)")
        #expect(config.stdoutLines.contains("max-stream-bytes: 16MiB"), "\(config.stdout)")
        let overridden = try await runCLI(["run", "--job", job, "--print-config"], environment: variable)
        #expect(overridden.stdoutLines.contains("max-stream-bytes: 8MiB"), "\(overridden.stdout)")
        #expect(try await runCLI(["run", "--print-config", "/dev/zero"]).stdoutLines.contains("max-stream-bytes: 2GiB"))

        let reconcile = try await runCLI(["reconcile", "--db", dir.path("none.sqlite")], environment: variable)
        #expect(reconcile.status == 66, "no ledger, not a usage error: \(reconcile.stderr)")
        let retry = try await runCLI(["retry", "--dry-run", "--db", dir.path("none.sqlite")], environment: variable)
        #expect(!retry.stderr.contains("max-stream-bytes"), "\(retry.stderr)")
    }

    @Test func aCapThatIsNotASizeIsAUsageError() async throws {
        let result = try await runCLI(["validate", "--max-stream-bytes", "8MB", "SampleData/customers.csv"])
        #expect(result.status == 64)
        #expect(result.stderr.contains(#"--max-stream-bytes: "8MB" is not a size: give bytes, or a whole number of KiB, MiB, GiB or TiB (8MiB, 4GiB)"#),
                "\(result.stderr)")
        #expect(try await runCLI(["run", "--dry-run", "--max-stream-bytes", "0", "SampleData/customers.csv"]).status == 64)
    }
}
