import BatchInput
import CashierModel
import Foundation
import Ledger
import Reconciliation

/// How a run ended, in the terms of the documented exit codes (the command maps them).
public enum RunVerdict: Int32, Sendable, Comparable {
    case clean = 0
    case rowsRejectedOrFailed = 3
    case reconciliationBreaks = 4
    /// The command cannot be carried out as given (e.g. a shard on another shard's ledger).
    case usage = 64
    case badBatch = 65
    /// An input path cannot be opened (missing, a directory, no permission): nothing was touched.
    case noInput = 66
    case apiUnavailable = 69
    case internalError = 70
    /// The ledger cannot be used or could not record (full disk, I/O error, damaged, not a ledger).
    case ledgerUnusable = 74
    case locked = 75
    case credentialsRefused = 77
    case interrupted = 130
    case terminated = 143

    public static func < (lhs: RunVerdict, rhs: RunVerdict) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One line of the run's log, for the command layer to print (text or JSON).
public struct RunEvent: Sendable {
    public enum Level: String, Sendable { case info, warning, error }
    public var level: Level
    public var message: String
    public var fields: [(String, String)]

    public init(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        self.level = level
        self.message = message
        self.fields = fields
    }
}

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
    public var tally = SendTally()
    public var batchIDs: [Int64] = []
    public var refusedBatches = 0
    /// Rows of this run's batches (this shard's) rejected by validation, before any sending;
    /// `tally.rejected` counts the rows the API refused.
    public var invalidRows = 0
    public var stopReason: StopReason?
    /// The reconciliation `run` and `retry` end with (from the ledger: the create answers); nil
    /// for a dry run, or when it could not be made (logged).
    public var reconciliation: ReconciliationReport?
}

/// The nightly job: lock the ledger, recover what a crashed run left, stage every
/// batch (refusing unreadable ones and control-total mismatches before anything is
/// sent), send the open rows, close the run. `retry` is the same without staging.
public struct NightlyRun: Sendable {
    public let settings: RunSettings
    public let control: RunControl
    public let log: @Sendable (RunEvent) -> Void

    public init(settings: RunSettings, control: RunControl, log: @escaping @Sendable (RunEvent) -> Void) {
        self.settings = settings
        self.control = control
        self.log = log
    }

