import BatchInput
import CashierModel
import Foundation
import Gateway
import Ledger
import Reconciliation
import Synchronization

/// What `run` and `retry` need besides the API.
public struct RunSettings: Sendable {
    public var ledgerPath: String
    public var command: String
    /// The effective options as JSON, without secrets (recorded with the run).
    public var optionsJSON: String
    public var policy: SendPolicy
    public var dryRun: Bool
    /// `--shard i/N`: stage and send only this shard's rows (nil: all).
    public var shard: Shard?
    /// `run --allow-repeat`: send a batch whose rows repeat rows done within the last 24 hours.
    public var allowRepeat = false
    /// `run --max-stream-bytes`: the most read from an input that is a pipe, FIFO or device.
    public var streamCap = StreamCap.default

    public init(ledgerPath: String, command: String, optionsJSON: String, policy: SendPolicy, dryRun: Bool, shard: Shard? = nil) {
        self.ledgerPath = ledgerPath
        self.command = command
        self.optionsJSON = optionsJSON
        self.policy = policy
        self.dryRun = dryRun
        self.shard = shard
    }
}

/// The outcome of a run, for the summary line and the exit code.
public struct RunResult: Sendable {
    public var runID: Int64?
    public var verdict: RunVerdict
    public var tally = RowCounts()
    public var batchIDs: [Int64] = []
    public var refusedBatches = 0
    /// Rows of this run's batches (this shard's) rejected by validation, before any sending;
    /// `tally.rejected` counts the rows the API refused.
    public var invalidRows = 0
    public var stopReason: StopReason?
    /// The reconciliation `run` and `retry` end with (from the ledger: the create answers); nil
    /// for a dry run, or when it could not be made (logged).
    public var reconciliation: ReconciliationReport?
    /// The forecast logged when sending began (nil when the run never got there).
    public var forecast: Forecast?
    /// `--until`: the rows of the run's batches left open for `retry` when the window closed.
    public var leftForRetry: Int?
}

/// The nightly job: lock the ledger, recover what a crashed run left, stage every
/// batch (refusing unreadable ones and control-total mismatches before anything is
/// sent), send the open rows, close the run. `retry` is the same without staging.
public struct NightlyRun: Sendable {
    public let settings: RunSettings
    public let log: @Sendable (RunEvent) -> Void

    public init(settings: RunSettings, log: @escaping @Sendable (RunEvent) -> Void) {
        self.settings = settings
        self.log = log
    }

    private var session: CommandSession {
        CommandSession(ledgerPath: settings.ledgerPath, command: settings.command, optionsJSON: settings.optionsJSON, log: log)
    }

