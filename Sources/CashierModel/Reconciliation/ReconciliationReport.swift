import Foundation

/// How a reconciliation got Rebilly's figures (`reconciliations.method`).
public enum ReconciliationMethod: String, Sendable, CaseIterable, Codable, Hashable {
    /// From the figures the ledger holds (the create answers, or an earlier read-back); no network.
    /// `run` and `retry` end with it.
    case ledger
    /// A `GET /cashiers/{id}` of every cashier and a listing of the deposit requests (`reconcile`).
    case readBack = "readback"
}

/// The result of reconciling one run: breaks with their lifecycle, totals per
/// (websiteId, currency), the row accounting per batch, the deposit-request checks and
/// counts. The reconciler makes it, the ledger records it once per run
/// (``Ledger/recordReconciliation(_:)``), and every report of the run reads that record.
///
/// Money is exact: integer minor units (`Int64` per cashier, `Int128` for sums), written as
/// exact decimal text at the currency's ISO 4217 exponent (`"1234.50"`, `"15000"`, `"0.125"`).
public struct ReconciliationReport: Sendable, Equatable {
    /// The run whose batches were reconciled (and under whose id the breaks are recorded).
    public var runID: Int64
    /// `.ledger` at the end of `run` and `retry`, `.readBack` for `reconcile`.
    public var method: ReconciliationMethod
    /// When this reconciliation was made (UTC).
    public var reconciledAt: Date
    /// The run whose recorded breaks were the baseline for the lifecycle (the most recent
    /// earlier run that recorded any); nil when there was none.
    public var baselineRunID: Int64?
    /// Every break: open ones (``BreakLifecycle/new``, ``BreakLifecycle/persisting``) and
    /// the ones ``BreakLifecycle/resolved`` by this run. Sorted: high priority first, then
    /// open before resolved, then websiteId, customerId, currency, field.
    public var breaks: [Break]
    /// One entry per (websiteId, currency) met in the run's valid rows, sorted by websiteId then currency.
    public var totals: [ReconciliationTotals]
    /// One entry per batch of the run, in batch id order.
    public var accounting: [BatchAccountingCheck]
    /// The deposit-request checks; nil when not made (``reconcileFromLedger`` never calls the API).
    public var depositChecks: DepositRequestChecks?
    /// Headline counts.
    public var counts: ReconciliationCounts
    /// Cashiers that could not be read back (or whose deposit requests could not be listed):
    /// neither matched nor broken. `reconcile` exits 69 while any remain.
    public var unread: [UnreadCashier] = []
    /// The run that made this reconciliation: ``runID`` itself at the end of `run`/`retry`, or the
    /// `reconcile` run.
    public var madeByRunID: Int64
    /// Acceptances whose difference this reconciliation found changed (or gone): they end when it
    /// is recorded, and their breaks are open again.
    public var endedAcceptances: [Int64] = []

    /// The open breaks (new and persisting).
    public var openBreaks: [Break] { breaks.filter(\.isOpen) }
    /// `true` when at least one break is open: the run ends with exit code 4 unless a worse one applies.
    public var hasOpenBreaks: Bool { counts.openBreaks > 0 }
    /// `true` when the accounting identity holds for every batch.
    public var accountingHolds: Bool { accounting.allSatisfy(\.holds) }

    public init(
        runID: Int64, method: ReconciliationMethod, reconciledAt: Date, baselineRunID: Int64?,
        breaks: [Break], totals: [ReconciliationTotals], accounting: [BatchAccountingCheck],
        depositChecks: DepositRequestChecks?, counts: ReconciliationCounts
    ) {
        self.runID = runID
        self.method = method
        self.reconciledAt = reconciledAt
        self.baselineRunID = baselineRunID
        self.breaks = breaks
        self.totals = totals
        self.accounting = accounting
        self.depositChecks = depositChecks
        self.counts = counts
        self.madeByRunID = runID
    }
}

/// One reconciliation in the history (`reconciliation_log`): what it found, by the run that made
/// it, kept after a later reconciliation of the same run replaced its record.
public struct ReconciliationLogEntry: Sendable, Equatable {
    /// The run that made it (a `reconcile`, or the reconciled run itself).
    public var madeByRunID: Int64
    /// The run it reconciled.
    public var runID: Int64
    public var method: ReconciliationMethod
    public var reconciledAt: Date
    public var counts: ReconciliationCounts
    public var depositChecks: DepositRequestChecks?
    /// Breaks covered by an acceptance, and cashiers not read back.
    public var accepted: Int
    public var unread: Int

