import CashierModel
import Foundation
import RebillyClient
import Synchronization
import Throttle

/// Something the gateway did that the operator may want to see (progress lines, logs).
public enum GatewayEvent: Sendable, Equatable {
    /// A 429 or 503: the requests of its budget wait `pauseSeconds`, until `untilEpoch` (epoch
    /// seconds on the server's clock) when the server named it, and the rate goes down; or, at
    /// the job's own window edge (`edge`), one grant interval with the rate kept.
    case throttled(status: Int, pauseSeconds: Double?, untilEpoch: Double?, edge: Bool = false)
}

/// The one way the job talks to Rebilly: every request of a command goes through one
/// gateway, built once from the command's options. It owns
///
/// - the two budgets: writes (non-GET requests, the ones Rebilly counts) through the rate
///   limiter (AIMD with the job's decrease factor and a floor), reads through their own
///   ``ReadGate`` (concurrency, an optional rate): no read ever waits for a write token;
/// - the full-jitter backoff between attempts, and the pauses a 429 or 503 asks for
///   (measured on the server's clock, see ``RateLimitInfo``);
/// - the classification of every failure (``CallFailure``): the row's fault, retryable (and
///   whether it may have been applied), misdirected, or the end of the command (401/403);
/// - the keyset listing of deposit requests (``DepositListing``) and the one rule for which
///   listed deposit request is a row's (``DepositOwnership``).
///
/// A row's calls go attempt by attempt (``permit(_:)``, then an `attempt…` operation), so that
/// its lifecycle records each attempt's intent before it is sent and its outcome after; other
/// calls go whole, with their retries (``call(budget:_:)``).
public final class RebillyGateway: Sendable {
    /// Which budget a call spends: Rebilly counts non-GET requests only.
    public enum Budget: Sendable, Equatable {
        /// A POST: one write token an attempt.
        case write
        /// A GET: a read permit an attempt, no write token.
        case read
    }

    /// How a call ended, after its retries.
    public enum Outcome<Value: Sendable>: Sendable {
        case succeeded(Value)
        /// The row is wrong (422, other 4xx): never sent again.
        case rowFinal(CallFailure)
        /// Retryable failures until `--max-attempts`.
        case exhausted(CallFailure)
        /// The command is stopping (a signal, 401/403, the ledger): nothing more is sent.
        case stopped
    }

    /// The HTTP client: the gateway's own; callers use its typed operations.
    let client: RebillyClient
    public let settings: GatewaySettings
    public let control: RunControl
    /// The one rule for which listed deposit request belongs to a row.
    public let ownership: DepositOwnership
    let limiter: RateLimiter
    let reads: ReadGate
    let clock: any ThrottleClock
    let events: @Sendable (GatewayEvent) -> Void
    /// The night-level failures since the last answer that was not one, by cause.
    let nightFailures = Mutex<[String: Int]>([:])
    /// Rebilly's own count of the write budget, from the first write answer that carried it.
    let firstQuota = Mutex<WriteQuota?>(nil)

    /// `X-RateLimit-Limit` and `X-RateLimit-Remaining` of a write's answer.
    public struct WriteQuota: Sendable, Equatable {
        public var limit: Int
        public var remaining: Int
    }

    /// Rebilly's count of the write budget on the command's first write answer that carried
    /// one (nil until then, or when Rebilly sends none).
    public var firstWriteQuota: WriteQuota? { firstQuota.withLock { $0 } }

    public init(client: RebillyClient, settings: GatewaySettings, control: RunControl,
                clock: any ThrottleClock = SystemThrottleClock(), events: @escaping @Sendable (GatewayEvent) -> Void = { _ in }) {
        self.client = client
        self.settings = settings
        self.control = control
        self.clock = clock
        self.events = events
        self.ownership = DepositOwnership(clockTolerance: settings.clockToleranceSeconds)
        limiter = RateLimiter(settings.rate.withJitterMargin(), burst: settings.burst, floorFraction: settings.floorFraction,
                              recoverySuccesses: settings.recoverySuccesses, decreaseFactor: settings.decreaseFactor, clock: clock)
        reads = ReadGate(permits: settings.readConcurrency, rate: settings.readRate, clock: clock)
    }

