import BuildInfo
import CashierModel
import Foundation
import Ledger

/// Everything the reports show about one run, gathered from the ledger (and the
/// reconciliation, when one ran). Every writer (`report.json`, `report.html`,
/// `summary.md`, `rejects.csv`, `metrics.prom`) renders this one value, so the
/// files can never disagree with each other.
///
/// Money is kept as 128-bit minor units with the currency's ISO 4217 exponent and
/// only ever written as exact decimal text (``Amount/format(_:exponent:)``).
public struct ReportData: Sendable {
    /// The run the report is about.
    public var run: RunInfo
    /// The batches the run processed, with their per-batch accounting.
    public var batches: [BatchInfo]
    /// Row accounting summed over the batches.
    public var counts: RowCounts
    /// API calls of the run, per operation.
    public var requests: [OperationStats]
    /// API calls of the run over time.
    public var throughput: Throughput
    /// Per (websiteId, currency) exact totals of the three figures (Rebilly's side nil when not reconciled).
    public var totals: [ReconciliationTotals]
    /// Reconciliation breaks of the run (with their lifecycle); empty when none or not reconciled.
    public var breaks: [Break]
    /// The opening differences per website and currency, from the totals and the breaks.
    public var openingSums: [DifferenceSums] { DifferenceSums.opening(totals: totals, breaks: breaks) }
    /// `true` when reconciliation figures (Rebilly totals, net, gross) are known for this run.
    public var reconciled: Bool
    /// Extra reconciliation findings to show as-is (accounting identity, deposit-request checks).
    public var reconciliationNotes: [String]
    /// The deposit-request check of the reconciliation shown (nil: none listed deposit requests).
    public var depositChecks: DepositRequestChecks? = nil
    /// Cashiers the reconciliation could not read back: neither matched nor broken.
    public var unread: [UnreadCashier] = []
    /// Rejection and failure reasons, most frequent first.
    public var reasons: [ReasonGroup]
    /// Every rejected or failed row with its original cells (for `rejects.csv`).
    public var rejects: [RejectRow]
    /// Rows waiting for a person's decision (`resolve`). Never in `rejects.csv`: sending such a
    /// row again as a new batch could create the very duplicate the review guards against.
    public var reviews: [ReviewRow] = []
    /// Differences from the previous sending run of the same ledger, if there is one.
    public var previous: PreviousRunDiff?
    /// The latest successful run's finish time known to the ledger (for `metrics.prom`).
    public var lastSuccessAt: Date?
    /// When the report was generated.
    public var generatedAt: Date
    /// When the reconciliation shown was made (the row counts are the rows' states now, at
    /// ``generatedAt``: a later retry changes them, not the reconciliation of this run).
    public var reconciledAt: Date?
    /// The shards of a night run as N shards (`report --merge`, ``ShardMerge``); empty for one ledger.
    public var shards: [ShardSummary] = []
    /// The forecast the command logged when sending began (only in the reports `run`/`retry` write).
    public var forecast: Forecast? = nil
    /// For a `reconcile` run: the run it reconciled (whose rows, totals and breaks are shown),
    /// what it found, and the previous reconciliation of the same run to compare with.
    public var reconciliationRun: ReconciliationRunInfo? = nil
    /// The binary that wrote the report (``ReportWriter`` stamps its own); nil leaves it out.
    public var build: Build? = nil

    /// The day a break's nights open are counted to: its reconciliation's, else the run's start.
    public var nightsAsOf: Date { reconciledAt ?? run.startedAt }

    /// The one-line verdict shown at the top of every report.
    public var verdict: Verdict { Verdict(data: self) }
}

/// The run a report is about (`runs` table).
public struct RunInfo: Sendable, Equatable {
    public var id: Int64
    public var command: String
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var exitCode: Int32?

    /// Wall-clock seconds from start to finish (nil while the run is open).
    public var durationSeconds: Double? { finishedAt.map { $0.timeIntervalSince(startedAt) } }
}