    public init(madeByRunID: Int64, runID: Int64, method: ReconciliationMethod, reconciledAt: Date, counts: ReconciliationCounts,
                depositChecks: DepositRequestChecks?, accepted: Int, unread: Int) {
        self.madeByRunID = madeByRunID
        self.runID = runID
        self.method = method
        self.reconciledAt = reconciledAt
        self.counts = counts
        self.depositChecks = depositChecks
        self.accepted = accepted
        self.unread = unread
    }
}

/// Totals of one (websiteId, currency) of a run.
public struct ReconciliationTotals: Sendable, Equatable, Hashable {
    public var websiteID: String
    /// ISO 4217 code.
    public var currency: String
    /// The currency's minor-unit exponent.
    public var exponent: Int
    /// Valid rows staged in the run's batches (the input).
    public var inputRows: Int
    /// Of those, rows `done` (in this run or an earlier one).
    public var sentRows: Int
    /// Cashiers compared with Rebilly's figures (the "rebilly" column sums these).
    public var comparedCashiers: Int
    /// Per figure, in ``Figure`` order: balance, bonusBalance, pendingPayoutTotal.
    public var figures: [FigureTotals]
    /// Opening cashiers (made this night) with at least one figure that differs from the batch or
    /// is unreadable. Their known differences are counted and summed here, not recorded one by one.
    public var openingCashiers: Int

    public init(websiteID: String, currency: String, exponent: Int, inputRows: Int, sentRows: Int,
                comparedCashiers: Int, figures: [FigureTotals], openingCashiers: Int = 0) {
        self.websiteID = websiteID
        self.currency = currency
        self.exponent = exponent
        self.inputRows = inputRows
        self.sentRows = sentRows
        self.comparedCashiers = comparedCashiers
        self.figures = figures
        self.openingCashiers = openingCashiers
    }

    /// No row yet: zero input, nothing compared.
    public init(websiteID: String, currency: String, exponent: Int) {
        self.init(websiteID: websiteID, currency: currency, exponent: exponent, inputRows: 0, sentRows: 0, comparedCashiers: 0,
                  figures: Figure.allCases.map { FigureTotals(figure: $0, exponent: exponent, inputMinor: 0, sentMinor: 0) })
    }

    /// The totals of one figure.
    public subscript(figure: Figure) -> FigureTotals {
        get { figures.first { $0.figure == figure } ?? FigureTotals(figure: figure, exponent: exponent, inputMinor: 0, sentMinor: 0) }
        set {
            if let index = figures.firstIndex(where: { $0.figure == figure }) { figures[index] = newValue } else { figures.append(newValue) }
        }
    }

    /// Exact decimal text of minor units at this entry's exponent.
    public func text(_ minor: Int128) -> String { Amount.format(minor, exponent: exponent) }

    /// The sums of two parts of a night (shards): Rebilly's side is known only when both know it.
    public func adding(_ other: ReconciliationTotals) -> ReconciliationTotals {
        var sum = self
        sum.inputRows += other.inputRows
        sum.sentRows += other.sentRows
        sum.comparedCashiers += other.comparedCashiers
        sum.openingCashiers += other.openingCashiers
        for figure in Figure.allCases {
            let a = self[figure], b = other[figure]
            func add(_ x: Int128?, _ y: Int128?) -> Int128? { x.flatMap { x in y.map { x + $0 } } }
            var f = FigureTotals(figure: figure, exponent: exponent, inputMinor: a.inputMinor + b.inputMinor,
                                 sentMinor: a.sentMinor + b.sentMinor)
            f.rebillyMinor = add(a.rebillyMinor, b.rebillyMinor)
            f.netDifferenceMinor = add(a.netDifferenceMinor, b.netDifferenceMinor)
            f.grossDifferenceMinor = add(a.grossDifferenceMinor, b.grossDifferenceMinor)
            f.openingDifferenceMinor = add(a.openingDifferenceMinor, b.openingDifferenceMinor)
            f.openingDifferences = a.openingDifferences + b.openingDifferences
            sum[figure] = f
        }
        return sum
    }

    /// The same input and sent sums, with Rebilly's side unknown (not reconciled).
    public var withoutComparison: ReconciliationTotals {
        var copy = self
        copy.comparedCashiers = 0
        copy.openingCashiers = 0
        copy.figures = figures.map { FigureTotals(figure: $0.figure, exponent: $0.exponent, inputMinor: $0.inputMinor, sentMinor: $0.sentMinor) }
        return copy
    }
}

