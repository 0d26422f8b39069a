import Foundation

/// One row's life in a send pass, as a value: the one home of its states and transitions.
/// Each event (an answer, a failure with its meaning, a listing's verdict, a stop) moves it to
/// its next state and returns the actions to carry out, in order: ledger writes, a token to take,
/// a call to send, a pause, a listing, parking or the end. It does no I/O and never waits;
/// `RowSender` carries the actions out and tells it what came of them.
///
/// Of the actions returned at once, only the last is answered with an event: `takePermit` with
/// ``permitted()`` or ``stopped()``, `recordIntent` and `recordOutcomeThenIntent` with
/// ``intentRecorded(_:)``, `send` with ``answered(status:latency:id:)`` or ``failed(_:)``,
/// `readPosts` with ``postsRead(_:thisRun:now:)``, `takePage` with ``pageTaken(complete:)`` or
/// ``listingStuck(_:)``, `judge` with one of the `listed…` events. `park` and `end` end the pass.
public struct RowLifecycle: Sendable {
    /// What the night allows a row.
    public struct Settings: Sendable, Equatable {
        /// Whether the row's deposit request is made (`--no-deposits` turns it off).
        public var deposits: Bool
        /// Attempts of one call before the row gives up on it (`--max-attempts`).
        public var maxAttempts: Int
        /// Seconds after its last deposit POST before an in-doubt row can be listed.
        public var settleSeconds: Double

        public init(deposits: Bool, maxAttempts: Int, settleSeconds: Double) {
            self.deposits = deposits
            self.maxAttempts = maxAttempts
            self.settleSeconds = settleSeconds
        }
    }

    /// Where the row's pass stands.
    public enum State: Sendable, Equatable {
        case idle
        /// The cashier's create, at its `attempt`-th attempt.
        case cashier(attempt: Int)
        /// The cashier answered; the deposit request's token is being taken, so that the cashier's
        /// outcome and the deposit request's intent are one write at the deposit's send time.
        case chaining
        /// The deposit request's create, at its `attempt`-th attempt.
        case deposit(attempt: Int)
        /// In doubt: reading when its deposit POSTs were sent.
        case readingPosts
        /// In doubt: listing its deposit requests, `page`'s `attempt`-th attempt.
        case listing(page: Int, attempt: Int)
        /// The listing is whole; its verdict (the ownership rule's) is awaited.
        case judging
        /// In doubt until its last POST has settled; it holds no worker meanwhile.
        case parked(until: Date)
        case ended(RowOutcome)
    }

    /// What the sender carries out next.
    public enum Action: Sendable, Equatable {
        /// Take the call's share of the budget: a write token, or a read permit for a listing.
        case takePermit(AttemptOperation)
        /// Record the call's intent durably before it is sent.
        case recordIntent(AttemptOperation)
        /// The cashier's outcome and the intent of `next` in one write (its token is taken).
        case recordOutcomeThenIntent(AttemptRecord, next: AttemptOperation)
        /// Send the attempt whose intent is `attemptID`.
        case send(AttemptOperation, attemptID: Int64)
        /// Record how an attempt ended, with the row's move if any.
        case recordOutcome(AttemptRecord)
        /// Move the row alone (`candidates`: the deposit requests a `needs_review` row is to be decided between).
        case move(RowTransition, candidates: [String])
        /// Take the cashier an earlier night recorded for the row's customer (no `POST /cashiers`).
        case adoptKnownCashier
        /// The known cashier is gone at Rebilly: the row no longer counts as one that took it.
        case forgetKnownCashier
        /// Wait before the next attempt: the server's pause, or a backoff.
        case backOff(after: CallFailure, attempt: Int)
        /// Read when the row's deposit POSTs were sent.
        case readPosts
        /// Start listing the row's deposit requests over the window from `firstPost` to now.
        case openListing(firstPost: Date)
        /// Take the page just answered into the listing.
        case takePage
        /// Weigh the listing against what the row sent at `posts` (the ownership rule).
        case judge(posts: [Date])
        /// Set the row aside until `until`; the pass sends it again then.
        case park(until: Date)
        case end(RowOutcome)
    }

    /// An attempt's outcome as the ledger records it, with the row's move when it has one.
    public struct AttemptRecord: Sendable, Equatable {
        public var attemptID: Int64
        public var httpStatus: Int?
        public var latencyMs: Int
        public var error: String?
        public var returnedID: String?
        public var outcome: AttemptOutcome
        public var transition: RowTransition?
        /// The cashier's figures from its answer are stored with it.
        public var withFigures: Bool

        public init(attemptID: Int64, httpStatus: Int?, latencyMs: Int, error: String?, returnedID: String?,
                    outcome: AttemptOutcome, transition: RowTransition? = nil, withFigures: Bool = false) {
            self.attemptID = attemptID
            self.httpStatus = httpStatus
            self.latencyMs = latencyMs
            self.error = error
            self.returnedID = returnedID
            self.outcome = outcome
            self.transition = transition
            self.withFigures = withFigures
        }
    }

    /// Where the row's cashier id came from in this pass: whether a "cashier gone" answer to its
    /// deposit request can be cured by making the cashier (not when this pass just made it).
    enum Origin { case madeNow, known, earlier }

    public internal(set) var state: State = .idle
    /// The row's state in the ledger, as this pass has moved it.
    public internal(set) var rowState: RowState
    let row: CashierRow?
    let hasSource: Bool
    let cashierID: String?
    let known: Bool
    let settings: Settings
    var origin = Origin.earlier
    /// The attempt waiting for its answer.
    var attemptID: Int64 = 0
    /// The cashier's answer, recorded with the deposit request's intent once its token is taken.
    var cashierAnswer: AttemptRecord?
    /// When the row's deposit POSTs were sent, and how many of them in this run.
    var posts: [Date] = []
    var postsThisRun = 0

    /// A row as the ledger holds it. `row`: its typed request (nil when it no longer validates;
    /// `hasSource`: its cells were kept). `known`: an earlier night recorded the customer's cashier.
    public init(row: CashierRow?, hasSource: Bool, state: RowState, cashierID: String?, known: Bool, settings: Settings) {
        self.row = row
        self.hasSource = hasSource
        self.rowState = state
        self.cashierID = cashierID
        self.known = known
        self.settings = settings
    }

    /// Milliseconds of a duration, as the attempt log stores latencies.
    public static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The one rule: Rebilly answered a deposit-request create 422 with an `invalidFields` entry on
    /// `customerId` saying there is no cashier for the customer, website and currency (the cashier
    /// the row names was deleted at Rebilly). A 422 created nothing, so the row makes its cashier
    /// and sends the deposit request again.
    public static func cashierGone(_ failure: CallFailure) -> Bool {
        failure.kind == .rowFinal && failure.status == 422
            && failure.invalidFields.contains { $0.field == "customerId" && $0.message.lowercased().hasPrefix("no cashier") }
    }
}