    /// `run FILE…`.
    public func run(files: [String], api: any CashierAPI, gate: any RequestGate,
                    onPlan: @escaping @Sendable (Int) -> Void = { _ in },
                    onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in }) async throws -> RunResult {
        // Every input is opened (once) before the ledger: a mistyped path touches nothing.
        var inputs: [BatchFile] = []
        var unopened = false
        for path in files {
            do { inputs.append(try BatchFile(path: path)) } catch {
                log(RunEvent(.error, "cannot open batch \(path): \(error.detail); check the path (nothing was sent, the ledger and the reports were not touched)"))
                unopened = true
            }
        }
        if unopened { return RunResult(verdict: .noInput) }
        return try await session { ledger, runID, result in
            if let conflict = try shardConflict(ledger: ledger, runID: runID) {
                log(RunEvent(.error, conflict))
                result.verdict = .usage
                return
            }
            let stager = BatchStager(ledger: ledger, runID: runID, shard: settings.shard)
            for file in inputs {
                if let batchID = try stage(file, stager: stager, result: &result) { result.batchIDs.append(batchID) }
            }
            try await send(ledger: ledger, runID: runID, api: api, gate: gate, result: &result, onPlan: onPlan, onRow: onRow)
            if !settings.dryRun { try reconcile(ledger: ledger, runID: runID, result: &result) }
        }
    }

    /// A batch is staged once per ledger, with the rows of the shard that staged it: a ledger
    /// used for shard 0/4 and then given `--shard 1/4` (or none) would resume the batch with
    /// shard 0's rows and never send its own. So a ledger keeps the shard of the runs that
    /// staged into it (`run`, `validate --db`); another one is refused before anything is read.
    func shardConflict(ledger: Ledger, runID: Int64) throws -> String? {
        let mine = settings.shard?.description
        let previous = try ledger.runs(limit: 10_000).first { run in
            run.id != runID && (run.command == "run" || run.command == "validate") && run.exitCode != RunVerdict.usage.rawValue
        }
        guard let previous else { return nil }
        let theirs = (try? JSONParser.parse(previous.optionsJSON))?["shard"]?.stringValue
        guard theirs != mine else { return nil }
        func name(_ shard: String?) -> String { shard.map { "shard \($0)" } ?? "every row (no --shard)" }
        return "this ledger holds \(name(theirs)) (run \(previous.id), \(previous.command)); \(name(mine)) needs its own --db: "
            + "a batch is staged once per ledger, with one shard's rows"
    }

    /// Compares the batch figures with the figures Rebilly answered (recorded in the
    /// ledger), records the breaks; open breaks make the verdict at least 4.
    /// A reconciliation that cannot be made (a ledger error) ends the run as an internal error.
    private func reconcile(ledger: Ledger, runID: Int64, result: inout RunResult) throws {
        do {
            let report = try Reconciler(ledger: ledger).reconcileFromLedger(runID: runID)
            result.reconciliation = report
            let c = report.counts
            log(RunEvent(c.openBreaks > 0 ? .warning : .info, "reconciled", [
                ("cashiers", "\(c.compared)"), ("newBreaks", "\(c.newBreaks)"), ("persistingBreaks", "\(c.persistingBreaks)"),
                ("resolvedBreaks", "\(c.resolvedBreaks)"), ("highPriority", "\(c.highPriorityOpenBreaks)"),
                ("accounting", report.accountingHolds ? "holds" : "off"),
            ]))
            for check in report.accounting where !check.holds {
                log(RunEvent(.warning, "row accounting does not close", [("batch", "\(check.batchID)"), ("file", check.path),
                                                                        ("problems", check.problems.joined(separator: "; "))]))
            }
            if report.hasOpenBreaks { result.verdict = max(result.verdict, .reconciliationBreaks) }
        } catch {
            log(RunEvent(.error, "reconciliation failed", [("error", "\(error)")]))
            throw error
        }
    }

    /// `retry [--run ID]`: the open rows (failed, in doubt, unfinished) of the batches of run `ID`.
    public func retry(runID target: Int64?, api: any CashierAPI, gate: any RequestGate,
                      onPlan: @escaping @Sendable (Int) -> Void = { _ in },
                      onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in }) async throws -> RunResult {
        try await session { ledger, runID, result in
            let previous = try target.map { try ledger.run(id: $0) } ?? ledger.runs(limit: 10).first { $0.id != runID && $0.command != "validate" }
            guard let previous else {
                log(RunEvent(.error, "no run to retry", [("run", target.map(String.init) ?? "last")]))
                result.verdict = .badBatch
                return
            }
            let batches = try ledger.batches(runID: previous.id).filter { $0.isStaged && $0.controlVerdict != .mismatch }
            for batch in batches {
                // Links the batch to this run (upsert finds it by its SHA-256).
                _ = try ledger.upsertBatch(NewBatch(sha256: batch.sha256, path: batch.path, format: batch.format, gzip: batch.gzip), runID: runID)
            }
            result.batchIDs = batches.map(\.id)
            log(RunEvent(.info, "retrying run \(previous.id)", [("batches", "\(result.batchIDs.count)")]))
            try await send(ledger: ledger, runID: runID, api: api, gate: gate, result: &result, onPlan: onPlan, onRow: onRow)
            // Like `run`: the batches' figures against Rebilly's answers, so that a retry's exit
            // code and report never call a night clean while its breaks are still open.
            if !settings.dryRun { try reconcile(ledger: ledger, runID: runID, result: &result) }
        }
    }

    /// Lock, open, begin, recover; run `body`; close the run with its verdict.
    ///
    /// A ledger that cannot be used, or that stops recording mid-run, ends the command with
    /// ``RunVerdict/ledgerUnusable`` and one line saying which file and what to do; the run is
    /// recorded as `crashed` if the ledger still takes that write (else the next run's
    /// recovery does it), and every call it left in flight is checked before any resend.
    private func session(_ body: (Ledger, Int64, inout RunResult) async throws -> Void) async throws -> RunResult {
        let lock: RunLock
        do {
            lock = try RunLock(ledgerPath: settings.ledgerPath)
        } catch let held as RunLock.Held {
            log(RunEvent(.error, held.description))
            return RunResult(verdict: .locked)
        }
        defer { lock.release() }
        let ledger: Ledger
        let runID: Int64
        let recovery: CrashRecovery
        do {
            ledger = try Ledger(path: settings.ledgerPath, quickCheck: true)
            runID = try ledger.beginRun(command: settings.command, optionsJSON: settings.optionsJSON)
            recovery = try ledger.recoverCrashedRuns(currentRunID: runID)
        } catch {
            guard let fault = LedgerFault.classify(error, path: settings.ledgerPath) else { throw error }
            log(RunEvent(.error, fault.description))
            return RunResult(verdict: .ledgerUnusable)
        }
        if !recovery.isEmpty {
            log(RunEvent(.warning, "recovered after an unfinished run: its calls in flight are checked before anything is sent again", [
                ("crashedRuns", recovery.crashedRunIDs.map(String.init).joined(separator: ",")),
                ("runsWithCallsInFlight", recovery.runsWithCallsInFlight.map(String.init).joined(separator: ",")),
                ("rowsInDoubt", "\(recovery.rowsMarkedInDoubt)"), ("lostAttempts", "\(recovery.lostAttempts)"),
            ]))
        }
        var result = RunResult(runID: runID, verdict: .clean)
        do {
            try await body(ledger, runID, &result)
        } catch {
            let fault = LedgerFault.classify(error, path: settings.ledgerPath)
            result.verdict = fault == nil ? .internalError : .ledgerUnusable
            try? ledger.finishRun(id: runID, status: .crashed, exitCode: result.verdict.rawValue)
            guard let fault else { throw error }
            log(RunEvent(.error, fault.description))
            result.stopReason = control.stopReason
            return result
        }
        let status: RunStatus
        switch control.stopReason {
        case .signal?: status = .interrupted
        default: status = .finished
        }
        try ledger.finishRun(id: runID, status: status, exitCode: result.verdict.rawValue)
        return result
    }

    /// Stages one file; nil when the batch is refused (unreadable, corrupt, control totals).
    /// A ledger error is not the batch's fault: it is thrown and ends the command.
    private func stage(_ file: BatchFile, stager: BatchStager, result: inout RunResult) throws -> Int64? {
        let path = file.path
        do {
            let staging = try stager.beginBatch(file)
            if staging.batch.isStaged {
                if staging.batch.controlVerdict == .mismatch {
                    refuse(path, "control totals did not match when this file was first read", &result)
                    return nil
                }
                log(RunEvent(.info, "batch already in the ledger; resuming it", [("file", path), ("sha256", staging.batch.sha256)]))
                return try refusedAsRepeat(staging.batch, path: path, stager: stager, result: &result) ? nil : staging.batchID
            }
            let summary = try BatchScan.scan(file) { record, verdict in try staging.add(record, verdict) }
            try staging.finish(summary)
            if let control = summary.control, !control.matched {
                refuse(path, "control manifest mismatch: " + control.differences.joined(separator: "; "), &result)
                return nil
            }
            var fields = [("file", path), ("format", summary.format.description),
                          ("read", "\(summary.rowsRead)"), ("valid", "\(summary.valid)"), ("rejected", "\(summary.rejected)")]
            if let shard = settings.shard {
                fields += [("shard", shard.description), ("otherShards", "\(staging.otherShardRows)")]
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
                ("file", path), ("repeatedRows", "\(finding.repeated)"), ("validRows", "\(finding.valid)"), ("repeats", earlier)]))
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
        log(RunEvent(.error, "batch refused; nothing of it is sent", [("file", path), ("reason", why)]))
        result.refusedBatches += 1
        result.verdict = max(result.verdict, .badBatch)
    }

    private func send(ledger: Ledger, runID: Int64, api: any CashierAPI, gate: any RequestGate,
                      result: inout RunResult, onPlan: @Sendable (Int) -> Void,
                      onRow: @escaping @Sendable (RowOutcome) -> Void) async throws {
        if settings.dryRun {
            for batchID in result.batchIDs {
                let open = try ledger.rows(batchID: batchID, states: BatchSender.openStates)
                log(RunEvent(.info, "dry run: would send", [("batch", "\(batchID)"), ("rows", "\(open.count)"),
                                                            ("deposits", settings.policy.deposits ? "yes" : "no")]))
                for row in open {
                    log(RunEvent(.info, "would send", [("line", "\(row.line)"), ("customerId", row.customerID ?? ""),
                                                       ("websiteId", row.websiteID ?? ""), ("currency", row.currency ?? ""),
                                                       ("state", row.state.rawValue)]))
                }
            }
            return
        }
        var planned = 0
        for batchID in result.batchIDs {
            planned += try ledger.countsByState(batchID: batchID).filter { BatchSender.openStates.contains($0.key) }.values.reduce(0, +)
        }
        onPlan(planned)
        log(RunEvent(.info, "sending", [("rows", "\(planned)"), ("batches", "\(result.batchIDs.count)")]))
        let sender = BatchSender(ledger: ledger, api: api, gate: gate, control: control, policy: settings.policy, runID: runID)
        for batchID in result.batchIDs {
            if control.isStopped { break }
            let tally = try await sender.send(batchID: batchID, onRow: onRow)
            result.tally.done += tally.done
            result.tally.rejected += tally.rejected
            result.tally.failed += tally.failed
            result.tally.inDoubt += tally.inDoubt
            result.tally.stopped += tally.stopped
        }
        result.stopReason = control.stopReason
        switch control.stopReason {
        case .credentialsRefused?: result.verdict = max(result.verdict, .credentialsRefused)
        case let .signal(number)?: result.verdict = max(result.verdict, number == 15 ? .terminated : .interrupted)
        case .ledgerFailed?: result.verdict = max(result.verdict, .ledgerUnusable)
        case nil:
            if result.tally.failed > 0 || result.tally.inDoubt > 0 {
                // Nothing got through at all: the API is down, not the rows.
                let verdict: RunVerdict = result.tally.done == 0 && result.tally.rejected == 0 ? .apiUnavailable : .rowsRejectedOrFailed
                result.verdict = max(result.verdict, verdict)
            } else if result.tally.rejected > 0 {
                result.verdict = max(result.verdict, .rowsRejectedOrFailed)
            }
        }
        // Rejected rows stay rejected until fixed and sent as a new batch: every run over their
        // batch says so with 3, not only the run that found them.
        for batchID in result.batchIDs where try ledger.countsByState(batchID: batchID)[.rejected, default: 0] > 0 {
            result.verdict = max(result.verdict, .rowsRejectedOrFailed)
        }
    }
}