/// Exact sums of one figure for one (websiteId, currency), in `Int128` minor units. Rebilly's
/// side (rebilly, net, gross, opening) is nil when it is not known: nothing was compared.
public struct FigureTotals: Sendable, Equatable, Hashable {
    public var figure: Figure
    /// The currency's minor-unit exponent.
    public var exponent: Int
    /// Σ over every valid staged row (absent = 0).
    public var inputMinor: Int128
    /// Σ over the rows `done` in this run or before.
    public var sentMinor: Int128
    /// Σ of Rebilly's figures over the compared cashiers (a figure Rebilly reported
    /// unreadably counts 0 and is a break of its own).
    public var rebillyMinor: Int128?
    /// Σ (Rebilly − batch) over the compared established cashiers: +10.00 and −10.00 give 0.
    public var netDifferenceMinor: Int128?
    /// Σ |Rebilly − batch| over the compared established cashiers: +10.00 and −10.00 give 20.00.
    public var grossDifferenceMinor: Int128?
    /// Σ (Rebilly − batch) over opening cashiers (their first night), kept out of the drift above.
    public var openingDifferenceMinor: Int128?
    /// Opening cashiers whose figure differs from the batch by a known amount (summed in
    /// ``openingDifferenceMinor``); an unreadable figure is a break of its own.
    public var openingDifferences: Int

    public init(figure: Figure, exponent: Int, inputMinor: Int128, sentMinor: Int128, rebillyMinor: Int128? = nil,
                netDifferenceMinor: Int128? = nil, grossDifferenceMinor: Int128? = nil, openingDifferenceMinor: Int128? = nil,
                openingDifferences: Int = 0) {
        self.figure = figure
        self.exponent = exponent
        self.inputMinor = inputMinor
        self.sentMinor = sentMinor
        self.rebillyMinor = rebillyMinor
        self.netDifferenceMinor = netDifferenceMinor
        self.grossDifferenceMinor = grossDifferenceMinor
        self.openingDifferenceMinor = openingDifferenceMinor
        self.openingDifferences = openingDifferences
    }

    /// Exact decimal texts at ``exponent``.
    public var input: String { Amount.format(inputMinor, exponent: exponent) }
    public var sent: String { Amount.format(sentMinor, exponent: exponent) }
    public var rebilly: String? { rebillyMinor.map { Amount.format($0, exponent: exponent) } }
    public var netDifference: String? { netDifferenceMinor.map { Amount.format($0, exponent: exponent) } }
    public var grossDifference: String? { grossDifferenceMinor.map { Amount.format($0, exponent: exponent) } }
    public var openingDifference: String? { openingDifferenceMinor.map { Amount.format($0, exponent: exponent) } }
}

/// The row accounting of one batch for the run: the records read from the file, the rows the
/// ledger holds for it (their states now), and whether `read == staged == the sum of the states`.
public struct BatchAccountingCheck: Sendable, Equatable, Hashable, Codable {
    public var batchID: Int64
    /// Its SHA-256 (lower-case hex).
    public var sha256: String
    /// The path it was first read from.
    public var path: String
    /// Records read from the file (`batches.row_count`, set when staging finished).
    public var read: Int
    /// The batch's rows in the ledger by state (`rows.read` is the rows staged).
    public var rows: RowCounts
    /// What is off, one sentence each (empty when the identity holds), e.g.
    /// `"3 rows unfinished (pending or cashier_created)"`.
    public var problems: [String]

    public init(batchID: Int64, sha256: String, path: String, read: Int, rows: RowCounts, problems: [String]) {
        self.batchID = batchID
        self.sha256 = sha256
        self.path = path
        self.read = read
        self.rows = rows
        self.problems = problems
    }

    /// `true` when `read == staged == done + skipped + rejected + failed + inDoubt + needsReview + unfinished`.
    public var holds: Bool { problems.isEmpty }
}

/// What the deposit-request checks of ``Reconciler/reconcileWithReadBack(runID:client:limiter:record:)`` found.
/// Every `done` row with a recorded deposit request must have exactly one at Rebilly
/// (listed for its customer and website, its currency, created since its first deposit attempt).
public struct DepositRequestChecks: Sendable, Equatable, Hashable, Codable {
    /// `done` rows whose deposit requests were listed.
    public var checkedRows: Int
    /// Rows with exactly one, the recorded one.
    public var matched: Int
    /// Rows with none (or not the recorded one): each is a ``BreakField/depositRequestMissing`` break.
    public var missing: Int
    /// Rows with more than one: each is a ``BreakField/depositRequestDuplicate`` break.
    public var duplicated: Int
    /// `done` rows without a deposit request id (deposits turned off): not checked.
    public var notApplicable: Int
    /// Rows whose list call failed after retries (neither matched nor a break; see the run's log).
    public var unverified: Int
    /// Deposit requests of the checked customers, inside their rows' windows, that the job did
    /// not make (another client's: they differ from what the job sent). Not breaks.
    public var foreign: Int = 0

