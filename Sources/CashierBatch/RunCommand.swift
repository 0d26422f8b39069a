import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Gateway
import Ledger
import RebillyClient
import Reconciliation
import Reports

/// `cashier-batch run FILE…`: the nightly job — read, validate, stage, send, record.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The nightly job: read and validate batches, create cashiers and deposit requests, record every row.",
        discussion: """
            Re-running the same file sends nothing that already succeeded; a run killed at any \
            moment completes on the next run with every row sent exactly once. Exit codes: 0 clean, \
            3 rows rejected, failed or needing review, 4 reconciliation breaks, 5 stopped at the window's end (--until; rows left for retry), 64 usage, 65 bad batch, 66 an input cannot be opened, \
            69 API unavailable, 70 internal error, 74 the ledger or the reports cannot be used, 75 ledger locked by another run, \
            77 credentials refused, 130/143 interrupted.
            """
    )

    @Argument(help: "Batch files: CSV or JSON Lines, plain or gzip-compressed (a pipe or <(…) works too).")
    var files: [String]

    @OptionGroup var options: CommandOptions
    @OptionGroup var sending: SendingOptions
    @OptionGroup var stream: StreamCapOption

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
            let lines = ["files:"] + files.map { "  - \($0)" } + options.configurationLines + sending.configurationLines
                + ["max-stream-bytes: \(stream.maxStreamBytes)", "# api key: <redacted> (\(options.keySource))"]
            Terminal.out(lines.joined(separator: "\n"))
            return
        }
        let json = optionsJSON(command: "run", files: files) {
            options.writeJSON(into: &$0)
            sending.writeJSON(into: &$0)
            if stream.cap != .default { $0.int("maxStreamBytes", Int(stream.cap.bytes)) }
        }
        let files = self.files, allowRepeat = self.allowRepeat, cap = stream.cap
        try await sending.performNight(command: "run", options: options, optionsJSON: json, shard: options.parsedShard, configure: {
            $0.allowRepeat = allowRepeat
            $0.streamCap = cap
        }) { night, gateway, progress in
            try await night.run(files: files, gateway: gateway, onPlan: progress.plan, onRow: progress.row,
                                onWait: { progress.waiting(seconds: $0, rows: $1) })
        }
    }
}

/// `cashier-batch retry [--run ID]`: re-send the failed, in-doubt and unfinished rows of a run.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-send the failed and in-doubt rows of a run (default: the last run or retry); in-doubt rows are verified first."
    )

    @Option(help: "The run whose rows to re-send (see `runs`); default the last run or retry.")
    var run: Int64?

    @OptionGroup var options: CommandOptions
    @OptionGroup var sending: SendingOptions

    func run() async throws {
        let json = optionsJSON(command: "retry") { options.writeJSON(into: &$0); sending.writeJSON(into: &$0) }
        let target = run
        try await sending.performNight(command: "retry", options: options, optionsJSON: json) { night, gateway, progress in
            try await night.retry(runID: target, gateway: gateway, onPlan: progress.plan, onRow: progress.row,
                                  onWait: { progress.waiting(seconds: $0, rows: $1) })
        }
    }
}

extension SendingOptions {
    /// The one wiring of `run` and `retry`: the night's settings from these options, then its sending
    /// pass (`pass`) inside ``CommandWiring`` (key, gateway, signals, progress, reports, exit code).
    func performNight(command: String, options: CommandOptions, optionsJSON json: String, shard: Shard? = nil,
                      configure: (inout RunSettings) -> Void = { _ in },
                      _ pass: @escaping (NightlyRun, RebillyGateway, ProgressTracker) async throws -> RunResult) async throws {
        var settings = RunSettings(ledgerPath: options.db, command: command, optionsJSON: json,
                                   policy: policy(concurrency: options.concurrency), dryRun: dryRun, shard: shard)
        configure(&settings)
        let night = settings
        try await CommandWiring(options: options, inDoubtSettleSeconds: inDoubtSettle, dryRun: dryRun)
            .perform(command: command) { gateway, progress, log in
                CommandOutcome(try await pass(NightlyRun(settings: night, log: { log($0) }), gateway, progress))
            }
    }
}

/// What a command that talks to Rebilly tells the wiring when it is done.
struct CommandOutcome {
    /// The command's own run in the ledger (nil when it never began).
    var runID: Int64?
    var verdict: RunVerdict
    /// The run whose reports are written (`run`/`retry`: their own; `reconcile`: the one reconciled).
    var reportRunID: Int64?
    /// The fields of the closing `… finished` log line.
    var fields: [(String, LogValue)]
    /// The monitoring ping's summary line.
    var summary: String
    /// The forecast logged when sending began (`run`, `retry`), for the reports.
    var forecast: Forecast?

    init(runID: Int64?, verdict: RunVerdict, reportRunID: Int64?, fields: [(String, LogValue)], summary: String) {
        self.runID = runID
        self.verdict = verdict
        self.reportRunID = reportRunID
        self.fields = fields
        self.summary = summary
    }

    /// A `run` or `retry`.
    init(_ result: RunResult) {
        let t = result.tally
        let run = result.runID.map(String.init) ?? "-"
        self.init(
            runID: result.runID, verdict: result.verdict, reportRunID: result.runID,
            fields: [("run", .int(result.runID ?? 0)), ("exitCode", .int(result.verdict.rawValue)),
                     ("done", .int(t.done)), ("invalid", .int(result.invalidRows)), ("rejected", .int(t.rejected)), ("failed", .int(t.failed)),
                     ("inDoubt", .int(t.inDoubt)), ("needsReview", .int(t.needsReview)), ("notTaken", .int(t.unfinished)),
                     ("refusedBatches", .int(result.refusedBatches)), ("cashierKnown", .int(t.cashierKnown))],
            summary: "run \(run): done \(t.done), invalid \(result.invalidRows), rejected by the API \(t.rejected), failed \(t.failed), "
                + "in doubt \(t.inDoubt), \(t.needsReview > 0 ? "needs review \(t.needsReview) (see cashier-batch resolve), " : "")"
                + "not taken \(t.unfinished), refused batches \(result.refusedBatches)"
                + (result.leftForRetry.map { "; stopped at the window's end: \($0) rows left for retry" } ?? ""))
        forecast = result.forecast
    }
}

