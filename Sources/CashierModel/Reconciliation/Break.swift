import Foundation

/// What a break is about (`breaks.field`, same raw values).
public enum BreakField: String, Sendable, CaseIterable, Codable, Hashable {
    /// Batch `balance` ≠ Rebilly's.
    case balance
    /// Batch `bonusBalance` ≠ Rebilly's.
    case bonusBalance
    /// Batch `pendingPayoutTotal` ≠ Rebilly's. Always ``BreakPriority/high``.
    case pendingPayoutTotal
    /// A `done` row whose deposit request Rebilly does not list (none in the row's window, or
    /// not the one the ledger recorded).
    case depositRequestMissing
    /// A `done` row for which Rebilly lists more than one deposit request the job may have made
    /// (`detail` names the ids).
    case depositRequestDuplicate

    /// The money figure, for the three figure fields; nil for the deposit-request fields.
    public var figure: Figure? { Figure(rawValue: rawValue) }
    /// `true` for ``depositRequestMissing`` and ``depositRequestDuplicate``: their values are counts.
    public var isDepositRequest: Bool { figure == nil }
    /// ``BreakPriority/high`` for `pendingPayoutTotal`: it bounds what a customer can reverse-withdraw.
    public var priority: BreakPriority { self == .pendingPayoutTotal ? .high : .normal }
}

/// How urgent a break is.
public enum BreakPriority: String, Sendable, CaseIterable, Codable, Hashable, Comparable {
    /// Every break that is not high priority.
    case normal
    /// A `pendingPayoutTotal` break: it bounds what a customer can reverse-withdraw.
    case high

    public static func < (lhs: BreakPriority, rhs: BreakPriority) -> Bool { lhs == .normal && rhs == .high }
}

/// Where Rebilly's figures came from (`remote_figures.source`, `breaks.source`, `reconciliations.source`).
public enum FigureSource: String, Sendable, CaseIterable, Codable, Hashable {
    /// The `POST /cashiers` answer the sender recorded (201 created, or 200 retrieved: an existing
    /// cashier keeps its old figures). `run` reconciles from these, with no network.
    case create
    /// A `GET /cashiers/{id}` made by a reconciliation (`reconcile`).
    case readBack = "readback"
}

/// One difference between the operator's batch and Rebilly, for one cashier and one field, with
/// its life across reconciliations. Keyed across runs by (websiteID, customerID, currency, field).
/// The reconciler makes it, the ledger records it (`breaks`), the reports show it.
///
/// Money is in minor units at ``exponent``. For a deposit break the values are counts of
/// deposit requests (expected 1, listed 0 or 2), not money.
public struct Break: Sendable, Equatable, Hashable {
    public var websiteID: String
    public var customerID: String
    /// ISO 4217 code.
    public var currency: String
    /// The currency's minor-unit exponent (JPY 0, USD 2, BHD 3).
    public var exponent: Int
    public var field: BreakField
    /// ``BreakLifecycle/new`` (first seen now), ``BreakLifecycle/persisting`` (open in the
    /// baseline too), ``BreakLifecycle/resolved`` (open in the baseline, gone now).
    public var lifecycle: BreakLifecycle
    /// The operator's figure (absent = 0), or the deposit requests expected. For a resolved
    /// break: the value when it was last open.
    public var expectedMinor: Int64?
    /// Rebilly's figure (absent = 0), or the deposit requests listed; nil when Rebilly's text is
    /// not a valid amount (see ``actualText``) or the cashier was not found.
    public var actualMinor: Int64?
    /// The figure exactly as Rebilly wrote it (`"1500.1"`).
    public var actualText: String?
    /// The run that first saw it (this run for a new one), and when.
    public var firstSeenRunID: Int64
    public var firstSeenAt: Date
    /// Reconciliations in a row that found it open, this one included (1 for a new break).
    public var timesSeen: Int
    /// `false` when this reconciliation did not look at the cashier again: the break is carried
    /// forward as persisting, unchanged, rather than declared resolved.
    public var rechecked: Bool
    /// Where Rebilly's figure came from (nil for a carried-forward or resolved break).
    public var source: FigureSource?
    /// The ledger row concerned, when known.
    public var rowID: Int64?
    /// Rebilly's cashier id, when known.
    public var cashierID: String?
    /// Free text: the deposit-request ids of a duplicate, why a figure is unknown, …
    public var detail: String?
    /// The cashier's first night: Rebilly created it in this run and holds no history for it, so
    /// its figures cannot agree yet. Reported and totalled apart from drift; never a reason for exit 4.
    public var opening: Bool
    /// Whether the customer can withdraw, as Rebilly reported it (nil when not reported).
    public var canWithdraw: Bool?
    /// Its id in the ledger (`breaks.id`) and the run it is recorded under; nil until recorded.
    /// `accept --break ID` names it.
    public var id: Int64? = nil
    public var runID: Int64? = nil
    /// The acceptance covering it in this reconciliation: a known difference agreed with a reason,
    /// not a reason for exit 4 while the difference stays the same.
    public var acceptance: Acceptance? = nil