/// One batch file of the run, with the accounting identity the reconciliation checks.
public struct BatchInfo: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var sha256: String
    public var format: String
    public var gzip: Bool
    public var controlVerdict: ControlVerdict
    public var counts: RowCounts
    /// The shard (`i/N`) whose ledger holds these rows, in a merged report; nil otherwise.
    public var shard: String? = nil
}

/// API calls of one operation during the run.
public struct OperationStats: Sendable, Equatable {
    public var operation: AttemptOperation
    /// Attempts recorded (every one was sent, or at least its intent was recorded).
    public var sent: Int
    /// Attempts per HTTP status (`"201"`, `"429"`, …; `"none"` when no answer came), sorted.
    public var byStatus: [(status: String, count: Int)]
    /// Attempts beyond the first for the same row and operation.
    public var retries: Int
    /// Answers with status 429.
    public var tooManyRequests: Int
    /// Latency percentiles (nearest rank) over the attempts with a recorded latency.
    public var p50: Int?
    public var p95: Int?
    public var max: Int?
    /// Latency histogram: counts per upper bound of ``OperationStats/latencyBounds`` (last bucket: above).
    public var histogram: [Int]

    /// Upper bounds (ms) of the latency histogram buckets; a final bucket holds the rest.
    public static let latencyBounds = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000]

    public static func == (a: OperationStats, b: OperationStats) -> Bool {
        a.operation == b.operation && a.sent == b.sent && a.retries == b.retries && a.tooManyRequests == b.tooManyRequests
            && a.p50 == b.p50 && a.p95 == b.p95 && a.max == b.max && a.histogram == b.histogram
            && a.byStatus.map(\.status) == b.byStatus.map(\.status) && a.byStatus.map(\.count) == b.byStatus.map(\.count)
    }
}

/// API calls per time bucket (by when each call finished, else when it was sent).
public struct Throughput: Sendable, Equatable {
    /// Width of one bucket.
    public var bucketSeconds: Int
    /// Start of the first bucket.
    public var start: Date?
    /// Per bucket: calls answered 2xx, and all the others (retryable, rejected, lost, …).
    public var succeeded: [Int]
    public var other: [Int]
}

/// Rows rejected or failed for the same reason.
public struct ReasonGroup: Sendable, Equatable {
    /// `rejected` or `failed`.
    public var state: RowState
    /// The field named by the reason (`row` for the record as a whole).
    public var field: String
    /// The message with digits replaced by `#` (so "line 5" and "line 9" group together).
    public var pattern: String
    public var count: Int
    /// Up to three examples: where, which customer, the exact message.
    public var examples: [ReasonExample]
}

/// One example line of a ``ReasonGroup``.
public struct ReasonExample: Sendable, Equatable {
    public var batchPath: String
    public var line: Int
    public var customerID: String?
    public var message: String
}

/// A rejected or failed row: its original cells and why.
/// A `needs_review` row: where it is, and why the job could not decide.
public struct ReviewRow: Sendable, Equatable {
    public var rowID: Int64
    public var batchPath: String
    public var line: Int
    public var customerID: String?
    public var reason: String
}

public struct RejectRow: Sendable, Equatable {
    public var batchPath: String
    public var line: Int
    public var state: RowState
    /// The row's cells (``RowRecord/cells``): as read when rejected, from its request when it failed.
    public var cells: RawRecord
    /// `field: message` pairs.
    public var reasons: [FieldIssue]
    /// API attempts recorded for the row (all runs).
    public var attempts: Int
}

/// What a `reconcile` run's report adds: the run it reconciled, what it found (from the history,
/// also once a later reconciliation replaced its breaks), and the previous reconciliation of that run.
public struct ReconciliationRunInfo: Sendable, Equatable {
    /// The run reconciled.
    public var reconciled: RunInfo
    /// This reconciliation, and the one before it of the same run (nil: it was the first).
    public var found: ReconciliationLogEntry
    public var previous: ReconciliationLogEntry?
    /// The later `reconcile` whose record replaced this one's breaks; nil while they are the ones shown.
    public var replacedBy: Int64?

