import CashierModel
import Foundation
import Ledger

/// The three cashier figures that are reconciled, by their API names.
public enum ReconciledFigure: String, Sendable, CaseIterable, Codable, Hashable {
    /// `balance`: the customer's withdrawable balance.
    case balance
    /// `bonusBalance`: bonus money.
    case bonusBalance
    /// `pendingPayoutTotal`: the sum of pending payout requests, i.e. the most the
    /// customer can "reverse withdraw". A break on it is high priority.
    case pendingPayoutTotal
}

/// What a break is about (`breaks.field` in the ledger, same raw values).
public enum BreakField: String, Sendable, CaseIterable, Codable, Hashable {
    /// Batch `balance` ≠ Rebilly's.
    case balance
    /// Batch `bonusBalance` ≠ Rebilly's.
    case bonusBalance
    /// Batch `pendingPayoutTotal` ≠ Rebilly's. Always ``BreakPriority/high``.
    case pendingPayoutTotal
    /// A `done` row whose deposit request Rebilly does not list (none since the row's
    /// first deposit attempt, or not the one the ledger recorded).
    case depositRequestMissing
    /// A `done` row for which Rebilly lists more than one deposit request since the
    /// row's first deposit attempt (`detail` names the ids).
    case depositRequestDuplicate

    /// The money figure, for the three figure fields; nil for the deposit-request fields.
    public var figure: ReconciledFigure? { ReconciledFigure(rawValue: rawValue) }
    /// `true` for ``depositRequestMissing`` and ``depositRequestDuplicate``.
    public var isDepositRequest: Bool { figure == nil }
}

/// How urgent a break is.
public enum BreakPriority: String, Sendable, CaseIterable, Codable, Hashable, Comparable {
    /// Every break that is not high priority.
    case normal
    /// A `pendingPayoutTotal` break: it bounds what a customer can reverse-withdraw.
    case high

    public static func < (lhs: BreakPriority, rhs: BreakPriority) -> Bool { lhs == .normal && rhs == .high }
}

/// Where Rebilly's figures of a comparison came from.
public enum FigureSource: String, Sendable, CaseIterable, Codable, Hashable {
    /// The ledger: the cashier reply the sender recorded (`POST /cashiers` 201/200), or
    /// the last read-back stored by an earlier `reconcile`; no network.
    case ledger
    /// A `GET /cashiers/{id}` made by this reconciliation (`reconcile`).
    case readBack
}

/// The result of reconciling one run: breaks with their lifecycle, totals per
/// (websiteId, currency), the row accounting per batch, the deposit-request checks and
/// counts. Produced by ``Reconciler/reconcileFromLedger(runID:record:)`` and
/// ``Reconciler/reconcileWithReadBack(runID:client:limiter:record:)``.
///
/// A plain `Sendable` value with no connection to the ledger. Money is exact: integer
/// minor units (`Int64` per cashier, `Int128` for sums) next to exact decimal strings
/// at the currency's ISO 4217 exponent (`"1234.50"`, `"15000"`, `"0.125"`). Nothing here
/// ever held a binary floating-point value.
public struct ReconciliationReport: Sendable, Equatable {
    /// The run whose batches were reconciled (and under whose id the breaks are recorded).
    public var runID: Int64
    /// `.ledger` for ``Reconciler/reconcileFromLedger(runID:record:)`` (the end of `run`),
    /// `.readBack` for ``Reconciler/reconcileWithReadBack(runID:client:limiter:record:)`` (`reconcile`).
    public var source: FigureSource
    /// When this reconciliation was made (UTC).
    public var reconciledAt: Date
    /// The run whose recorded breaks were the baseline for the lifecycle (the most recent
    /// earlier run that recorded any); nil when there was none.
    public var baselineRunID: Int64?
    /// Every break: open ones (``BreakLifecycle/new``, ``BreakLifecycle/persisting``) and
    /// the ones ``BreakLifecycle/resolved`` by this run. Sorted: high priority first, then
    /// open before resolved, then websiteId, customerId, currency, field.
    public var breaks: [ReconciliationBreak]
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

    /// The open breaks (new and persisting).
    public var openBreaks: [ReconciliationBreak] { breaks.filter { $0.lifecycle != .resolved } }
    /// `true` when at least one break is open: the run ends with exit code 4 unless a worse one applies.
    public var hasOpenBreaks: Bool { counts.openBreaks > 0 }
    /// `true` when the accounting identity holds for every batch.
    public var accountingHolds: Bool { accounting.allSatisfy(\.holds) }