    public init(
        websiteID: String, customerID: String, currency: String, exponent: Int, field: BreakField,
        lifecycle: BreakLifecycle, expectedMinor: Int64?, actualMinor: Int64?, actualText: String? = nil,
        firstSeenRunID: Int64, firstSeenAt: Date, timesSeen: Int = 1, rechecked: Bool = true,
        source: FigureSource? = nil, rowID: Int64? = nil, cashierID: String? = nil, detail: String? = nil,
        opening: Bool = false, canWithdraw: Bool? = nil
    ) {
        self.websiteID = websiteID
        self.customerID = customerID
        self.currency = currency
        self.exponent = exponent
        self.field = field
        self.lifecycle = lifecycle
        self.expectedMinor = expectedMinor
        self.actualMinor = actualMinor
        self.actualText = actualText
        self.firstSeenRunID = firstSeenRunID
        self.firstSeenAt = firstSeenAt
        self.timesSeen = timesSeen
        self.rechecked = rechecked
        self.source = source
        self.rowID = rowID
        self.cashierID = cashierID
        self.detail = detail
        self.opening = opening
        self.canWithdraw = canWithdraw
    }

    public var priority: BreakPriority { field.priority }
    /// Open (new or persisting).
    public var isOpen: Bool { lifecycle != .resolved }
    /// Open, not an opening break and not accepted: drift on an established cashier (or a deposit
    /// request missing or duplicated) that needs a person, a reason for exit 4.
    public var isOpenDrift: Bool { isOpen && !opening && acceptance == nil }
    /// Open and covered by an acceptance: a known difference, listed apart, no reason for exit 4.
    public var isAccepted: Bool { isOpen && acceptance != nil }
    /// High priority while it is open drift.
    public var isHighPriorityDrift: Bool { priority == .high && isOpenDrift }

    /// actual − expected (Rebilly minus operator), when both are known.
    public var differenceMinor: Int64? {
        guard let e = expectedMinor, let a = actualMinor else { return nil }
        return a - e
    }
    /// ``expectedMinor`` as exact decimal text (`"100.50"`), or the count for a deposit break.
    public var expected: String? { text(expectedMinor) }
    /// ``actualMinor`` as exact decimal text, or the count for a deposit break.
    public var actual: String? { text(actualMinor) }
    /// ``differenceMinor`` as exact signed decimal text (`"-10.00"`), or found − expected.
    public var difference: String? { text(differenceMinor) }

    /// Whole UTC calendar days from ``firstSeenAt`` to `date` (0 the same day).
    public func nightsOpen(at date: Date) -> Int { Self.nights(from: firstSeenAt, to: date) }

    func text(_ value: Int64?) -> String? {
        guard let value else { return nil }
        return field.isDepositRequest ? String(value) : Amount.format(Int128(value), exponent: exponent)
    }

    /// Whole calendar days (UTC) from `first` to `last`: the same day is 0, never negative.
    public static func nights(from first: Date, to last: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: first), to: calendar.startOfDay(for: last)).day ?? 0
        return max(0, days)
    }

    /// The order every list of breaks has: what needs a person first (open drift), then accepted,
    /// opening and resolved ones; within each, high priority first, deposit-request breaks before
    /// figures, then per currency the largest difference first (an unknown one leads), then
    /// websiteId, customerId, field.
    public static func order(_ a: Break, _ b: Break) -> Bool {
        let (x, y) = (a.sortKey, b.sortKey)
        if x.group != y.group { return x.group < y.group }
        if x.priority != y.priority { return x.priority > y.priority }
        if x.deposit != y.deposit { return x.deposit }
        if a.currency != b.currency { return a.currency < b.currency }
        if x.size != y.size { return x.size > y.size }
        return (a.websiteID, a.customerID, a.field.rawValue) < (b.websiteID, b.customerID, b.field.rawValue)
    }

    /// 0 open drift, 1 accepted, 2 opening, 3 resolved; the difference's size (unknown: the largest).
    private var sortKey: (group: Int, priority: BreakPriority, deposit: Bool, size: UInt128) {
        let group = isOpenDrift ? 0 : isAccepted ? 1 : lifecycle == .resolved ? 3 : 2
        let size = field.isDepositRequest ? 0 : differenceMinor.map { Int128($0).magnitude } ?? .max
        return (group, priority, field.isDepositRequest, size)
    }
}
