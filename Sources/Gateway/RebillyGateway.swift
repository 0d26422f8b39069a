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
/// - retries with full-jitter backoff up to `--max-attempts`, and the pauses a 429 or 503
///   asks for (measured on the server's clock, see ``RateLimitInfo``);
/// - the classification of every failure (``CallFailure``): the row's fault, retryable,
///   in doubt (a deposit POST without a usable answer), or the end of the command (401/403);
/// - the in-doubt wait and the one rule for which listed deposit request is a row's
///   (``DepositOwnership``).
///
/// Around every attempt it calls the caller's ``Hooks``: before sending (the intent, made
/// durable by the sender) and after the answer (the outcome), so the ledger says what was
/// sent whatever instant the process dies at.
public final class RebillyGateway: Sendable {
    /// Whether a failed attempt may simply be repeated.
    public enum Repetition: Sendable, Equatable {
        /// Repeating is harmless: a GET, or a cashier create (200 returns the existing one).
        case safe
        /// A deposit-request POST: a failure that may have been applied ends the call in doubt.
        case inDoubtWhenUnanswered
    }

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
        /// A deposit POST may have been created: list before anything is sent again.
        case inDoubt(CallFailure)
        /// Retryable failures until `--max-attempts`.
        case exhausted(CallFailure)
        /// The command is stopping (a signal, 401/403, the ledger): nothing more is sent.
        case stopped
    }

    /// What follows an attempt, told to the outcome hook with the attempt's result.
    public enum Next: Sendable, Equatable {
        case done, rowFinal, inDoubt, exhausted, retry, stopCommand
    }

    /// The caller's bookkeeping around each attempt.
    public struct Hooks<Value: Sendable>: Sendable {
        /// Called after the attempt's rate token is taken and before it is sent: records the
        /// intent and returns its id. Throwing sends nothing.
        public var intent: @Sendable (_ attempt: Int) async throws -> Int64?
        /// Called after the answer (or its absence) with what follows.
        public var outcome: @Sendable (_ attemptID: Int64?, _ result: Result<Value, CallFailure>, _ next: Next) async throws -> Void

        public init(intent: @escaping @Sendable (_ attempt: Int) async throws -> Int64?,
                    outcome: @escaping @Sendable (_ attemptID: Int64?, _ result: Result<Value, CallFailure>, _ next: Next) async throws -> Void) {
            self.intent = intent
            self.outcome = outcome
        }

        /// No bookkeeping (reads the ledger does not record).
        public static var none: Hooks { Hooks(intent: { _ in nil }, outcome: { _, _, _ in }) }
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

    /// Takes one write token for a call whose intent the caller records itself before calling
    /// ``call(_:preparedIntent:hooks:_:)`` with `preparedIntent` (one ledger write for two calls).
    /// False when the command stopped while waiting (no token taken).
    public func acquireToken() async throws -> Bool {
        try await writeToken()
    }

    /// Seconds until `writes` more write tokens could all have been granted, as the write
    /// budget stands (its bucket, window, pause and rate): `--until` and the forecast ask this.
    public func secondsToWrites(_ writes: Int) async -> Double {
        await limiter.timeToGrant(writes).seconds
    }

    /// The limiter's state (progress lines, tests).
    public var limiterStatus: RateLimiter.Status { get async { await limiter.status } }

    /// One call with its retries, each attempt spending `budget`. `preparedIntent`: the first
    /// attempt's write token is taken and its intent recorded already.
    public func call<Value: Answered>(
        _ repetition: Repetition = .safe, budget: Budget = .write, preparedIntent: Int64? = nil, hooks: Hooks<Value> = .none,
        _ send: @escaping @Sendable () async throws(RebillyError) -> Value
    ) async throws -> Outcome<Value> {
        var attempt = 0
        var prepared = preparedIntent
        while true {
            attempt += 1
            let attemptID: Int64?
            let result: Result<Value, RebillyError>
            var sentAt = clock.now
            if let intent = prepared {
                attemptID = intent
                prepared = nil
                result = try await attemptSend(send)
            } else {
                if control.isStopped { return .stopped }
                if budget == .write {
                    guard try await writeToken() else { return .stopped }
                } else {
                    try await reads.acquire()
                }
                do {
                    if control.isStopped {
                        if budget == .read { await reads.release() }
                        return .stopped
                    }
                    attemptID = try await hooks.intent(attempt)
                    sentAt = clock.now
                    result = try await attemptSend(send)
                } catch {
                    if budget == .read { await reads.release() }
                    throw error
                }
                if budget == .read { await reads.release() }
            }
            switch result {
            case let .success(value):
                nightFailures.withLock { $0 = [:] }
                if budget == .write { await succeeded(value.rateLimit) }
                try await hooks.outcome(attemptID, .success(value), .done)
                return .succeeded(value)
            case let .failure(error):
                let failure = CallFailure(error)
                if failure.isThrottle { await throttled(failure, budget: budget, sentAt: sentAt) }
                countNightFailure(failure)
                switch failure.kind {
                case .misdirected:
                    // Repeating it cannot help; the row is left for `retry`, never rejected.
                    try await hooks.outcome(attemptID, .failure(failure), .exhausted)
                    return .exhausted(failure)
                case .stopCommand:
                    control.stop(.credentialsRefused(failure.message))
                    try await hooks.outcome(attemptID, .failure(failure), .stopCommand)
                    return .stopped
                case .rowFinal:
                    try await hooks.outcome(attemptID, .failure(failure), .rowFinal)
                    return .rowFinal(failure)
                case .retryable:
                    if repetition == .inDoubtWhenUnanswered, failure.leavesInDoubt {
                        try await hooks.outcome(attemptID, .failure(failure), .inDoubt)
                        return .inDoubt(failure)
                    }
                    if attempt >= settings.maxAttempts {
                        try await hooks.outcome(attemptID, .failure(failure), .exhausted)
                        return .exhausted(failure)
                    }
                    try await hooks.outcome(attemptID, .failure(failure), .retry)
                    if control.isStopped { return .stopped }
                    try await backOff(after: failure, attempt: attempt)
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

    /// `POST /cashiers` with `body`, a write: repeating it is safe (200 returns the existing one).
    public func createCashier(body: String, hooks: Hooks<CashierAnswer> = .none) async throws -> Outcome<CashierAnswer> {
        try await call(.safe, hooks: hooks) { [client] () async throws(RebillyError) -> CashierAnswer in
            try await client.createCashier(body: body)
        }
    }

    /// `POST /deposit-requests`, a write that ends in doubt when it may have been applied
    /// unanswered. `body` is built at each attempt (its expiry follows the attempt's send time).
    /// `preparedIntent`: the first attempt's token is taken and its intent recorded already.
    public func createDepositRequest(preparedIntent: Int64? = nil, hooks: Hooks<DepositRequestAnswer> = .none,
                                     body: @escaping @Sendable () -> String) async throws -> Outcome<DepositRequestAnswer> {
        try await call(.inDoubtWhenUnanswered, preparedIntent: preparedIntent, hooks: hooks) { [client] () async throws(RebillyError) -> DepositRequestAnswer in
            try await client.createDepositRequest(body: body())
        }
    }

    /// `GET /cashiers/{id}`, a read.
    public func readCashier(id: String) async throws -> Outcome<CashierAnswer> {
        try await call(.safe, budget: .read) { [client] () async throws(RebillyError) -> CashierAnswer in
            try await client.getCashier(id: id)
        }
    }

    /// `GET /deposit-requests/{id}`, a read.
    public func readDepositRequest(id: String) async throws -> Outcome<DepositRequestAnswer> {
        try await call(.safe, budget: .read) { [client] () async throws(RebillyError) -> DepositRequestAnswer in
            try await client.getDepositRequest(id: id)
        }
    }

    /// One attempt's request, unless the ledger failed meanwhile: then nothing more is sent (the
    /// intent stays in flight and the next run checks it before sending again).
    private func attemptSend<Value: Answered>(_ send: @Sendable () async throws(RebillyError) -> Value) async throws -> Result<Value, RebillyError> {
        if case .ledgerFailed? = control.stopReason { throw CancellationError() }
        do { return .success(try await send()) } catch { return .failure(error) }
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
    /// so a night's listing is never held whole. Returns how many were handed over.
    ///
    /// Pages are keyed on createdTime, the one member of Rebilly's `x-sortable` set that orders
    /// by creation (`sort=createdTime`; Rebilly's offset stops at 1,000, so offsets cannot page
    /// a long history). After a full page the next starts at its last item's second, inclusive,
    /// at offset 0, and the ids of that second already handed over are skipped: the order within
    /// a second is Rebilly's to choose and may change between pages, so a second is always read
    /// whole. A second holding a full page or more cannot be read whole: the listing ends
    /// `.exhausted`, never short. So does a page that fails. Each page is a call of its own.
    public func listDepositRequests(_ scope: DepositScope, pageSize: Int = depositPageSize,
                                    hooks: Hooks<DepositRequestListPage> = .none,
                                    pages body: ([DepositRequest]) throws -> Void) async throws -> Outcome<Int> {
        var count = 0
        // Ids handed over in the second the next page starts at: only those can be read again.
        var seenInSecond = Set<String>()
        var from = scope.createdFrom.timeIntervalSince1970.rounded(.down)
        let to = Date(timeIntervalSince1970: scope.createdTo.timeIntervalSince1970.rounded(.up))
        func second(_ item: DepositRequest) -> Double? { item.createdTime.map { $0.timeIntervalSince1970.rounded(.down) } }
        while true {
            let start = Date(timeIntervalSince1970: from)
            switch try await call(budget: .read, hooks: hooks, { [client] () async throws(RebillyError) -> DepositRequestPage in
                try await client.listDepositRequests(websiteId: scope.websiteId, customerId: scope.customerId, createdFrom: start,
                                                     createdTo: to, sort: "createdTime", limit: pageSize, offset: 0)
            }) {
            case let .succeeded(answer):
                let fresh = answer.items.filter { second($0) != from || !seenInSecond.contains($0.id) }
                count += fresh.count
                try body(fresh)
                // A short page is the last; so is a full one that reaches the filter's total.
                if answer.items.count < pageSize || answer.total.map({ answer.items.count >= $0 }) == true {
                    return .succeeded(count)
                }
                guard let last = answer.items.last.flatMap(second), last >= from else {
                    return .exhausted(Self.listingFailure(
                        "a full page of \(scope.name) deposit requests ends without a createdTime at or after \(RFC3339.string(start))"))
                }
                guard last > from else {
                    return .exhausted(Self.listingFailure(
                        "\(pageSize) or more of \(scope.name) deposit requests were created in the second \(RFC3339.string(start)): a page cannot hold them all, so the listing cannot be completed"))
                }
                seenInSecond = Set(answer.items.filter { second($0) == last }.map(\.id))
                from = last
            case let .rowFinal(failure): return .rowFinal(failure)
            case let .inDoubt(failure): return .inDoubt(failure)
            case let .exhausted(failure): return .exhausted(failure)
            case .stopped: return .stopped
            }
        }
    }

    /// Every deposit request in `scope`, held whole (a row's window: a few at most).
    public func listDepositRequests(_ scope: DepositScope, pageSize: Int = depositPageSize,
                                    hooks: Hooks<DepositRequestPage> = .none) async throws -> Outcome<[DepositRequest]> {
        var items: [DepositRequest] = []
        switch try await listDepositRequests(scope, pageSize: pageSize, hooks: hooks, pages: { items += $0 }) {
        case .succeeded: return .succeeded(items)
        case let .rowFinal(failure): return .rowFinal(failure)
        case let .inDoubt(failure): return .inDoubt(failure)
        case let .exhausted(failure): return .exhausted(failure)
        case .stopped: return .stopped
        }
    }

    /// A listing that cannot go on although every answer was a good one.
    static func listingFailure(_ message: String) -> CallFailure {
        var failure = CallFailure(.decoding(message: message, status: 200, latency: .zero))
        failure.message = message
        return failure
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

    /// When an unanswered deposit POST sent at `lastPost` may be checked.
    public func settled(after lastPost: Date) -> Date {
        lastPost.addingTimeInterval(settings.inDoubtSettleSeconds)
    }

    // MARK: - Rate

    /// One visit to the limiter at most: none when the rate is already the configured one and
    /// the answer carried no quota headers (nothing would change).
    private func succeeded(_ rateLimit: RateLimitInfo) async {
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
    private func throttled(_ failure: CallFailure, budget: Budget, sentAt: ContinuousClock.Instant) async {
        var until = failure.rateLimit.retryAfter
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
                          untilEpoch: edge || until == nil ? nil : failure.rateLimit.retryAfterEpochSeconds, edge: edge))
    }

    /// The pause before the next attempt: a 429 that named its instant already paused every
    /// request; anything else waits a full-jitter backoff.
    private func backOff(after failure: CallFailure, attempt: Int) async throws {
        if failure.status == 429, failure.rateLimit.retryAfter != nil { return }
        let (clock, until) = (self.clock, clock.now + settings.backoff.delay(attempt: attempt - 1))
        _ = try await unlessStopped { try await clock.sleep(until: until) }
    }

    /// Takes a write token, or gives up as soon as the command stops: at a low `--rate` a caller
    /// can wait minutes for its turn, and a signal must not. False when stopped (no token taken).
    private func writeToken() async throws -> Bool {
        if await limiter.tryAcquire() { return true }
        let limiter = self.limiter
        return try await unlessStopped { try await limiter.acquire() }
    }

    /// Runs `wait` unless the command stops first (looked at every 50 ms): true when `wait`
    /// ended, false when the command stopped (`wait` is cancelled).
    private func unlessStopped(_ wait: @escaping @Sendable () async throws -> Void) async throws -> Bool {
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
