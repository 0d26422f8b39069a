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

/// Gathers a ``ReportData`` from the ledger: one pass over the rows of the run's
/// batches (totals, reasons, rejects), the run's attempts (requests, latency,
/// throughput) and its breaks.
public struct ReportBuilder: Sendable {
    public let ledger: Ledger
    /// Timestamp of generation (tests inject a fixed one).
    public var now: @Sendable () -> Date

    public init(ledger: Ledger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.ledger = ledger
        self.now = now
    }

    /// The report of run `runID` (default: the newest run that is not `validate`).
    ///
    /// - Parameter reconciliation: The reconciliation the caller just made (`run`,
    ///   `reconcile`): its breaks, totals, accounting and deposit checks are used as they
    ///   are. When nil, the breaks recorded in the ledger for the run are shown and the
    ///   totals are recomputed from the ledger (``Reconciler/reconcileFromLedger(runID:record:)``
    ///   with `record: false`: nothing is written).
    public func build(runID: Int64? = nil, reconciliation: ReconciliationReport? = nil) throws -> ReportData {
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
        var data = try core(run: run, details: true)
        let report = reconciliation ?? (data.batches.isEmpty ? nil
            : try? Reconciler(ledger: ledger, clock: now).reconcileFromLedger(runID: run.id, record: false))
        // A recomputation that compared no cashier knows nothing about Rebilly: leave the columns empty.
        if let report, report.runID == run.id, reconciliation != nil || report.counts.compared > 0 {
            Self.apply(report, to: &data, breaksToo: reconciliation != nil)
        }
        if let previous = try previousRun(before: run) {
            let old = try core(run: previous, details: false)
            data.previous = PreviousRunDiff(run: old.run, counts: old.counts, totals: old.totals,
                                            openBreaks: old.breaks.filter(\.isOpenDrift).count)
        }
        data.lastSuccessAt = try ledger.runs(limit: 1000)
            .first { $0.id <= run.id && Self.isSuccess($0) }?.finishedAt
        return data
    }

    /// A run "succeeded" when it went to its end and its exit code is 0, 3 (rows
    /// rejected/failed: the input's fault) or 4 (breaks: reconciliation's finding).
    public static func isSuccess(_ run: RunRecord) -> Bool {
        run.status == .finished && [0, 3, 4].contains(run.exitCode ?? -1)
    }

    /// The previous sending run (`run`/`retry`) of the same ledger.
    /// The night command before `run`, unless `prune` removed its rows.
    func previousRun(before run: RunRecord) throws -> RunRecord? {
        guard let previous = try ledger.lastRun(of: RunRecord.nightCommands, before: run.id),
              try ledger.batches(runID: previous.id).allSatisfy({ $0.prunedAt == nil }) else { return nil }
        return previous
    }

