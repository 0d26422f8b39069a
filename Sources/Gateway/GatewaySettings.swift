import CashierModel
import Throttle

/// How the gateway talks to Rebilly for one command: built once from `--rate`, `--burst`,
/// `--max-attempts`, `--in-doubt-settle` and the shard split.
public struct GatewaySettings: Sendable {
    /// The command's share of the write budget, non-GET requests as Rebilly counts them
    /// (already divided for `--shard i/N`).
    public var rate: RateSpec
    /// Reads (GETs: read-backs, listings) in flight at once; they take no write token.
    public var readConcurrency: Int = 8
    /// An optional rate for reads (nil: bounded by their concurrency alone).
    public var readRate: RateSpec?
    /// Token-bucket burst (nil: derived from the rate).
    public var burst: Int?
    /// Attempts per call before it is given up (429, 5xx, timeouts, connection errors).
    public var maxAttempts: Int = 6
    /// Full-jitter backoff between attempts of one call.
    public var backoff = Backoff(base: .milliseconds(100), cap: .seconds(20))
    /// How long after an unanswered deposit POST the job waits before listing to see whether
    /// it was created (the server may still commit a request whose answer was lost).
    public var inDoubtSettleSeconds: Double = 60
    /// How far this machine's clock and Rebilly's may disagree: a listed deposit request's
    /// createdTime may lie that far outside a row's window (see ``DepositOwnership``).
    public var clockToleranceSeconds: Double = DepositOwnership.defaultClockTolerance
    /// What a 429 or 503 multiplies the rate by. Paced 2 % under the configured rate, a 429
    /// is a request that crossed the server's window edge late, not a rate far too high.
    public var decreaseFactor: Double = 0.75
    /// The rate never falls below this fraction of the configured one: a flaky API slows the
    /// command down, it does not stall it.
    public var floorFraction: Double = 0.25
    /// Requests in a row failing with the same cause that is not the rows' (no answer, a
    /// refused connection, a redirect, a 404 on a collection path) before the command stops (69).
    public var nightFailureBurst: Int = 20
    /// Successes that bring the rate from half back to the configured one.
    public var recoverySuccesses: Int = 20

    public init(rate: RateSpec, burst: Int? = nil, maxAttempts: Int = 6, inDoubtSettleSeconds: Double = 60) {
        self.rate = rate
        self.burst = burst
        self.maxAttempts = maxAttempts
        self.inDoubtSettleSeconds = inDoubtSettleSeconds
    }
}