    /// `run FILE…`.
    /// `onWait`: nothing is left to send but rows waiting to settle (seconds, rows).
    public func run(files: [String], gateway: RebillyGateway,
                    onPlan: @escaping @Sendable (Int) -> Void = { _ in },
                    onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in },
                    onWait: @escaping @Sendable (Double, Int) -> Void = { _, _ in }) async throws -> RunResult {
        // Every input is opened (once) before the ledger: a mistyped path touches nothing.
        var inputs: [BatchFile] = []
        var unopened = false
        for path in files {
            do { inputs.append(try BatchFile(path: path, streamCap: settings.streamCap)) } catch {
                log(RunEvent(.error, "cannot open batch \(path): \(error.detail); check the path (nothing was sent, the ledger and the reports were not touched)"))
                unopened = true
            }
        }
        if unopened { return RunResult(verdict: .noInput) }
        return try await perform(gateway) { ledger, runID, result in
            if let conflict = try shardConflict(ledger: ledger, runID: runID) {
                log(RunEvent(.error, conflict))
                result.verdict = .usage
                return
            }
            let stager = BatchStager(ledger: ledger, runID: runID, shard: settings.shard)
            for file in inputs {
                if let batchID = try stage(file, stager: stager, result: &result) { result.batchIDs.append(batchID) }
            }
            try await send(ledger: ledger, runID: runID, gateway: gateway, result: &result, onPlan: onPlan, onRow: onRow, onWait: onWait)
            if !settings.dryRun { try reconcile(ledger: ledger, runID: runID, result: &result) }
        }
    }

    /// `retry [--run ID]`: the open rows (failed, in doubt, unfinished) of the batches of run `ID`
    /// (default: the last `run` or `retry`). Nothing is created when there is no such run.
    public func retry(runID target: Int64?, gateway: RebillyGateway,
                      onPlan: @escaping @Sendable (Int) -> Void = { _ in },
                      onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in },
                      onWait: @escaping @Sendable (Double, Int) -> Void = { _, _ in }) async throws -> RunResult {
        let what = target.map { "run \($0)" } ?? "no run"
        guard FileManager.default.fileExists(atPath: settings.ledgerPath) else {
            log(RunEvent(.error, "\(what) to retry in \(settings.ledgerPath): there is no ledger there (give --db the ledger of the night)"))
            return RunResult(verdict: .usage)
        }
        return try await perform(gateway) { ledger, runID, result in
            let previous = try target.map { try ledger.run(id: $0) } ?? ledger.lastRun(of: RunRecord.nightCommands, before: runID)
            guard let previous, previous.id != runID else {
                log(RunEvent(.error, "\(what) to retry in \(settings.ledgerPath): give --run one of the runs listed by `cashier-batch runs`"))
                result.verdict = .usage
                return
            }
            let batches = try ledger.batches(runID: previous.id).filter { $0.isStaged && $0.controlVerdict != .mismatch }
            for batch in batches {
                // Links the batch to this run (upsert finds it by its SHA-256).
                _ = try ledger.upsertBatch(NewBatch(sha256: batch.sha256, path: batch.path, format: batch.format), runID: runID)
            }
            result.batchIDs = batches.map(\.id)
            log(RunEvent(.info, "retrying run \(previous.id)", [("batches", .int(result.batchIDs.count))]))
            try await send(ledger: ledger, runID: runID, gateway: gateway, result: &result, onPlan: onPlan, onRow: onRow, onWait: onWait)
            // Like `run`: the batches' figures against Rebilly's answers, so that a retry's exit
            // code and report never call a night clean while its breaks are still open.
            if !settings.dryRun { try reconcile(ledger: ledger, runID: runID, result: &result) }
        }
    }


    /// The session around `body`, with the run's result as its value.
    private func perform(_ gateway: RebillyGateway,
                         _ body: (Ledger, Int64, inout RunResult) async throws -> Void) async throws -> RunResult {
        let end = try await session.perform(control: gateway.control, { ledger, runID in
            var result = RunResult(runID: runID, verdict: .clean)
            try await body(ledger, runID, &result)
            return result
        }, verdict: \.verdict)
        switch end {
        case let .completed(_, result): return result
        case let .failed(runID, verdict):
            var result = RunResult(runID: runID, verdict: verdict)
            result.stopReason = gateway.control.stopReason
            return result
        }
    }

    /// A batch is staged once per ledger, with the rows of the shard that staged it: a ledger
    /// used for shard 0/4 and then given `--shard 1/4` (or none) would resume the batch with
    /// shard 0's rows and never send its own. So a ledger keeps the shard of the runs that
    /// staged into it (`run`, `validate --db`); another one is refused before anything is read.
    func shardConflict(ledger: Ledger, runID: Int64) throws -> String? {
        let mine = settings.shard?.description
        let previous = try ledger.lastStagingRun(excluding: runID)
        guard let previous else { return nil }
        let theirs = (try? JSONParser.parse(previous.optionsJSON))?["shard"]?.stringValue
        guard theirs != mine else { return nil }
        func name(_ shard: String?) -> String { shard.map { "shard \($0)" } ?? "every row (no --shard)" }
        return "this ledger holds \(name(theirs)) (run \(previous.id), \(previous.command)); \(name(mine)) needs its own --db: "
            + "a batch is staged once per ledger, with one shard's rows"
    }

    /// Compares the batch figures with the figures Rebilly answered (recorded in the
    /// ledger), records the breaks; open breaks make the verdict at least 4.
    private func reconcile(ledger: Ledger, runID: Int64, result: inout RunResult) throws {
        let report = try Reconciler(ledger: ledger).reconcileFromLedger(runID: runID)
        result.reconciliation = report
        let c = report.counts
        for event in report.breakEvents { log(event) }
        log(RunEvent(c.openBreaks > 0 ? .warning : .info, "reconciled", [
            ("cashiers", .int(c.compared)), ("newBreaks", .int(c.newBreaks)), ("persistingBreaks", .int(c.persistingBreaks)),
            ("resolvedBreaks", .int(c.resolvedBreaks)), ("highPriority", .int(c.highPriorityOpenBreaks)),
            ("accepted", .int(report.breaks.accepted.count)), ("opening", .int(c.openingBreaks)),
            ("accounting", report.accountingHolds ? "holds" : "off"),
        ]))
        // A run stopped early (a signal, `--until`) leaves rows unfinished by design; the
        // accounting speaks of a whole night.
        if result.stopReason == nil, result.leftForRetry == nil {
            for check in report.accounting where !check.holds {
                log(RunEvent(.warning, "row accounting does not close (a bug, or a ledger edited by hand): see docs/ledger.md, Row states, and check the batch's rows with sqlite3", [("batch", .int(check.batchID)), ("file", .string(check.path)),
                                                                        ("problems", .string(check.problems.joined(separator: "; ")))]))
            }
        }
        if report.hasOpenBreaks { result.verdict = max(result.verdict, .reconciliationBreaks) }
    }

    /// A ledger error is not the batch's fault: it is thrown and ends the command.
    private func stage(_ file: BatchFile, stager: BatchStager, result: inout RunResult) throws -> Int64? {
        let path = file.path
        do {
            let staging = try stager.beginBatch(file)
            if staging.batch.isStaged {
                if let pruned = staging.batch.prunedAt {
                    refuse(path, "this file (sha256 \(staging.batch.sha256.prefix(12))…) was processed by run \(staging.batch.firstRunID) and its rows "
                           + "were pruned from the ledger on \(RFC3339.string(pruned)): it is not sent again", &result)
                    return nil
                }
                if staging.batch.controlVerdict == .mismatch {
                    refuse(path, "control totals did not match when this file was first read", &result)
                    return nil
                }
                log(RunEvent(.info, "batch already in the ledger; resuming it", [("file", .string(path)), ("sha256", .string(staging.batch.sha256))]))
                return try refusedAsRepeat(staging.batch, path: path, stager: stager, result: &result) ? nil : staging.batchID
            }
            let summary = try staging.stage { add in try BatchScan.scan(file) { record, verdict in try add(record, verdict) } }
            if let control = summary.control, !control.matched {
                refuse(path, "control manifest mismatch: " + control.differences.joined(separator: "; "), &result)
                return nil
            }
            var fields: [(String, LogValue)] = [("file", .string(path)), ("format", .string(summary.format.description)),
                          ("read", .int(summary.rowsRead)), ("valid", .int(summary.valid)), ("rejected", .int(summary.rejected))]
            if let shard = settings.shard {
                fields += [("shard", .string(shard.description)), ("otherShards", .int(staging.otherShardRows))]
            }
            log(RunEvent(.info, "batch staged", fields))
            let shardRejected = summary.rejected - staging.otherShardRejectedRows
            result.invalidRows += shardRejected
            if shardRejected > 0 { result.verdict = max(result.verdict, .rowsRejectedOrFailed) }
            return try refusedAsRepeat(staging.batch, path: path, stager: stager, result: &result) ? nil : staging.batchID
        } catch let error as BatchError {
            refuse(path, error.description, &result)
            return nil
        }
    }

    /// A batch most of whose rows repeat rows done within the last 24 hours in every field (the
    /// same export saved again: another SHA-256, the same rows) is refused unless `--allow-repeat`.
    private func refusedAsRepeat(_ batch: BatchRecord, path: String, stager: BatchStager, result: inout RunResult) throws -> Bool {
        guard !batch.repeatAllowed,
              let finding = try stager.ledger.repeatedRows(batchID: batch.id, since: Date().addingTimeInterval(-Self.repeatWindow)),
              finding.isRepeat
        else { return false }
        let earlier = "batch \(finding.earlierBatchID) (\(finding.earlierPath)\(finding.earlierRunID.map { ", sent by run \($0)" } ?? ""))"
        if settings.allowRepeat {
            try stager.ledger.allowRepeat(batchID: batch.id)
            log(RunEvent(.warning, "sending a repeat on purpose (--allow-repeat)", [
                ("file", .string(path)), ("repeatedRows", .int(finding.repeated)), ("validRows", .int(finding.valid)), ("repeats", .string(earlier))]))
            return false
        }
        refuse(path, "\(finding.repeated) of its \(finding.valid) rows repeat rows that \(earlier) sent within the last 24 hours, "
               + "with the same customer, website, currency, figures and deposit request: the same export saved again? "
               + "Give --allow-repeat to send it anyway", &result)
        return true
    }

    /// How far back a done row makes a new batch's identical row a repeat.
    static let repeatWindow: TimeInterval = 24 * 3600

    private func refuse(_ path: String, _ why: String, _ result: inout RunResult) {
        log(RunEvent(.error, "batch refused; nothing of it is sent (the reason says what to fix)", [("file", .string(path)), ("reason", .string(why))]))
        result.refusedBatches += 1
        result.verdict = max(result.verdict, .badBatch)
    }

    /// The `forecast` line, and a warning when its expected end passes `--until`. `known`: rows
    /// whose cashier an earlier night recorded (no `POST /cashiers`).
    private func forecast(rows: Int, known: Int, gateway: RebillyGateway) async -> Forecast {
        let writes = rows * settings.policy.writesPerRow - known
        let rate = await gateway.limiterStatus.currentRate
        let seconds = await gateway.secondsToWrites(writes)
        let now = Date()
        let spec = gateway.settings.rate
        let forecast = Forecast(rows: rows, writes: writes, reads: 0, budgetLeft: spec.limit, budget: spec.description,
                                    ratePerSecond: rate, at: now, expectedEnd: now.addingTimeInterval(seconds),
                                    until: settings.policy.window?.deadline)
        var fields: [(String, LogValue)] = [
            ("rows", .int(rows)), ("writes", .int(writes)), ("reads", .int(0)), ("budgetLeft", .int(spec.limit)),
            ("budget", .string(spec.description)), ("ratePerSecond", .double(rate)),
            ("seconds", .double((forecast.expectedEnd.timeIntervalSince(now) * 1000).rounded() / 1000)),
            ("expectedEnd", .string(RFC3339.string(forecast.expectedEnd)))]
        if let until = forecast.until { fields.append(("until", .string(RFC3339.string(until)))) }
        log(RunEvent(.info, "forecast", fields))
        if let until = forecast.until, forecast.overruns {
            log(RunEvent(.warning, "the forecast's expected end \(RFC3339.string(forecast.expectedEnd)) passes --until \(RFC3339.string(until)): "
                + "the rows that cannot finish by then are not started and are left for `cashier-batch retry`",
                [("writes", .int(writes)), ("ratePerSecond", .double(rate))]))
        }
        return forecast
    }

    private func send(ledger: Ledger, runID: Int64, gateway: RebillyGateway,
                      result: inout RunResult, onPlan: @Sendable (Int) -> Void,
                      onRow: @escaping @Sendable (RowOutcome) -> Void,
                      onWait: @escaping @Sendable (Double, Int) -> Void) async throws {
        let control = gateway.control
        var planned = 0, known = 0
        for batchID in result.batchIDs {
            planned += try ledger.countsByState(batchID: batchID).filter { BatchSender.openStates.contains($0.key) }.values.reduce(0, +)
            known += try ledger.knownCashierCount(runID: runID, batchID: batchID)
        }
        result.forecast = await forecast(rows: planned, known: known, gateway: gateway)
        if settings.dryRun {
            for batchID in result.batchIDs {
                let open = try ledger.countsByState(batchID: batchID).filter { BatchSender.openStates.contains($0.key) }.values.reduce(0, +)
                log(RunEvent(.info, "dry run: would send", [("batch", .int(batchID)), ("rows", .int(open)),
                                                            ("deposits", .bool(settings.policy.deposits))]))
                // One row at a time from the ledger: a dry run of a million rows holds none of them.
                try ledger.forEachRow(batchID: batchID, states: BatchSender.openStates) { row in
                    log(RunEvent(.info, "would send", [("line", .int(row.line)), ("customerId", .string(row.customerID ?? "")),
                                                       ("websiteId", .string(row.websiteID ?? "")), ("currency", .string(row.currency ?? "")),
                                                       ("state", .string(row.state.rawValue))]))
                }
            }
            return
        }
        onPlan(planned)
        FreedMemory.release()  // what staging held is not needed again
        log(RunEvent(.info, "sending", [("rows", .int(planned)), ("batches", .int(result.batchIDs.count))]))
        let sender = BatchSender(ledger: ledger, gateway: gateway, policy: settings.policy, runID: runID, onWait: onWait)
        // Rebilly's own count of the budget, said once, as soon as a write's answer carried it.
        let quotaSaid = Mutex(false)
        let say = self.log
        result.tally = try await sender.send(batchIDs: result.batchIDs, onRow: { outcome in
            onRow(outcome)
            guard let quota = gateway.firstWriteQuota, quotaSaid.withLock({ said in defer { said = true }; return !said }) else { return }
            say(RunEvent(.info, "forecast: Rebilly's count of the write budget", [
                ("budgetLeft", .int(quota.remaining)), ("limit", .int(quota.limit))]))
        })
        result.forecast?.budgetLeftByRebilly = gateway.firstWriteQuota?.remaining
        result.stopReason = control.stopReason
        if control.stopReason == nil, let window = settings.policy.window, window.isClosed {
            var left = 0
            for batchID in result.batchIDs {
                left += try ledger.countsByState(batchID: batchID).filter { BatchSender.openStates.contains($0.key) }.values.reduce(0, +)
            }
            result.leftForRetry = left
            result.verdict = max(result.verdict, .windowClosed)
            log(RunEvent(.warning, "stopped at the window's end: \(left) row\(left == 1 ? "" : "s") left for retry", [
                ("until", .string(RFC3339.string(window.deadline))), ("leftForRetry", .int(left)),
                ("notStarted", .int(result.tally.unfinished)), ("inDoubt", .int(result.tally.inDoubt))]))
        }
        switch control.stopReason {
        case .credentialsRefused?: result.verdict = max(result.verdict, .credentialsRefused)
        case let .signal(number)?: result.verdict = max(result.verdict, number == 15 ? .terminated : .interrupted)
        case .ledgerFailed?: result.verdict = max(result.verdict, .ledgerUnusable)
        case .apiUnreachable?: result.verdict = max(result.verdict, .apiUnavailable)
        case nil:
            if result.tally.failed > 0 || result.tally.inDoubt > 0 {
                // Nothing got through at all: the API is down, not the rows.
                let verdict: RunVerdict = result.tally.done == 0 && result.tally.rejected == 0 ? .apiUnavailable : .rowsRejectedOrFailed
                result.verdict = max(result.verdict, verdict)
            } else if result.tally.rejected > 0 || result.tally.needsReview > 0 {
                result.verdict = max(result.verdict, .rowsRejectedOrFailed)
            }
        }
        // Rejected rows stay rejected until fixed and sent as a new batch: every run over their
        // batch says so with 3, not only the run that found them.
        // Rows waiting for a person's decision (`resolve`) likewise.
        for batchID in result.batchIDs {
            let counts = try ledger.countsByState(batchID: batchID)
            if counts[.rejected, default: 0] > 0 || counts[.needsReview, default: 0] > 0 {
                result.verdict = max(result.verdict, .rowsRejectedOrFailed)
            }
        }
    }
}
