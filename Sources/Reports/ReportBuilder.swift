import CashierModel
import Foundation
import Ledger
import Reconciliation

/// Errors of the report module.
public enum ReportError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The ledger has no such run (or no run at all).
    case noSuchRun(Int64?)
    /// A report file or directory could not be written.
    case write(path: String, reason: String)
    /// An unknown `--format` name.
    case unknownFormat(String)
    /// `prune` removed the run's rows: its reports were written when it ran.
    case pruned(runID: Int64, at: Date)

    public var description: String {
        switch self {
        case .noSuchRun(let id?): "the ledger has no run \(id): give --run one of the runs listed by `cashier-batch runs`"
        case .noSuchRun(nil): "the ledger has no run yet: run `cashier-batch run` first"
        case .write(let path, let reason): "cannot write \(path): \(reason)"
        case .unknownFormat(let name): "unknown format \"\(name)\": give some of html, md, json, csv, prom"
        case let .pruned(runID, at):
            "run \(runID)'s rows were pruned from the ledger on \(RFC3339.string(at)) (`cashier-batch prune`): its reports are the ones written when it ran"
        }
    }
}

/// Gathers a ``ReportData`` from the ledger: one pass over the rows of the run's batches
/// (reasons, rejects, reviews), the run's attempts (requests, latency, throughput) and the
/// reconciliation recorded for the run (totals, breaks, checks).
public struct ReportBuilder: Sendable {
    public let ledger: Ledger
    /// Timestamp of generation (tests inject a fixed one).
    public var now: @Sendable () -> Date

    public init(ledger: Ledger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.ledger = ledger
        self.now = now
    }

    /// The report of run `runID` (default: the newest run that is not `validate`), with the
    /// reconciliation recorded for it, as it was recorded.
    public func build(runID: Int64? = nil) throws -> ReportData {
        let run: RunRecord
        if let runID {
            guard let found = try ledger.run(id: runID) else { throw ReportError.noSuchRun(runID) }
            run = found
        } else {
            guard let last = try ledger.lastRun(of: RunRecord.nightCommands) ?? ledger.runs(limit: 1).first
            else { throw ReportError.noSuchRun(nil) }
            run = last
        }
        if let pruned = try ledger.batches(runID: run.id).compactMap(\.prunedAt).max() {
            throw ReportError.pruned(runID: run.id, at: pruned)
        }
        var data: ReportData
        if run.command == "reconcile", let found = try ledger.reconciliationLogEntry(madeBy: run.id),
           let night = try ledger.run(id: found.runID) {
            data = try reconcileRun(run, found: found, night: night)
        } else {
            data = try core(run: run, details: true)
            Self.apply(try reconciliation(of: run, batches: data.batches.count), to: &data)
            if let previous = try previousRun(before: run) {
                data.previous = try previousNight(previous)
            }
        }
        data.lastSuccessAt = try ledger.runs(limit: 1000)
            .first { $0.id <= run.id && Self.isSuccess($0) }?.finishedAt
        return data
    }

    /// A `reconcile` run's report: the rows of the night it reconciled, its own calls, what it
    /// found (its breaks, checks and totals while its record is the run's), compared with the
    /// previous reconciliation of the same night.
    func reconcileRun(_ run: RunRecord, found: ReconciliationLogEntry, night: RunRecord) throws -> ReportData {
        var data = try core(run: night, details: true)
        data.run = Self.info(run)
        let calls = try AttemptTally.of(ledger: ledger, runID: run.id)
        data.requests = calls.requests
        data.throughput = calls.throughput
        let recorded = try ledger.reconciliation(runID: night.id)
        let current = recorded?.madeByRunID == run.id ? recorded : nil
        if let current { Self.apply(.recorded(current), to: &data) }
        let history = try ledger.reconciliationLog(runID: night.id)
        data.reconciliationRun = ReconciliationRunInfo(
            reconciled: Self.info(night), found: found, previous: history.last { $0.madeByRunID < run.id },
            replacedBy: current == nil ? recorded?.madeByRunID : nil)
        return data
    }