/// The one wiring of every command that talks to Rebilly (`run`, `retry`, `reconcile`, and
/// `demo` through `run`): the key, the gateway, signals, progress, the monitoring pings, the
/// closing log line, the reports and the exit code. The ledger's side (lock, run record,
/// recovery) is ``CommandSession``, inside the command's body.
struct CommandWiring {
    let options: CommandOptions
    var inDoubtSettleSeconds: Double = 60
    var dryRun = false
    /// The key to send; nil loads it from `--api-key-file` or `REBILLY_API_KEY` (the `demo`
    /// command passes the in-process sandbox's key here).
    var apiKey: APIKey? = nil

    func perform(command: String,
                 _ body: (RebillyGateway, ProgressTracker, RunLog) async throws -> CommandOutcome) async throws {
        let log = RunLog(format: options.logFormat)
        try await withHealthPing(options.healthPing, command: command, log: log) { summary in
            try await perform(command: command, log: log, summary: &summary, body)
        }
    }

    private func perform(command: String, log: RunLog, summary: inout String,
                         _ body: (RebillyGateway, ProgressTracker, RunLog) async throws -> CommandOutcome) async throws {
        let key: APIKey
        if let apiKey {
            key = apiKey
        } else if dryRun {
            key = try APIKey("dry-run-sends-nothing")
        } else {
            do { key = try APIKey.load(file: options.apiKeyFile) } catch {
                log(RunEvent(.error, error.description))
                throw RunVerdict.usage.exitCode
            }
        }
        let control = RunControl()
        let progress = ProgressTracker(log: log)
        let gateway = try options.gateway(command: command, key: key, inDoubtSettleSeconds: inDoubtSettleSeconds, control: control) { event in
            progress.gateway(event)
        }
        let signals = SignalTrap(control: control, log: log)
        let reporter = Task { await progress.report() }
        let outcome: CommandOutcome
        do {
            outcome = try await body(gateway, progress, log)
        } catch {
            reporter.cancel()
            signals.cancel()
            await gateway.shutdown()
            log(RunEvent(.error, "internal error (\(error)): please report it with this log; the ledger is consistent and `retry` resumes the night"))
            throw RunVerdict.internalError.exitCode
        }
        reporter.cancel()
        _ = await reporter.value
        signals.cancel()
        await gateway.shutdown()
        if outcome.runID != nil {
            log(RunEvent(outcome.verdict == .clean ? .info : .warning, "\(command) finished", outcome.fields))
        }
        summary = outcome.summary
        var exit = outcome.verdict
        if let runID = outcome.reportRunID, !dryRun, outcome.verdict != .ledgerUnusable, outcome.verdict != .locked {
            if !writeRunReports(ledgerPath: options.db, runID: runID, directory: options.reportDir, log: log,
                                forecast: outcome.runID == runID ? outcome.forecast : nil) {
                exit = max(exit, .ledgerUnusable)
                if let own = outcome.runID { recordExitCode(exit, runID: own) }
            }
        }
        if case let .credentialsRefused(why)? = control.stopReason {
            log(RunEvent(.error, "credentials refused by the API (\(why)): the command stopped before sending more; fix the API key"))
        }
        if case let .apiUnreachable(why)? = control.stopReason {
            log(RunEvent(.error, "\(why): the command stopped; the rows not done are left for `cashier-batch retry`"))
        }
        if exit != .clean { throw exit.exitCode }
    }

    /// A run's exit code changed after its end (its reports failed): the ledger says so too.
    private func recordExitCode(_ exit: RunVerdict, runID: Int64) {
        guard let ledger = try? Ledger(path: options.db), let run = try? ledger.run(id: runID) else { return }
        try? ledger.finishRun(id: runID, status: run.status, exitCode: exit.rawValue)
    }
}

/// Writes every report of `runID` to `directory`. Reports that cannot be written are logged in
/// one line saying where they should have gone and how to write them again; the caller then
/// exits 74 (the night's work itself is in the ledger).
func writeRunReports(ledgerPath: String, runID: Int64, directory: String, log: RunLog, forecast: Forecast? = nil) -> Bool {
    do {
        let ledger = try Ledger(path: ledgerPath, access: .read)
        var data = try ReportBuilder(ledger: ledger).build(runID: runID)
        data.forecast = forecast
        let files = try ReportWriter(directory: directory).write(data)
        log(RunEvent(.info, "reports written", [("dir", .string(directory)), ("files", .int(files.count)), ("run", .int(runID))]))
        return true
    } catch let ReportError.write(path, reason) {
        log(RunEvent(.error, "the reports could not be written to \(directory) (\(path): \(reason)); the run is recorded in the ledger: "
            + "make \(directory) a writable directory, then `cashier-batch report --db \(ledgerPath) --run \(runID) --out \(directory)` writes them"))
        return false
    } catch {
        // Not the directory's fault: the ledger could not be read, or holds no such run to report.
        let why = LedgerFault.classify(error, path: ledgerPath)?.description ?? "\(error)"
        log(RunEvent(.error, "the reports of run \(runID) could not be made from the ledger: \(why)"))
        return false
    }
}
