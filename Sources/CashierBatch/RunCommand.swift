import ArgumentParser
import BatchRun
import Ledger
import RebillyClient
import Reconciliation
import Reports
import Throttle

/// `cashier-batch run FILE…`: the nightly job — read, validate, stage, send, record.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The nightly job: read and validate batches, create cashiers and deposit requests, record every row.",
        discussion: """
            Re-running the same file sends nothing that already succeeded; a run killed at any \
            moment completes on the next run with every row sent exactly once. Exit codes: 0 clean, \
            3 rows rejected or failed, 4 reconciliation breaks, 64 usage, 65 bad batch, 69 API unavailable, 75 ledger locked by another run, \
            77 credentials refused, 130/143 interrupted.
            """
    )

    @Argument(help: "Batch files: CSV or JSON Lines, plain or gzip-compressed.")
    var files: [String]

    @OptionGroup var options: SendingOptions

    @Option(help: "A job file (Jobs/nightly.yaml): every option of run by the same name, plus `files:` (paths or globs). Precedence: flags > CASHIER_BATCH_* environment > job file > defaults.")
    var job: String?

    @Flag(help: "Send a batch even though most of its rows repeat rows done within the last 24 hours (the same export saved again is refused with 65 otherwise). Command line only.")
    var allowRepeat = false

    @Flag(help: "Print the effective configuration (job file, environment and flags merged; the API key redacted) and exit.")
    var printConfig = false

    func validate() throws {
        if files.isEmpty && !printConfig { throw ValidationError("give at least one batch file (or `files:` in the job file)") }
    }

    func run() async throws {
        if printConfig {
            print(options.configurationText(files: files))
            return
        }
        var settings = RunSettings(ledgerPath: options.db, command: "run", optionsJSON: options.optionsJSON(command: "run", files: files),
                                   policy: options.policy, dryRun: options.dryRun, shard: options.parsedShard)
        settings.allowRepeat = allowRepeat
        try await SendingSession(options: options).perform(settings: settings) { nightly, api, gate, progress in
            try await nightly.run(files: files, api: api, gate: gate, onPlan: progress.plan, onRow: progress.row)
        }
    }
}

/// `cashier-batch retry [--run ID]`: re-send the failed, in-doubt and unfinished rows of a run.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-send the failed and in-doubt rows of a run (default: the last one); in-doubt rows are verified first."
    )

    @Option(help: "The run whose rows to re-send (see `runs`); default the last run.")
    var run: Int64?

    @OptionGroup var options: SendingOptions

    func run() async throws {
        let settings = RunSettings(ledgerPath: options.db, command: "retry", optionsJSON: options.optionsJSON(command: "retry"),
                                   policy: options.policy, dryRun: options.dryRun)
        let target = run
        try await SendingSession(options: options).perform(settings: settings) { nightly, api, gate, progress in
            try await nightly.retry(runID: target, api: api, gate: gate, onPlan: progress.plan, onRow: progress.row)
        }
    }
}

/// The wiring shared by `run` and `retry`: key, client, limiter, signals, progress, exit code.
struct SendingSession {
    let options: SendingOptions
    /// The key to send; nil loads it from `--api-key-file` or `REBILLY_API_KEY` (the `demo`
    /// command passes the in-process sandbox's key here).
    var apiKey: APIKey? = nil

    /// Writes every report of the run to `--report-dir` (not for a dry run, which must not
    /// replace the night's reports). False when they could not be written (logged).
    func writeReports(_ result: RunResult, log: RunLog) -> Bool {
        guard let runID = result.runID, !options.dryRun, result.verdict != .ledgerUnusable else { return true }
        guard let ledger = try? Ledger(path: options.db) else { return false }
        return writeRunReports(ledger: ledger, runID: runID, reconciliation: result.reconciliation, directory: options.reportDir, log: log)
    }

    func perform(settings: RunSettings,
                 _ body: (NightlyRun, any CashierAPI, any RequestGate, ProgressTracker) async throws -> RunResult) async throws {
        let log = RunLog(format: options.logFormat)
        try await withHealthPing(options.healthPing, command: settings.command, log: log) { summary in
            try await perform(settings: settings, log: log, summary: &summary, body)
        }
    }