    /// The previous night as its reconciliation recorded it (row accounting, totals, open drift);
    /// for a night that recorded none, its rows' states and totals from the ledger now.
    func previousNight(_ run: RunRecord) throws -> PreviousRunDiff {
        if let recorded = try ledger.reconciliation(runID: run.id) {
            return PreviousRunDiff(run: Self.info(run), counts: recorded.accounting.map(\.rows).reduce(RowCounts(), +),
                                   totals: recorded.totals, openBreaks: recorded.breaks.filter(\.isOpenDrift).count)
        }
        var old = try core(run: run, details: false)
        Self.apply(try reconciliation(of: run, batches: old.batches.count), to: &old)
        return PreviousRunDiff(run: old.run, counts: old.counts, totals: old.totals, openBreaks: old.breaks.filter(\.isOpenDrift).count)
    }

    static func info(_ record: RunRecord) -> RunInfo {
        RunInfo(id: record.id, command: record.command, status: record.status, startedAt: record.startedAt,
                finishedAt: record.finishedAt, exitCode: record.exitCode)
    }

    /// What the reports show of a run's reconciliation.
    enum Shown {
        /// The reconciliation recorded for the run.
        case recorded(ReconciliationReport)
        /// None recorded (the run stopped before it reconciled, or reconciled before the ledger
        /// recorded reconciliations): the totals computed from the ledger now, and the breaks
        /// recorded for the run.
        case computed(ReconciliationReport, breaks: [Break], recordedAt: Date?)
    }

    /// The run's recorded reconciliation; else, for a run with batches, the reconciler's totals
    /// from the ledger (nothing is written) and the breaks recorded for it.
    func reconciliation(of run: RunRecord, batches: Int) throws -> Shown? {
        if let recorded = try ledger.reconciliation(runID: run.id) { return .recorded(recorded) }
        guard batches > 0 else { return nil }
        let computed = try Reconciler(ledger: ledger, clock: now).reconcileFromLedger(runID: run.id, record: false)
        return .computed(computed, breaks: try ledger.breaks(runID: run.id), recordedAt: try ledger.breaksRecordedAt(runID: run.id))
    }

    /// A run "succeeded" when it went to its end and its exit code is 0, 3 (rows
    /// rejected/failed: the input's fault) or 4 (breaks: reconciliation's finding).
    public static func isSuccess(_ run: RunRecord) -> Bool {
        run.status == .finished && [0, 3, 4].contains(run.exitCode ?? -1)
    }

    /// The previous sending night to compare with: the latest earlier `run`/`retry` that was not a
    /// dry run; none when `prune` removed its rows.
    func previousRun(before run: RunRecord) throws -> RunRecord? {
        guard let previous = try ledger.lastRun(of: RunRecord.nightCommands, before: run.id, sending: true),
              try ledger.batches(runID: previous.id).allSatisfy({ $0.prunedAt == nil }) else { return nil }
        return previous
    }

    private func core(run record: RunRecord, details: Bool) throws -> ReportData {
        let run = Self.info(record)
        var batches: [BatchInfo] = []
        var counts = RowCounts()
        var reasons: [ReasonKey: ReasonGroup] = [:]
        var rejects: [RejectRow] = []
        var reviews: [ReviewRow] = []
        for batch in try ledger.batches(runID: record.id) {
            let c = try ledger.accounting(runID: record.id, batchID: batch.id)
            counts = counts + c
            batches.append(BatchInfo(id: batch.id, path: batch.path, sha256: batch.sha256, format: batch.format.syntax.rawValue,
                                     gzip: batch.format.gzip, controlVerdict: batch.controlVerdict, counts: c))
            // The rows themselves only for the run reported on (the previous run's counts are enough).
            guard details else { continue }
            try ledger.forEachRow(batchID: batch.id) { row in
                if row.state == .needsReview {
                    let reason = FieldIssue.issues(json: row.reasonsJSON).map(\.message).joined(separator: "; ")
                    reviews.append(ReviewRow(rowID: row.id, batchPath: batch.path, line: row.line, customerID: row.customerID, reason: reason))
                }
                guard row.state == .rejected || row.state == .failed else { return }
                let issues = FieldIssue.issues(json: row.reasonsJSON)
                rejects.append(RejectRow(batchPath: batch.path, line: row.line, state: row.state, cells: row.cells,
                                         reasons: issues, attempts: row.attemptCount))
                let listed = issues.isEmpty ? [FieldIssue(field: "row", message: "no reason recorded")] : issues
                for issue in listed {
                    let key = ReasonKey(state: row.state, field: issue.field, pattern: Self.pattern(issue.message))
                    var group = reasons[key] ?? ReasonGroup(state: row.state, field: issue.field, pattern: key.pattern,
                                                            count: 0, examples: [])
                    group.count += 1
                    if group.examples.count < 3 {
                        group.examples.append(ReasonExample(batchPath: batch.path, line: row.line,
                                                            customerID: row.customerID, message: issue.message))
                    }
                    reasons[key] = group
                }
            }
        }
        var data = ReportData(
            run: run, batches: batches, counts: counts, requests: [], throughput: Throughput(bucketSeconds: 1, succeeded: [], other: []),
            totals: [], breaks: [], reconciled: false, reconciliationNotes: [],
            reasons: reasons.values.sorted { ($1.count, $0.field, $0.pattern) < ($0.count, $1.field, $1.pattern) },
            rejects: rejects, previous: nil, lastSuccessAt: nil, generatedAt: now(), reconciledAt: nil)
        data.reviews = reviews
        if details {
            let calls = try AttemptTally.of(ledger: ledger, runID: record.id)
            data.requests = calls.requests
            data.throughput = calls.throughput
        }
        return data
    }