    /// Memberwise initialiser (reports tests build reports by hand).
    public init(
        runID: Int64, source: FigureSource, reconciledAt: Date, baselineRunID: Int64?,
        breaks: [ReconciliationBreak], totals: [ReconciliationTotals], accounting: [BatchAccountingCheck],
        depositChecks: DepositRequestChecks?, counts: ReconciliationCounts
    ) {
        self.runID = runID
        self.source = source
        self.reconciledAt = reconciledAt
        self.baselineRunID = baselineRunID
        self.breaks = breaks
        self.totals = totals
        self.accounting = accounting
        self.depositChecks = depositChecks
        self.counts = counts
    }
}

/// One difference between the operator's batch and Rebilly, for one cashier and one
/// field, with its life across runs. Keyed across runs by
/// (`websiteID`, `customerID`, `currency`, `field`).
public struct ReconciliationBreak: Sendable, Equatable, Hashable {
    /// The cashier's website.
    public var websiteID: String
    /// The customer.
    public var customerID: String
    /// ISO 4217 code.
    public var currency: String
    /// The currency's minor-unit exponent (JPY 0, USD 2, BHD 3); all `*Minor` values use it.
    public var exponent: Int
    /// What differs.
    public var field: BreakField
    /// ``BreakPriority/high`` for `pendingPayoutTotal`, else ``BreakPriority/normal``.
    public var priority: BreakPriority
    /// ``BreakLifecycle/new`` (first seen now), ``BreakLifecycle/persisting`` (seen in the
    /// baseline too), ``BreakLifecycle/resolved`` (open in the baseline, gone now).
    public var lifecycle: BreakLifecycle

    /// The operator's figure (the batch; an absent figure is 0), minor units. nil for a
    /// deposit break (not money). For a resolved break: the value when it was last open.
    public var expectedMinor: Int64?
    /// Rebilly's figure, minor units (a figure Rebilly omits counts 0); nil when Rebilly's
    /// text is not a valid amount of the currency (see ``actualText``), the cashier was not
    /// found, or for a deposit break. For a resolved break: the value when it was last open.
    public var actualMinor: Int64?
    /// `actualMinor − expectedMinor` (Rebilly minus operator), minor units; nil when either is nil.
    public var differenceMinor: Int64?
    /// ``expectedMinor`` as exact decimal text (`"100.50"`). For a deposit break found now:
    /// the number of deposit requests expected (`"1"`).
    public var expected: String?
    /// ``actualMinor`` as exact decimal text. For a deposit break found now: the number of
    /// deposit requests Rebilly lists (`"0"`, `"2"`).
    public var actual: String?
    /// ``differenceMinor`` as exact signed decimal text (`"-10.00"`, `"0.125"`). For a deposit
    /// break found now: found − expected (`"-1"`, `"1"`).
    public var difference: String?
    /// The figure exactly as Rebilly wrote it, when it came from the API (`"1500.1"`).
    public var actualText: String?

    /// The run that first saw this break (this run for a new one).
    public var firstSeenRunID: Int64
    /// When it was first seen.
    public var firstSeenAt: Date
    /// Whole UTC calendar days from ``firstSeenAt`` to the reconciliation (0 for a new break
    /// or one first seen earlier the same day).
    public var nightsOpen: Int
    /// Reconciliations in a row that found it open, this one included (1 for a new break).
    /// For a resolved break: how many times it was seen open.
    public var timesSeen: Int
    /// `false` when this run did not look at the cashier again (its row is not in the run's
    /// batches, or the deposit checks were not made): the break is carried forward as
    /// persisting from the baseline, unchanged, rather than declared resolved.
    public var rechecked: Bool
    /// Where Rebilly's figure came from (nil for a carried-forward or resolved break).
    public var source: FigureSource?
    /// The ledger row concerned, when known.
    public var rowID: Int64?
    /// Rebilly's cashier id, when known.
    public var cashierID: String?
    /// Free text: the deposit-request ids of a duplicate, why a figure is unknown, what a
    /// resolved break's figures are now, …
    public var detail: String?
    /// The cashier's first night: Rebilly created it in this run and holds no history for it,
    /// so its figures cannot agree yet. Reported and totalled apart from drift; never a reason for exit 4.
    public var opening: Bool = false
    /// Whether the customer can withdraw, as Rebilly reported it (2026-07; nil when not reported).
    public var canWithdraw: Bool?