    private func core(run record: RunRecord, details: Bool) throws -> ReportData {
        let run = RunInfo(id: record.id, command: record.command, status: record.status, startedAt: record.startedAt,
                          finishedAt: record.finishedAt, exitCode: record.exitCode)
        var batches: [BatchInfo] = []
        var counts = RowCounts()
        var totals: [TotalsKey: TotalsEntry] = [:]
        var reasons: [ReasonKey: ReasonGroup] = [:]
        var rejects: [RejectRow] = []
        var reviews: [ReviewRow] = []
        for batch in try ledger.batches(runID: record.id) {
            let a = try ledger.accounting(runID: record.id, batchID: batch.id)
            var c = RowCounts()
            c.read = a.read; c.done = a.done; c.skipped = a.skippedDone; c.rejected = a.rejected
            c.failed = a.failed; c.inDoubt = a.inDoubt; c.needsReview = a.needsReview; c.unfinished = a.unfinished
            counts = counts + c
            batches.append(BatchInfo(id: batch.id, path: batch.path, sha256: batch.sha256, format: batch.format.rawValue,
                                     gzip: batch.gzip, controlVerdict: batch.controlVerdict, counts: c))
            try ledger.forEachRow(batchID: batch.id) { row in
                if row.payloadHash != nil, let request = row.request() {
                    Self.addTotals(request.cashier, state: row.state, to: &totals)
                }
                if row.state == .needsReview {
                    let reason = Self.issues(row.reasonsJSON).map(\.message).joined(separator: "; ")
                    reviews.append(ReviewRow(rowID: row.id, batchPath: batch.path, line: row.line, customerID: row.customerID, reason: reason))
                }
                guard details, row.state == .rejected || row.state == .failed else { return }
                let issues = Self.issues(row.reasonsJSON)
                rejects.append(RejectRow(batchPath: batch.path, line: row.line, state: row.state, sourceJSON: row.sourceJSON,
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
        let breakRecords = try ledger.breaks(runID: record.id)
        let breaksRecordedAt = breakRecords.map(\.createdAt).max()
        var breaks = breakRecords.map { Self.breakInfo($0, runStartedAt: record.startedAt) }
        // canWithdraw is Rebilly's, stored with the figures: the latest the break was judged on.
        var withdrawable: [Int64: Bool?] = [:]
        for (index, b) in breakRecords.enumerated() {
            guard let rowID = b.rowID else { continue }
            if withdrawable[rowID] == nil {
                withdrawable[rowID] = try ledger.remoteFigures(rowID: rowID)
                    .filter { $0.observedAt <= b.createdAt }.max { $0.id < $1.id }?.figures.canWithdraw
            }
            breaks[index].canWithdraw = withdrawable[rowID] ?? nil
        }
        let reconciled = !breakRecords.isEmpty
        var entries = totals.values.sorted { ($0.websiteID, $0.currency) < ($1.websiteID, $1.currency) }
        if reconciled { Self.applyBreaks(breaks, to: &entries) }

        var data = ReportData(
            run: run, batches: batches, counts: counts, requests: [], throughput: Throughput(bucketSeconds: 1, succeeded: [], other: []),
            totals: entries, breaks: breaks, reconciled: reconciled, reconciliationNotes: [],
            reasons: reasons.values.sorted { ($1.count, $0.field, $0.pattern) < ($0.count, $1.field, $1.pattern) },
            rejects: rejects, previous: nil, lastSuccessAt: nil, generatedAt: now(), breaksRecordedAt: breaksRecordedAt)
        data.reviews = reviews
        if details {
            let calls = try AttemptTally.of(ledger: ledger, runID: record.id)
            data.requests = calls.requests
            data.throughput = calls.throughput
        }
        return data
    }

    /// Takes totals (rebilly, net, gross), accounting and deposit-check notes — and,
    /// when `breaksToo`, the breaks — from a reconciliation of the run.
    static func apply(_ report: ReconciliationReport, to data: inout ReportData, breaksToo: Bool) {
        var entries: [TotalsEntry] = []
        for t in report.totals {
            var entry = data.totals.first { $0.websiteID == t.websiteID && $0.currency == t.currency }
                ?? TotalsEntry(websiteID: t.websiteID, currency: t.currency, exponent: t.exponent, rows: t.inputRows)
            for f in t.figures {
                guard let figure = CurrencyTotals.Figure(rawValue: f.figure.rawValue) else { continue }
                entry[figure] = FigureSums(input: f.inputMinor, sent: f.sentMinor, rebilly: f.rebillyMinor,
                                           net: f.netDifferenceMinor, gross: f.grossDifferenceMinor,
                                           opening: f.openingDifferenceMinor)
            }
            entry.rows = t.inputRows
            entries.append(entry)
        }
        // Keep any (website, currency) the reconciliation did not list (e.g. no valid row compared).
        for old in data.totals where !entries.contains(where: { $0.websiteID == old.websiteID && $0.currency == old.currency }) {
            entries.append(old)
        }
        data.totals = entries.sorted { ($0.websiteID, $0.currency) < ($1.websiteID, $1.currency) }
        data.reconciled = true
        if breaksToo {
            data.breaks = report.breaks.map { b in
                var info = BreakInfo(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency, field: b.field.rawValue,
                                     expectedMinor: b.expectedMinor, actualMinor: b.actualMinor, exponent: b.exponent,
                                     lifecycle: b.lifecycle, firstSeenRunID: b.firstSeenRunID, firstSeenAt: b.firstSeenAt,
                                     nightsOpen: b.nightsOpen, detail: b.detail)
                info.flaggedHigh = b.priority == .high
                info.opening = b.opening
                info.canWithdraw = b.canWithdraw
                if b.field.isDepositRequest {
                    info.expectedMinor = nil; info.actualMinor = nil
                    info.detail = Self.depositDetail(expected: b.expected, actual: b.actual, detail: b.detail)
                }
                return info
            }
        }
        var notes: [String] = []
        let c = report.counts
        notes.append("Reconciled \(c.compared) of \(c.cashiers) cashiers from \(report.source == .readBack ? "a read-back (GET /cashiers)" : "the create answers recorded in the ledger")"
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
        data.reconciliationNotes = notes
        data.unread = report.unread
    }

    // MARK: - Pieces (internal for tests)

    struct TotalsKey: Hashable { var website: String; var currency: String }
    struct ReasonKey: Hashable { var state: RowState; var field: String; var pattern: String }

    /// Adds one staged row's canonical payload to the totals (input; sent when done).
    /// Adds a valid row's figures (absent = 0) to its website's and currency's totals.
    static func addTotals(_ cashier: CashierRequest, state: RowState, to totals: inout [TotalsKey: TotalsEntry]) {
        let code = cashier.currency.code
        let key = TotalsKey(website: cashier.websiteId, currency: code)
        var entry = totals[key] ?? TotalsEntry(websiteID: cashier.websiteId, currency: code, exponent: cashier.currency.exponent, rows: 0)
        entry.rows += 1
        for figure in CurrencyTotals.Figure.allCases {
            let amount: Amount?
            switch figure {
            case .balance: amount = cashier.balance
            case .bonusBalance: amount = cashier.bonusBalance
            case .pendingPayoutTotal: amount = cashier.pendingPayoutTotal
            }
            guard let amount else { continue }
            var f = entry[figure]
            f.input += Int128(amount.minorUnits)
            if state == .done { f.sent += Int128(amount.minorUnits) }
            entry[figure] = f
        }
        totals[key] = entry
    }

    /// Fills rebilly / net / gross from the breaks of a reconciled run.
    static func applyBreaks(_ breaks: [BreakInfo], to entries: inout [TotalsEntry]) {
        for index in entries.indices {
            for figure in CurrencyTotals.Figure.allCases {
                var f = entries[index][figure]
                var net: Int128 = 0, gross: Int128 = 0, opening: Int128 = 0
                for b in breaks where b.lifecycle != .resolved && b.field == figure.rawValue
                    && b.websiteID == entries[index].websiteID && b.currency == entries[index].currency {
                    guard let d = b.differenceMinor else { continue }
                    if b.opening { opening += Int128(d); continue }
                    guard b.isOpenDrift else { continue }
                    net += Int128(d); gross += Int128(d.magnitude)
                }
                f.net = net; f.gross = gross; f.opening = opening; f.rebilly = f.sent + net + opening
                entries[index][figure] = f
            }
        }
    }

    static func breakInfo(_ b: BreakRecord, runStartedAt: Date) -> BreakInfo {
        var info = BreakInfo(websiteID: b.websiteID, customerID: b.customerID, currency: b.currency, field: b.field,
                             expectedMinor: b.expectedMinor, actualMinor: b.actualMinor, exponent: b.exponent, lifecycle: b.lifecycle,
                             firstSeenRunID: b.firstSeenRunID, firstSeenAt: b.firstSeenAt,
                             nightsOpen: nights(from: b.firstSeenAt, to: max(runStartedAt, b.firstSeenAt)), detail: b.detail)
        info.flaggedHigh = b.highPriority
        info.opening = b.opening
        if b.field.hasPrefix("depositRequest") {
            // Counts of deposit requests, not money.
            info.detail = depositDetail(expected: b.expectedMinor.map(String.init), actual: b.actualMinor.map(String.init), detail: b.detail)
            info.expectedMinor = nil; info.actualMinor = nil
        }
        return info
    }

    static func depositDetail(expected: String?, actual: String?, detail: String?) -> String {
        var parts: [String] = []
        if let expected, let actual { parts.append("expected \(expected) deposit request, Rebilly lists \(actual)") }
        if let detail, !detail.isEmpty { parts.append(detail) }
        return parts.joined(separator: "; ")
    }

    /// Whole calendar days (UTC) from `first` to `last`: same day → 0.
    static func nights(from first: Date, to last: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: first),
                                           to: calendar.startOfDay(for: last)).day ?? 0
        return days
    }

    /// `[{"field":…,"message":…}]` → issues (an unreadable text becomes one `row` issue).
    static func issues(_ reasonsJSON: String) -> [FieldIssue] {
        guard let json = try? JSONParser.parse(reasonsJSON), let items = json.arrayValue else {
            return reasonsJSON.isEmpty || reasonsJSON == "[]" ? [] : [FieldIssue(field: "row", message: reasonsJSON)]
        }
        return items.compactMap { item in
            guard let message = item["message"]?.stringValue else { return nil }
            return FieldIssue(field: item["field"]?.stringValue ?? "row", message: message)
        }
    }

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