    /// Shows a reconciliation in the report: its totals, breaks, notes and unread cashiers. A
    /// computed one that compared no cashier knows nothing about Rebilly: its columns stay empty.
    static func apply(_ shown: Shown?, to data: inout ReportData) {
        switch shown {
        case nil:
            return
        case let .recorded(report):
            data.totals = report.totals
            data.breaks = report.breaks.sorted(by: Break.order)
            data.reconciled = true
            data.reconciledAt = report.reconciledAt
            data.unread = report.unread
            data.reconciliationNotes = notes(report)
            data.depositChecks = report.depositChecks
        case let .computed(report, breaks, recordedAt):
            data.breaks = breaks.sorted(by: Break.order)
            data.reconciledAt = recordedAt
            data.reconciled = report.counts.compared > 0
            data.totals = data.reconciled ? report.totals : report.totals.map(\.withoutComparison)
            data.reconciliationNotes = data.reconciled ? notes(report) : []
        }
    }

    /// The reconciliation's findings in sentences: what was compared, the row accounting, the deposit checks.
    static func notes(_ report: ReconciliationReport) -> [String] {
        var notes: [String] = []
        let c = report.counts
        notes.append("Reconciled \(c.compared) of \(c.cashiers) cashiers from \(report.method == .readBack ? "a read-back (GET /cashiers)" : "the create answers recorded in the ledger")"
            + (c.notCompared > 0 ? "; \(c.notCompared) not compared (no figures known)" : "")
            + (report.unread.isEmpty ? "" : "; \(report.unread.count) could not be read back (neither matched nor broken, listed below)") + ".")
        if report.accountingHolds {
            notes.append("Row accounting holds for every batch (read = done + skipped + rejected + failed + in doubt + needs review + unfinished).")
        } else {
            for a in report.accounting where !a.holds {
                notes.append("Row accounting does NOT close for \(a.path): " + a.problems.joined(separator: "; ") + ".")
            }
        }
        if let d = report.depositChecks {
            notes.append("Deposit requests: \(d.checkedRows) rows checked, \(d.matched) exactly one, \(d.missing) missing, \(d.duplicated) duplicated"
                + (d.unverified > 0 ? ", \(d.unverified) unverified" : "") + (d.notApplicable > 0 ? ", \(d.notApplicable) without deposits" : "") + ".")
        } else {
            notes.append("Deposit requests were not listed in this reconciliation (run `cashier-batch reconcile` to check them).")
        }
        return notes
    }

    // MARK: - Pieces (internal for tests)

    struct TotalsKey: Hashable { var website: String; var currency: String }
    struct ReasonKey: Hashable { var state: RowState; var field: String; var pattern: String }

    /// The message with every run of digits replaced by `#`.
    static func pattern(_ message: String) -> String {
        var out = ""
        var inDigits = false
        for ch in message {
            if ch.isASCII && ch.isNumber {
                if !inDigits { out.append("#") }
                inDigits = true
            } else {
                out.append(ch)
                inDigits = false
            }
        }
        return out
    }
}