    /// The figures compared with the previous reconciliation: (name, before, now), before nil
    /// when there was none. One list for every report.
    public var comparison: [(name: String, key: String, before: Int?, now: Int)] {
        func line(_ name: String, _ value: (ReconciliationLogEntry) -> Int) -> (name: String, key: String, before: Int?, now: Int) {
            let words = name.split(separator: " ")
            let key = words.enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }.joined()
            return (name, key, previous.map(value), value(found))
        }
        return [
            line("open breaks") { $0.counts.openBreaks }, line("high priority") { $0.counts.highPriorityOpenBreaks },
            line("new") { $0.counts.newBreaks }, line("persisting") { $0.counts.persistingBreaks },
            line("resolved") { $0.counts.resolvedBreaks }, line("accepted") { $0.accepted },
            line("opening") { $0.counts.openingBreaks }, line("compared cashiers") { $0.counts.compared },
            line("not read back") { $0.unread },
            line("deposit requests missing") { $0.depositChecks?.missing ?? 0 },
            line("deposit requests duplicated") { $0.depositChecks?.duplicated ?? 0 },
            line("foreign deposit requests") { $0.depositChecks?.foreign ?? 0 },
        ]
    }

    /// One sentence: which run this reconciled, when, and what it is compared with.
    public var headline: String {
        "Reconciliation of run \(reconciled.id) made by this run on \(Format.iso(found.reconciledAt))"
            + (found.method == .readBack ? " from a read-back" : " from the ledger")
            + (replacedBy.map { "; its breaks were replaced by run \($0)'s reconciliation (`cashier-batch report --run \($0)`), the counts below are its own" } ?? "")
            + (previous.map { "; compared with the previous reconciliation of run \(reconciled.id), made by run \($0.madeByRunID) on \(Format.iso($0.reconciledAt))" }
                ?? "; the first reconciliation of run \(reconciled.id)")
    }
}

/// Counts and totals compared with the previous sending run of the same ledger.
public struct PreviousRunDiff: Sendable, Equatable {
    public var run: RunInfo
    public var counts: RowCounts
    public var totals: [ReconciliationTotals]
    /// Breaks of the previous run that were not resolved.
    public var openBreaks: Int
}

/// The verdict at the top of every report.
public struct Verdict: Sendable, Equatable {
    /// `ok`, `warning` or `failure`.
    public var level: String
    /// One sentence.
    public var text: String
    /// The night's exit code as it stands: the run's own, raised to 4 when a reconciliation made
    /// after it (`reconcile`) found open breaks the run did not know of. The worse code wins.
    public var exitCode: Int32?