    /// Closes the HTTP client. Call once, after the command's last request.
    public func shutdown() async {
        try? await client.shutdown()
    }

    /// Seconds until `writes` more write tokens could all have been granted, as the write
    /// budget stands (its bucket, window, pause and rate): `--until` and the forecast ask this.
    public func secondsToWrites(_ writes: Int) async -> Double {
        await limiter.timeToGrant(writes).seconds
    }

    /// The limiter's state (progress lines, tests).
    public var limiterStatus: RateLimiter.Status { get async { await limiter.status } }

    /// One call with its retries, each attempt spending `budget`: a read, or a write that is safe
    /// to repeat (a cashier create: 200 returns the existing one).
    public func call<Value: Answered>(
        budget: Budget = .write, _ send: @escaping @Sendable () async throws(RebillyError) -> Value
    ) async throws -> Outcome<Value> {
        var attempt = 0
        while true {
            attempt += 1
            guard let permit = try await permit(budget) else { return .stopped }
            switch try await self.attempt(permit, send) {
            case let .success(value):
                return .succeeded(value)
            case let .failure(failure):
                switch failure.kind {
                case .stopCommand: return .stopped
                case .rowFinal: return .rowFinal(failure)
                case .retryable, .misdirected:
                    // A misdirected call is never retried: repeating it cannot help.
                    guard failure.isRetried(afterAttempt: attempt, of: settings.maxAttempts) else { return .exhausted(failure) }
                    if control.isStopped { return .stopped }
                    try await pause(after: failure, attempt: attempt)
                }
            }
        }
    }

    // MARK: - Typed operations

    /// An answered cashier create or read.
    public typealias CashierAnswer = CashierResult
    /// An answered deposit-request create or read.
    public typealias DepositRequestAnswer = DepositRequestResult
    /// One answered page of a deposit-request listing.
    public typealias DepositRequestListPage = DepositRequestPage

    /// `GET /cashiers/{id}`, a read.
    public func readCashier(id: String) async throws -> Outcome<CashierAnswer> {
        try await call(budget: .read) { [client] () async throws(RebillyError) -> CashierAnswer in
            try await client.getCashier(id: id)
        }
    }

    /// `GET /deposit-requests/{id}`, a read.
    public func readDepositRequest(id: String) async throws -> Outcome<DepositRequestAnswer> {
        try await call(budget: .read) { [client] () async throws(RebillyError) -> DepositRequestAnswer in
            try await client.getDepositRequest(id: id)
        }
    }

    /// Rebilly's largest `limit` and `offset` (`collectionLimit`, `collectionOffset`).
    public static let depositPageSize = 1000

    /// Which deposit requests a listing asks for: a website's, or one customer's on it, created
    /// from `createdFrom` to `createdTo` (this machine's clock; whole seconds, inclusive).
    public struct DepositScope: Sendable, Hashable {
        public var websiteId: String
        public var customerId: String?
        public var createdFrom: Date
        public var createdTo: Date

        public init(websiteId: String, customerId: String? = nil, window: ClosedRange<Date>) {
            self.websiteId = websiteId
            self.customerId = customerId
            self.createdFrom = window.lowerBound
            self.createdTo = window.upperBound
        }

        /// How the scope reads in a message.
        var name: String { customerId.map { "customer \(Printable.text($0))'s on \(websiteId)" } ?? websiteId + "'s" }
    }

    /// Every deposit request in `scope`, handed to `body` a page at a time (each request once),
    /// so a night's listing is never held whole: a ``DepositListing``, each page a call of its own.
    /// Returns how many were handed over. A listing that cannot be completed, or a page that
    /// fails, ends it `.exhausted` (or `.rowFinal`), never short.
    public func listDepositRequests(_ scope: DepositScope, pageSize: Int = depositPageSize,
                                    pages body: ([DepositRequest]) throws -> Void) async throws -> Outcome<Int> {
        var listing = DepositListing(scope, pageSize: pageSize)
        var count = 0
        while true {
            switch try await call(budget: .read, pageRequest(listing)) {
            case let .succeeded(answer):
                let fresh = listing.take(answer)
                count += fresh.count
                try body(fresh)
                if let stuck = listing.stuck { return .exhausted(stuck) }
                if listing.isComplete { return .succeeded(count) }
            case let .rowFinal(failure): return .rowFinal(failure)
            case let .exhausted(failure): return .exhausted(failure)
            case .stopped: return .stopped
            }
        }
    }