    private func perform(settings: RunSettings, log: RunLog, summary: inout String,
                         _ body: (NightlyRun, any CashierAPI, any RequestGate, ProgressTracker) async throws -> RunResult) async throws {
        let key: APIKey
        if let apiKey {
            key = apiKey
        } else if options.dryRun {
            key = try APIKey("dry-run-sends-nothing")
        } else {
            do { key = try APIKey.load(file: options.apiKeyFile) } catch {
                log(RunEvent(.error, error.description))
                throw ExitStatus.usage.exitCode
            }
        }
        let configuration = try RebillyConfiguration(baseURL: options.apiUrl, organizationId: options.organizationId, apiKey: key,
                                                     maxConnections: options.concurrency)
        let client = RebillyClient(configuration: configuration)
        let limiter = RateLimiter(try options.effectiveRate.withJitterMargin(), burst: options.burst, recoverySuccesses: 20,
                                  decreaseFactor: ThrottleGate.decreaseFactor)
        let control = RunControl()
        let signals = SignalTrap(control: control, log: log)
        let progress = ProgressTracker(log: log)
        let gate = CountingGate(inner: ThrottleGate(limiter: limiter), progress: progress)
        let reporter = Task { await progress.report() }
        let nightly = NightlyRun(settings: settings, control: control, log: { log($0) })
        let result: RunResult
        do {
            result = try await body(nightly, RebillyCashierAPI(client: client), gate, progress)
        } catch {
            reporter.cancel()
            signals.cancel()
            try? await client.shutdown()
            log(RunEvent(.error, "internal error: \(error)"))
            throw ExitStatus.internalError.exitCode
        }
        reporter.cancel()
        _ = await reporter.value
        signals.cancel()
        try? await client.shutdown()
        let t = result.tally
        log(RunEvent(result.verdict == .clean ? .info : .warning, "run finished", [
            ("run", result.runID.map(String.init) ?? "-"), ("exitCode", "\(result.verdict.rawValue)"),
            ("done", "\(t.done)"), ("invalid", "\(result.invalidRows)"), ("rejected", "\(t.rejected)"), ("failed", "\(t.failed)"),
            ("inDoubt", "\(t.inDoubt)"), ("notTaken", "\(t.stopped)"), ("refusedBatches", "\(result.refusedBatches)"),
        ]))
        summary = "run \(result.runID.map(String.init) ?? "-"): done \(t.done), invalid \(result.invalidRows), rejected by the API \(t.rejected), failed \(t.failed), "
            + "in doubt \(t.inDoubt), not taken \(t.stopped), refused batches \(result.refusedBatches)"
        var exit = ExitStatus(rawValue: result.verdict.rawValue) ?? .internalError
        if !writeReports(result, log: log), let runID = result.runID {
            exit = max(exit, .ioError)
            recordExitCode(exit, runID: runID)
        }
        if case let .credentialsRefused(why)? = result.stopReason {
            log(RunEvent(.error, "credentials refused by the API; the run stopped before sending more rows", [("answer", why)]))
        }
        if exit != .clean { throw exit.exitCode }
    }
}

/// Writes every report of `runID` to `directory` (`run`, `retry`, `reconcile`). Reports that
/// cannot be written are logged in one line saying where they should have gone and how to
/// write them again; the caller then exits 74 (the night's work itself is in the ledger).
func writeRunReports(ledger: Ledger, runID: Int64, reconciliation: ReconciliationReport?, directory: String, log: RunLog,
                     fields: [(String, String)] = []) -> Bool {
    do {
        let data = try ReportBuilder(ledger: ledger).build(runID: runID, reconciliation: reconciliation)
        let files = try ReportWriter(directory: directory).write(data)
        log(RunEvent(.info, "reports written", [("dir", directory), ("files", "\(files.count)")] + fields))
        return true
    } catch {
        let why: String
        switch error {
        case let ReportError.write(path, reason): why = "\(path): \(reason)"
        default: why = "\(error)"
        }
        log(RunEvent(.error, "the reports could not be written to \(directory) (\(why)); the run is recorded in the ledger: "
            + "make \(directory) a writable directory, then `cashier-batch report --db \(ledger.path) --run \(runID) --out \(directory)` writes them"))
        return false
    }
}

extension SendingSession {
    /// A run's exit code changed after its end (its reports failed): the ledger says so too.
    func recordExitCode(_ exit: ExitStatus, runID: Int64) {
        guard let ledger = try? Ledger(path: options.db), let run = try? ledger.run(id: runID) else { return }
        try? ledger.finishRun(id: runID, status: run.status, exitCode: exit.rawValue)
    }
}