    /// Memberwise initialiser.
    public init(
        websiteID: String, customerID: String, currency: String, exponent: Int, field: BreakField,
        priority: BreakPriority, lifecycle: BreakLifecycle, expectedMinor: Int64?, actualMinor: Int64?,
        differenceMinor: Int64?, expected: String?, actual: String?, difference: String?, actualText: String?,
        firstSeenRunID: Int64, firstSeenAt: Date, nightsOpen: Int, timesSeen: Int, rechecked: Bool,
        source: FigureSource?, rowID: Int64?, cashierID: String?, detail: String?
    ) {
        self.websiteID = websiteID
        self.customerID = customerID
        self.currency = currency
        self.exponent = exponent
        self.field = field
        self.priority = priority
        self.lifecycle = lifecycle
        self.expectedMinor = expectedMinor
        self.actualMinor = actualMinor
        self.differenceMinor = differenceMinor
        self.expected = expected
        self.actual = actual
        self.difference = difference
        self.actualText = actualText
        self.firstSeenRunID = firstSeenRunID
        self.firstSeenAt = firstSeenAt
        self.nightsOpen = nightsOpen
        self.timesSeen = timesSeen
        self.rechecked = rechecked
        self.source = source
        self.rowID = rowID
        self.cashierID = cashierID
        self.detail = detail
    }
}

/// Totals of one (websiteId, currency) of a run.
public struct ReconciliationTotals: Sendable, Equatable, Hashable {
    /// The website.
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
    /// Per figure, in ``ReconciledFigure`` order: balance, bonusBalance, pendingPayoutTotal.
    public var figures: [FigureTotals]

    /// The totals of one figure.
    public subscript(figure: ReconciledFigure) -> FigureTotals? { figures.first { $0.figure == figure } }

    /// Memberwise initialiser.
    public init(websiteID: String, currency: String, exponent: Int, inputRows: Int, sentRows: Int,
                comparedCashiers: Int, figures: [FigureTotals]) {
        self.websiteID = websiteID
        self.currency = currency
        self.exponent = exponent
        self.inputRows = inputRows
        self.sentRows = sentRows
        self.comparedCashiers = comparedCashiers
        self.figures = figures
    }
}

/// Exact sums of one figure for one (websiteId, currency). Minor units are `Int128`;
/// each has its exact decimal text at the currency's exponent.
public struct FigureTotals: Sendable, Equatable, Hashable {
    /// Which figure.
    public var figure: ReconciledFigure
    /// Σ over every valid staged row (absent = 0).
    public var inputMinor: Int128
    /// Σ over the rows `done` in this run or before.
    public var sentMinor: Int128
    /// Σ of Rebilly's figures over the compared cashiers (a figure Rebilly reported
    /// unreadably counts 0 and is a break of its own).
    public var rebillyMinor: Int128
    /// Σ (Rebilly − batch) over the compared cashiers: +10.00 and −10.00 give 0.
    public var netDifferenceMinor: Int128
    /// Σ |Rebilly − batch| over the compared cashiers: +10.00 and −10.00 give 20.00.
    public var grossDifferenceMinor: Int128
    /// ``inputMinor`` as exact decimal text.
    public var input: String
    /// ``sentMinor`` as exact decimal text.
    public var sent: String
    /// ``rebillyMinor`` as exact decimal text.
    public var rebilly: String
    /// ``netDifferenceMinor`` as exact signed decimal text.
    public var netDifference: String
    /// ``grossDifferenceMinor`` as exact decimal text.
    public var grossDifference: String
    /// Rebilly − batch summed over opening cashiers (their first night), kept out of the drift above.
    public var openingDifferenceMinor: Int128
    public var openingDifference: String

    /// Builds the totals and their texts at `exponent`.
    public init(figure: ReconciledFigure, exponent: Int, inputMinor: Int128, sentMinor: Int128,
                rebillyMinor: Int128, netDifferenceMinor: Int128, grossDifferenceMinor: Int128,
                openingDifferenceMinor: Int128 = 0) {
        self.openingDifferenceMinor = openingDifferenceMinor
        self.openingDifference = MoneyText.format(openingDifferenceMinor, exponent: exponent)
        self.figure = figure
        self.inputMinor = inputMinor
        self.sentMinor = sentMinor
        self.rebillyMinor = rebillyMinor
        self.netDifferenceMinor = netDifferenceMinor
        self.grossDifferenceMinor = grossDifferenceMinor
        self.input = MoneyText.format(inputMinor, exponent: exponent)
        self.sent = MoneyText.format(sentMinor, exponent: exponent)
        self.rebilly = MoneyText.format(rebillyMinor, exponent: exponent)
        self.netDifference = MoneyText.format(netDifferenceMinor, exponent: exponent)
        self.grossDifference = MoneyText.format(grossDifferenceMinor, exponent: exponent)
    }
}