    /// Memberwise initialiser.
    public init(checkedRows: Int, matched: Int, missing: Int, duplicated: Int, notApplicable: Int, unverified: Int, foreign: Int = 0) {
        self.foreign = foreign
        self.checkedRows = checkedRows
        self.matched = matched
        self.missing = missing
        self.duplicated = duplicated
        self.notApplicable = notApplicable
        self.unverified = unverified
    }
}

/// Headline counts of a reconciliation.
public struct ReconciliationCounts: Sendable, Equatable, Hashable, Codable {
    /// Valid rows staged in the run's batches.
    public var inputRows: Int
    /// Distinct cashiers (websiteId, customerId, currency) of the run that have a Rebilly cashier id.
    public var cashiers: Int
    /// Of those, compared with Rebilly's figures.
    public var compared: Int
    /// Of those, no figures known (no recorded reply, read-back failed): not compared.
    public var notCompared: Int
    /// `GET /cashiers/{id}` calls made (read-back only; retries included).
    public var readBackRequests: Int
    /// Cashiers whose read-back failed after retries; compared from the ledger's figures instead.
    public var readBackFailures: Int
    /// Breaks first seen now.
    public var newBreaks: Int
    /// Breaks seen before and still open (including carried-forward ones).
    public var persistingBreaks: Int
    /// Breaks open in the baseline and gone now.
    public var resolvedBreaks: Int
    /// `newBreaks + persistingBreaks`, opening and accepted breaks left out.
    public var openBreaks: Int
    /// Open breaks of high priority (`pendingPayoutTotal`).
    public var highPriorityOpenBreaks: Int
    /// Open breaks per field (raw value of ``BreakField``); fields without breaks are absent.
    public var openBreaksByField: [String: Int]
    /// Differences on opening cashiers (their first night), not counted in ``openBreaks``: the
    /// ones counted in the totals plus the open opening breaks recorded one by one.
    public var openingBreaks: Int = 0
    /// Compared cashiers Rebilly reports as unable to withdraw (`canWithdraw: false`).
    public var cannotWithdraw: Int = 0

    /// The counts of a reconciliation that found `breaks`: drift, accepted and opening breaks apart
    /// (an accepted break is in none of the drift counts). `openingDifferences` are the opening
    /// differences counted in the totals and not among `breaks`.
    public init(breaks: [Break], inputRows: Int = 0, cashiers: Int = 0, compared: Int = 0, readBackRequests: Int = 0,
                readBackFailures: Int = 0, cannotWithdraw: Int = 0, openingDifferences: Int = 0) {
        let drift = breaks.filter { !$0.opening && $0.acceptance == nil }
        let open = drift.filter(\.isOpen)
        self.inputRows = inputRows
        self.cashiers = cashiers
        self.compared = compared
        self.notCompared = cashiers - compared
        self.readBackRequests = readBackRequests
        self.readBackFailures = readBackFailures
        newBreaks = drift.count { $0.lifecycle == .new }
        persistingBreaks = drift.count { $0.lifecycle == .persisting }
        resolvedBreaks = drift.count { $0.lifecycle == .resolved }
        openBreaks = open.count
        highPriorityOpenBreaks = open.count { $0.priority == .high }
        openBreaksByField = Dictionary(open.map { ($0.field.rawValue, 1) }, uniquingKeysWith: +)
        openingBreaks = openingDifferences + breaks.count { $0.opening && $0.isOpen }
        self.cannotWithdraw = cannotWithdraw
    }
}

/// A cashier `reconcile` could not look at, and why: it is neither matched nor broken.
public struct UnreadCashier: Sendable, Equatable, Codable {
    public var websiteID: String
    public var customerID: String
    public var currency: String
    public var cashierID: String?
    /// What failed, e.g. "GET /cashiers/{id} failed 4 times: HTTP 503 …".
    public var reason: String

    public init(websiteID: String, customerID: String, currency: String, cashierID: String?, reason: String) {
        self.websiteID = websiteID
        self.customerID = customerID
        self.currency = currency
        self.cashierID = cashierID
        self.reason = reason
    }
}
