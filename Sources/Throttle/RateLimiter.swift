import Synchronization

/// The one rate limiter every request of a run goes through.
///
/// `acquire()` returns when the caller may send one request. Callers are served in
/// arrival order: the first in line sleeps until its grant time, the others wait
/// behind it without polling. The limits it enforces (see `RateLimiterCore`):
///
/// - **the window**: never more than `spec.limit` grants in any window of
///   `spec.period` (e.g. 3000 in any 10 minutes), whatever happens;
/// - **the pace**: a token bucket refilled at the current rate with a small burst;
/// - **pauses**: after a 429, `throttled(sentAt:retryAfter:)` holds back every waiter and
///   every later caller, one grant interval at this limiter's own window edge, until the
///   server's retry-after instant otherwise;
/// - **AIMD**: `onThrottled()` halves the rate, `onSuccess()` adds it back a step at
///   a time; `observe(limit:remaining:)` slows down when the server's remaining count
///   runs low.
///
/// Only requests the server counts need a token (Rebilly counts non-GET requests);
/// the caller decides what to acquire for.
public actor RateLimiter {
    private var core: RateLimiterCore
    private let clock: any ThrottleClock

    private var queue: [UInt64] = []
    private var queueHead = 0
    private var parked: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextTicket: UInt64 = 0

    /// - Parameters:
    ///   - spec: the configured rate, the hard window bound.
    ///   - burst: bucket capacity; default `RateLimiterCore.defaultBurst(for:)`.
    ///   - floorFraction: AIMD never goes below this fraction of the configured rate.
    ///   - recoverySuccesses: successes needed to climb from half back to the full rate.
    ///   - decreaseFactor: what a 429 multiplies the rate by (0.5: halve).
    ///   - clock: the time source (a `ManualClock` in tests).
    public init(
        _ spec: RateSpec, burst: Int? = nil, floorFraction: Double = 1.0 / 16,
        recoverySuccesses: Int = 50, decreaseFactor: Double = 0.5, clock: any ThrottleClock = SystemThrottleClock()
    ) {
        self.clock = clock
        self.spec = spec
        self.core = RateLimiterCore(
            spec: spec, burst: burst, floorFraction: floorFraction,
            recoverySuccesses: recoverySuccesses, decreaseFactor: decreaseFactor, now: clock.now
        )
    }

    /// The configured rate.
    public nonisolated let spec: RateSpec

    /// Snapshot of the limiter's state, for progress lines and tests.
    public struct Status: Sendable, Equatable {
        public var currentRate: Double
        public var effectiveRate: Double
        public var pressure: Double
        public var burst: Int
        public var granted: Int
        public var waiting: Int
        public var pausedUntil: ContinuousClock.Instant?
    }

    public var status: Status {
        Status(
            currentRate: core.currentRate, effectiveRate: core.effectiveRate, pressure: core.pressure,
            burst: core.burst, granted: core.granted, waiting: queue.count - queueHead,
            pausedUntil: core.pausedUntil.flatMap { $0 > clock.now ? $0 : nil }
        )
    }

    /// Takes a token when one is free now and no caller waits before this one; never waits.
    public func tryAcquire() -> Bool {
        queueHead == queue.count && core.tryGrant(now: clock.now)
    }

    /// Waits until one request may be sent, then takes its token.
    /// Throws `CancellationError` if the task is cancelled while waiting (no token is taken).
    public func acquire() async throws {
        try Task.checkCancellation()
        if queueHead == queue.count, core.tryGrant(now: clock.now) { return }
        let ticket = nextTicket
        nextTicket += 1
        queue.append(ticket)
        do {
            if queue[queueHead] != ticket { try await park(ticket) }
            // This caller is first in line now: sleep until its grant time and re-check,
            // because a pause or a rate change may have moved that time meanwhile.
            while true {
                try Task.checkCancellation()
                let now = clock.now
                if core.tryGrant(now: now) {
                    leave(ticket)
                    return
                }
                try await clock.sleep(until: core.earliestGrant(now: now))
            }
        } catch {
            leave(ticket)
            throw error
        }
    }

    /// Holds every waiter and every later `acquire()` until `instant` (a 429's retry-after).
    public func pause(until instant: ContinuousClock.Instant) {
        core.pause(until: instant, now: clock.now)
    }

    /// A 429 on a write sent at `sentAt`: a short pause at this limiter's own window edge, the
    /// server's pause and a lower rate otherwise (see ``RateLimiterCore/throttled(sentAt:retryAfter:now:)``).
    public func throttled(sentAt: ContinuousClock.Instant, retryAfter: ContinuousClock.Instant?) -> RateLimiterCore.ThrottleResponse {
        let response = core.throttled(sentAt: sentAt, retryAfter: retryAfter, now: clock.now)
        let below = core.currentRate < spec.perSecond
        recovering.withLock { $0 = below }
        return response
    }

    /// How long until `count` more grants could all have been made, as things stand.
    public func timeToGrant(_ count: Int) -> Duration {
        core.timeToGrant(count, now: clock.now)
    }

    /// The server answered 429: multiply the rate by the decrease factor (not below the floor).
    public func onThrottled() {
        core.onThrottled(now: clock.now)
        let below = core.currentRate < spec.perSecond
        recovering.withLock { $0 = below }
    }

    /// A request succeeded: move the rate a step back toward the configured one.
    public func onSuccess() {
        core.onSuccess(now: clock.now)
        let below = core.currentRate < spec.perSecond
        recovering.withLock { $0 = below }
    }

    /// A request succeeded, with the server's quota headers if it sent them: ``onSuccess()``
    /// and ``observe(limit:remaining:)`` in one visit.
    public func succeeded(limit: Int?, remaining: Int?) {
        onSuccess()
        observe(limit: limit, remaining: remaining)
    }

    /// Whether a success still changes anything: the rate is below the configured one after a
    /// 429. Read without visiting the actor, so that a caller at full rate and without quota
    /// headers can skip reporting its successes (one actor hop less per request).
    public nonisolated var isRecovering: Bool { recovering.withLock { $0 } }
    private nonisolated let recovering = Mutex(false)

    /// Feeds the server's `X-RateLimit-Limit` / `X-RateLimit-Remaining`.
    public func observe(limit: Int?, remaining: Int?) {
        guard let limit, let remaining else { return }
        core.observe(limit: limit, remaining: remaining, now: clock.now)
    }

    // MARK: - the line

    private func park(_ ticket: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                parked[ticket] = continuation
            }
        } onCancel: {
            Task { await self.cancelParked(ticket) }
        }
    }

    private func cancelParked(_ ticket: UInt64) {
        parked.removeValue(forKey: ticket)?.resume(throwing: CancellationError())
    }

    /// Removes `ticket` from the line; if it was first, wakes the next one.
    private func leave(_ ticket: UInt64) {
        guard queueHead < queue.count else { return }
        if queue[queueHead] == ticket {
            queueHead += 1
            if queueHead < queue.count, let next = parked.removeValue(forKey: queue[queueHead]) {
                next.resume()
            }
        } else if let index = queue[queueHead...].firstIndex(of: ticket) {
            queue.remove(at: index)
            parked.removeValue(forKey: ticket)?.resume(throwing: CancellationError())
        }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }
}