    /// Every deposit request in `scope`, held whole (a window of a few).
    public func listDepositRequests(_ scope: DepositScope, pageSize: Int = depositPageSize) async throws -> Outcome<[DepositRequest]> {
        var items: [DepositRequest] = []
        switch try await listDepositRequests(scope, pageSize: pageSize, pages: { items += $0 }) {
        case .succeeded: return .succeeded(items)
        case let .rowFinal(failure): return .rowFinal(failure)
        case let .exhausted(failure): return .exhausted(failure)
        case .stopped: return .stopped
        }
    }

    /// Counts failures that are the night's: `nightFailureBurst` of them in a row (no other
    /// answer between) stops the command, named by their most frequent cause. A silent server
    /// fails some requests as "no answer" and others as "no connection": one night's fault.
    func countNightFailure(_ failure: CallFailure) {
        let burst: (cause: String, count: Int)? = nightFailures.withLock { causes in
            guard let cause = failure.nightCause else { causes = [:]; return nil }
            causes[cause, default: 0] += 1
            let count = causes.values.reduce(0, +)
            // Exactly at the burst: one caller stops the command, with the count it reached.
            guard count == settings.nightFailureBurst else { return nil }
            let top = causes.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!
            return (top.key, count)
        }
        if let burst {
            control.stop(.apiUnreachable("\(burst.cause) (\(burst.count) requests in a row)"))
        }
    }

    // MARK: - Rate

    /// One visit to the limiter at most: none when the rate is already the configured one and
    /// the answer carried no quota headers (nothing would change).
    func succeeded(_ rateLimit: RateLimitInfo) async {
        let hasQuota = rateLimit.limit != nil && rateLimit.remaining != nil
        if let limit = rateLimit.limit, let remaining = rateLimit.remaining {
            firstQuota.withLock { quota in if quota == nil { quota = WriteQuota(limit: limit, remaining: remaining) } }
        }
        guard hasQuota || limiter.isRecovering else { return }
        await limiter.succeeded(limit: rateLimit.limit, remaining: rateLimit.remaining)
    }

    /// A 429 or 503. A write: the limiter decides (a short pause at its own window edge, the
    /// server's pause and a lower rate otherwise; nothing for a request already on its way when
    /// an earlier 429 came back). A read: every read waits until the server's instant.
    func throttled(_ failure: CallFailure, budget: Budget, sentAt: ContinuousClock.Instant) async {
        var until = failure.retryAfter
        var edge = false
        if budget == .write {
            switch await limiter.throttled(sentAt: sentAt, retryAfter: until) {
            case .sibling: until = nil  // counted; its pause was set by the earlier 429
            case let .edge(instant): until = instant; edge = true
            case .full: break
            }
        } else {
            await reads.throttled(until: until)
        }
        let seconds = until.map { instant -> Double in
            let wait = clock.now.duration(to: instant)
            return max(0, Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
        }
        events(.throttled(status: failure.status ?? 0, pauseSeconds: seconds,
                          untilEpoch: edge || until == nil ? nil : failure.retryAfterEpochSeconds, edge: edge))
    }

    /// Takes a write token, or gives up as soon as the command stops: at a low `--rate` a caller
    /// can wait minutes for its turn, and a signal must not. False when stopped (no token taken).
    func writeToken() async throws -> Bool {
        if await limiter.tryAcquire() { return true }
        let limiter = self.limiter
        return try await unlessStopped { try await limiter.acquire() }
    }

    /// Runs `wait` unless the command stops first (looked at every 50 ms): true when `wait`
    /// ended, false when the command stopped (`wait` is cancelled).
    func unlessStopped(_ wait: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        if control.isStopped { return false }
        let control = self.control
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await wait()
                return true
            }
            group.addTask {
                while !control.isStopped { try await Task.sleep(for: .milliseconds(50)) }
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