    init(data: ReportData) {
        let run = data.run
        let openBreaks = data.breaks.filter(\.isOpenDrift)
        let highPriority = openBreaks.filter(\.isHighPriorityDrift).count
        var parts: [String] = []
        exitCode = run.exitCode.map { code in
            [0, 3].contains(code) && !openBreaks.isEmpty ? 4 : code
        }
        // Deposit requests sent twice or missing lead: they are money, and a person must act.
        let duplicated = openBreaks.count(where: { $0.field == .depositRequestDuplicate })
        let missing = openBreaks.count(where: { $0.field == .depositRequestMissing })
        if duplicated + missing > 0 {
            var found: [String] = []
            if duplicated > 0 { found.append("\(duplicated) customer\(duplicated == 1 ? " holds" : "s hold") more than one deposit request for one row (sent twice)") }
            if missing > 0 { found.append("\(missing) row\(missing == 1 ? "'s" : "s'") deposit request\(missing == 1 ? " is" : "s are") missing at Rebilly") }
            let foreign = data.depositChecks.map(\.foreign) ?? 0
            parts.append("Reconciliation found deposit requests that need a person: " + found.joined(separator: ", ")
                + (foreign > 0 ? " (\(foreign) other client\(foreign == 1 ? "'s" : "s'") deposit request\(foreign == 1 ? "" : "s") in the rows' windows, not the job's)" : ""))
        }
        let unfinishedShards: [ShardSummary] = data.shards.filter { (shard: ShardSummary) -> Bool in
            shard.run.status == .running || shard.run.status == .crashed || shard.run.exitCode == nil
        }
        if !data.shards.isEmpty {
            parts.append("\(data.shards.count) shard\(data.shards.count == 1 ? "" : "s") merged")
        }
        switch (run.status, run.exitCode) {
        case _ where !unfinishedShards.isEmpty:
            level = "failure"
            parts.append(unfinishedShards.map { "shard \($0.label) (run \($0.run.id)) \($0.run.status == .crashed ? "crashed" : $0.run.status == .running ? "is still running" : "has no exit code")" }
                .joined(separator: ", ") + "; the night is not finished")
        case (.running, _): level = "warning"; parts.append("Run \(run.id) is still running (or died unnoticed)")
        case (.crashed, _): level = "failure"; parts.append("Run \(run.id) crashed; the next run recovers it")
        case (_, let code?):
            switch code {
            case 0 where !data.unread.isEmpty: level = "failure"; parts.append("Every row sent or already done, but not reconciled")
            case 0 where !openBreaks.isEmpty:
                level = "warning"
                parts.append("Every row sent or already done" + (duplicated + missing > 0 ? "" : ", but reconciliation found breaks"))
            case 0: level = "ok"; parts.append("Clean run: every row sent or already done")
            case 3:
                level = "warning"
                parts.append(data.counts.needsReview > 0 && data.counts.rejected + data.counts.failed == 0
                    ? "Finished with rows that need review" : "Finished with rejected or failed rows")
            case 4: level = "warning"; parts.append("Finished with reconciliation breaks")
            case 5:
                level = "warning"
                let left = data.counts.failed + data.counts.inDoubt + data.counts.unfinished
                parts.append("Stopped at the window's end: \(left) row\(left == 1 ? "" : "s") left for retry")
            case 65: level = "failure"; parts.append("A batch was refused (unreadable, bad header or control totals); nothing of it was sent")
            case 69: level = "failure"; parts.append("The API was unavailable after retries; re-run later")
            case 75: level = "failure"; parts.append("Another run held the ledger lock")
            case 77: level = "failure"; parts.append("Credentials refused by the API (401/403); the run stopped")
            case 130, 143: level = "failure"; parts.append("Interrupted by a signal; re-run to resume")
            default: level = "failure"; parts.append("Ended with exit code \(code)")
            }
            if !data.shards.isEmpty, code != 0 {
                let worst: [String] = data.shards.filter { (shard: ShardSummary) -> Bool in shard.run.exitCode == code }.map { $0.label }
                parts[parts.count - 1] += " (worst exit code \(code), of shard\(worst.count == 1 ? "" : "s") \(worst.joined(separator: ", ")))"
            }
        case (_, nil): level = "warning"; parts.append("Run \(run.id) has no exit code")
        }
        if !data.unread.isEmpty {
            parts.append("\(data.unread.count) cashier\(data.unread.count == 1 ? "" : "s") could not be read back, so neither matched nor broken: run `cashier-batch reconcile` again")
            level = "failure"
        }
        let c = data.counts
        parts.append("\(c.done) done, \(c.skipped) skipped, \(c.rejected) rejected, \(c.failed) failed, \(c.inDoubt) in doubt"
            + (c.needsReview > 0 ? ", \(c.needsReview) need review" : "") + " of \(c.read) read")
        if c.needsReview > 0, level == "ok" { level = "warning" }
        if !openBreaks.isEmpty {
            parts.append("\(openBreaks.count) open break\(openBreaks.count == 1 ? "" : "s")"
                + (highPriority > 0 ? " (\(highPriority) high priority: pendingPayoutTotal)" : ""))
            if level == "ok" { level = "warning" }
        }
        if !c.closes {
            parts.append("row accounting does NOT close")
            level = "failure"
        }
        if duplicated > 0 { level = "failure" } else if missing > 0, level == "ok" { level = "warning" }
        // After the deposit headline, the run's own sentence goes on in lower case.
        if duplicated + missing > 0, parts.count > 1, let first = parts[1].first {
            parts[1] = first.lowercased() + parts[1].dropFirst()
        }
        text = parts.joined(separator: "; ") + "."
    }
}