/// The row accounting of one batch for the run:
/// `read = done + skipped + rejected + failed + inDoubt` (+ `unfinished`, only after an interruption).
public struct BatchAccountingCheck: Sendable, Equatable, Hashable {
    /// The batch.
    public var batchID: Int64
    /// Its SHA-256 (lower-case hex).
    public var sha256: String
    /// The path it was first read from.
    public var path: String
    /// Records read from the file (`batches.row_count`, set when staging finished).
    public var read: Int
    /// Rows the ledger holds for the batch (should equal ``read``).
    public var staged: Int
    /// Rows done by this run (or a later one).
    public var done: Int
    /// Rows already done before this run (not sent again).
    public var skipped: Int
    /// Rows rejected (validation or the API).
    public var rejected: Int
    /// Rows failed.
    public var failed: Int
    /// Rows in doubt (a deposit request may exist).
    public var inDoubt: Int
    /// Rows still `pending` or `cashier_created` (an interrupted run).
    public var unfinished: Int
    /// `true` when `read == staged == done + skipped + rejected + failed + inDoubt`.
    public var holds: Bool
    /// What is off, one sentence each (empty when ``holds``), e.g.
    /// `"3 rows unfinished (pending or cashier_created)"`.
    public var problems: [String]

    /// Memberwise initialiser.
    public init(batchID: Int64, sha256: String, path: String, read: Int, staged: Int, done: Int, skipped: Int,
                rejected: Int, failed: Int, inDoubt: Int, unfinished: Int, holds: Bool, problems: [String]) {
        self.batchID = batchID
        self.sha256 = sha256
        self.path = path
        self.read = read
        self.staged = staged
        self.done = done
        self.skipped = skipped
        self.rejected = rejected
        self.failed = failed
        self.inDoubt = inDoubt
        self.unfinished = unfinished
        self.holds = holds
        self.problems = problems
    }
}

/// What the deposit-request checks of ``Reconciler/reconcileWithReadBack(runID:client:limiter:record:)`` found.
/// Every `done` row with a recorded deposit request must have exactly one at Rebilly
/// (listed for its customer and website, its currency, created since its first deposit attempt).
public struct DepositRequestChecks: Sendable, Equatable, Hashable {
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
public struct ReconciliationCounts: Sendable, Equatable, Hashable {
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
    /// `newBreaks + persistingBreaks`, opening breaks left out.
    public var openBreaks: Int
    /// Open breaks of high priority (`pendingPayoutTotal`).
    public var highPriorityOpenBreaks: Int
    /// Open breaks per field (raw value of ``BreakField``); fields without breaks are absent.
    public var openBreaksByField: [String: Int]
    /// Open breaks on opening cashiers (their first night), not counted in ``openBreaks``.
    public var openingBreaks: Int = 0
    /// Compared cashiers Rebilly reports as unable to withdraw (`canWithdraw: false`).
    public var cannotWithdraw: Int = 0

    /// Memberwise initialiser.
    public init(inputRows: Int, cashiers: Int, compared: Int, notCompared: Int, readBackRequests: Int,
                readBackFailures: Int, newBreaks: Int, persistingBreaks: Int, resolvedBreaks: Int,
                openBreaks: Int, highPriorityOpenBreaks: Int, openBreaksByField: [String: Int]) {
        self.inputRows = inputRows
        self.cashiers = cashiers
        self.compared = compared
        self.notCompared = notCompared
        self.readBackRequests = readBackRequests
        self.readBackFailures = readBackFailures
        self.newBreaks = newBreaks
        self.persistingBreaks = persistingBreaks
        self.resolvedBreaks = resolvedBreaks
        self.openBreaks = openBreaks
        self.highPriorityOpenBreaks = highPriorityOpenBreaks
        self.openBreaksByField = openBreaksByField
    }
}

/// Exact decimal text of minor units (delegates to `CashierModel.Amount.format`).
public enum MoneyText {
    /// `format(-1000, exponent: 2)` is `"-10.00"`; `format(5, exponent: 3)` is `"0.005"`.
    public static func format(_ minor: Int128, exponent: Int) -> String { Amount.format(minor, exponent: exponent) }
}

/// A cashier `reconcile` could not look at, and why: it is neither matched nor broken.
public struct UnreadCashier: Sendable, Equatable {
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
