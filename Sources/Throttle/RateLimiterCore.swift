/// The arithmetic of `RateLimiter`, with no concurrency: a token bucket for pacing,
/// a log of the last period's grants (at most `limit`) for the window guarantee, AIMD and pauses.
///
/// It is a value type driven by explicit instants so that long runs can be simulated
/// exactly in tests (and so the actor around it stays small).
///
/// **Why two mechanisms.** A token bucket of capacity `burst` refilled at
/// `limit/period` lets `burst + limit` requests through in some window of `period`
/// (a full bucket, then a period of refill). Rebilly counts requests per window, so
/// that would overshoot by `burst`. The window log closes the gap: a grant at `t` is
/// allowed only when the `limit`-th previous grant is strictly older than
/// `t - period`, so **no closed window of length `period` ever holds more than
/// `limit` grants**, whatever the burst, the AIMD state or the timing of callers. The
/// bucket keeps the traffic smooth inside that bound.
public struct RateLimiterCore: Sendable {
    /// The configured rate (the hard window bound).
    public let spec: RateSpec
    /// Bucket capacity: how many requests may go back to back after a quiet spell.
    public let burst: Int
    /// The lowest rate AIMD may reach, in requests per second.
    public let floorRate: Double
    /// What each success adds back to the current rate, in requests per second.
    public let increaseStep: Double

    /// The AIMD rate in requests per second (≤ the configured rate).
    public private(set) var currentRate: Double
    /// The multiplicative decrease of a 429 (0.5 halves the rate).
    public let decreaseFactor: Double
    /// Slow-down factor from `observe(limit:remaining:)`, in 0.25...1.
    public private(set) var pressure: Double = 1
    /// Grants are held back until this instant (429 with a retry-after).
    public private(set) var pausedUntil: ContinuousClock.Instant?
    /// When the last 429 that changed anything came back (a request sent before it is its sibling).
    private var lastThrottle: ContinuousClock.Instant?
    /// When the last 429 taken for this limiter's own edge came back.
    private var lastEdge: ContinuousClock.Instant?
    /// Total grants so far.
    public private(set) var granted: Int = 0
    /// Grants the window log holds: those of the last period (at most the limit).
    public var loggedGrants: Int { window.count }

    private var tokens: Double
    private var lastRefill: ContinuousClock.Instant
    private var window: GrantLog

    /// The default burst. A window of a minute or more (Rebilly's `3000/10m`) is spent as
    /// fast as the server answers: a fresh window's whole limit at once, so a night shorter than
    /// the window finishes in it, and the window log still keeps any window of `period` at the
    /// limit. A window of seconds is spent evenly, at most a second's share (and a tenth of the
    /// limit) at once: its edge comes every few seconds, and a clump at each edge would cross
    /// it. `3000/10m` → 3000, `100/m` → 100, `5/h` → 5, `20/s` → 2, `50/s` → 5, `1000/s` → 100.
    public static func defaultBurst(for spec: RateSpec) -> Int {
        if spec.period >= .seconds(60) { return spec.limit }
        let perSecond = Int(spec.perSecond.rounded(.up))
        return max(1, min(perSecond, spec.limit / 10))
    }

    public init(spec: RateSpec, burst: Int? = nil, floorFraction: Double = 1.0 / 16, recoverySuccesses: Int = 50,
                decreaseFactor: Double = 0.5, now: ContinuousClock.Instant) {
        self.spec = spec
        self.decreaseFactor = min(0.95, max(0.05, decreaseFactor))
        let burst = max(1, min(burst ?? Self.defaultBurst(for: spec), spec.limit))
        self.burst = burst
        let rate = spec.perSecond
        self.floorRate = rate * min(1, max(0.001, floorFraction))
        // From half the rate back to the full rate in `recoverySuccesses` successes.
        self.increaseStep = rate / 2 / Double(max(1, recoverySuccesses))
        self.currentRate = rate
        self.tokens = Double(burst)
        self.lastRefill = now
        self.window = GrantLog(capacity: spec.limit, period: spec.period)
    }

    /// The rate grants are paced at right now (AIMD rate × pressure, never below the floor).
    public var effectiveRate: Double { max(floorRate, currentRate * pressure) }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > lastRefill else { return }
        tokens = min(Double(burst), tokens + (now - lastRefill).seconds * effectiveRate)
        lastRefill = now
    }

    /// The earliest instant (≥ `now`) at which the next grant is allowed.
    public mutating func earliestGrant(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        refill(now)
        var t = now
        if let pausedUntil, pausedUntil > t { t = pausedUntil }
        if tokens < 1 - 1e-9 {
            // Tokens accrue from lastRefill (which may lie in the future after a pause).
            let start = max(lastRefill, now)
            let ready = start + Duration.secondsRoundedUp((1 - tokens) / effectiveRate)
            if ready > t { t = ready }
        }
        if let oldest = window.oldestIfFull {
            let free = oldest + spec.period + .nanoseconds(1)
            if free > t { t = free }
        }
        return t
    }

    /// Takes one token at `now` if a grant is allowed then; returns whether it did.
    public mutating func tryGrant(now: ContinuousClock.Instant) -> Bool {
        guard earliestGrant(now: now) <= now else { return false }
        tokens = max(0, tokens - 1)
        window.append(now)
        granted += 1
        return true
    }

    /// Holds every grant back until `instant` (later pauses extend, earlier ones are
    /// ignored). After the pause the bucket restarts with a single token, so the
    /// traffic resumes at the paced rate instead of in a burst.
    public mutating func pause(until instant: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        refill(now)
        if let pausedUntil, pausedUntil >= instant { return }
        pausedUntil = instant
        if instant > now {
            tokens = 1
            lastRefill = instant
        }
    }

    /// Multiplicative decrease: the server said 429. Multiplies the rate by
    /// ``decreaseFactor`` (halves it by default; not below the floor) and empties the bucket.
    public mutating func onThrottled(now: ContinuousClock.Instant) {
        refill(now)
        currentRate = max(floorRate, currentRate * decreaseFactor)
        tokens = min(tokens, 0)
    }

    /// What a 429 on a write did (``throttled(sentAt:retryAfter:now:)``).
    public enum ThrottleResponse: Sendable, Equatable {
        /// The request left before an earlier 429 came back: that one set the pause and the rate.
        case sibling
        /// This limiter's own traffic crossed the server's window edge: the server counted a
        /// request late (network and scheduling jitter), its window reopens within a request's
        /// trip, so the writes wait one grant interval (until `until`) and keep their rate.
        case edge(until: ContinuousClock.Instant)
        /// The server's window is full for a reason of its own (someone else spends the
        /// organization's budget, or its limit is lower than `--rate`): the writes wait for the
        /// server's instant, when it named one, and the rate goes down (``onThrottled(now:)``).
        case full(until: ContinuousClock.Instant?)
    }

    /// A 429 on a request sent at `sentAt`, with the server's retry instant if it named one.
    ///
    /// Paced under the limit by the window log, this limiter's own traffic fills the server's
    /// window only at its edge, by a request the network delayed: the first 429 at full pace in
    /// a period is taken as that (a short pause, no decrease). A second one within the period,
    /// or one while this limiter is not at its pace, is the server's window truly full.
    /// Requests already on their way when a 429 came back change nothing more.
    public mutating func throttled(sentAt: ContinuousClock.Instant, retryAfter: ContinuousClock.Instant?,
                                   now: ContinuousClock.Instant) -> ThrottleResponse {
        if let lastThrottle, sentAt < lastThrottle { return .sibling }
        lastThrottle = now
        let atPace = window.count(since: now - spec.period) >= spec.limit - max(1, spec.limit / 20)
        let edgeRecently = lastEdge.map { now - $0 < spec.period } ?? false
        if atPace, !edgeRecently, retryAfter != nil {
            lastEdge = now
            let until = now + Duration.secondsRoundedUp(spec.period.seconds / Double(spec.limit))
            pause(until: until, now: now)
            return .edge(until: until)
        }
        onThrottled(now: now)
        if let retryAfter { pause(until: retryAfter, now: now) }
        return .full(until: retryAfter)
    }

    /// How long from `now` until `count` more grants could all have been made, callers always
    /// waiting: the bucket, the window log, a pause and the current rate, as they stand. The
    /// window of `--until` asks this before it starts a row.
    public func timeToGrant(_ count: Int, now: ContinuousClock.Instant) -> Duration {
        guard count > 0 else { return .zero }
        var copy = self
        var t = now
        for _ in 0..<count {
            t = copy.earliestGrant(now: t)
            _ = copy.tryGrant(now: t)
        }
        return t - now
    }

    /// Additive increase: a request succeeded. Moves the rate back toward the configured one.
    public mutating func onSuccess(now: ContinuousClock.Instant) {
        guard currentRate < spec.perSecond else { return }
        refill(now)
        currentRate = min(spec.perSecond, currentRate + increaseStep)
    }

    /// Slows down before the wall: when the server's `X-RateLimit-Remaining` falls
    /// under 10 % of its `X-RateLimit-Limit`, the pace drops in proportion (down to a
    /// quarter at 0 remaining); it goes back to normal as soon as the server reports
    /// room again (a new window).
    public mutating func observe(limit: Int, remaining: Int, now: ContinuousClock.Instant) {
        guard limit > 0 else { return }
        refill(now)
        // Paced at the server's own limit, this run empties the server's window by design:
        // a low `remaining` is only a warning when someone else (another shard, another job
        // of the organization) spent part of it — when the server counts more requests
        // than this limiter granted in its last period.
        let used = limit - max(0, remaining)
        let ours = window.count(since: now - spec.period)
        let slack = max(1, limit / 20)
        guard used > ours + slack else {
            pressure = 1
            return
        }
        let fraction = Double(max(0, remaining)) / Double(limit)
        pressure = fraction >= 0.1 ? 1 : max(0.25, fraction / 0.1)
    }
}

/// The grants of the last `period`, at most the last `capacity` of them, oldest first: all the
/// window guarantee needs. An older grant can never hold a later one back, so it is dropped, and
/// the log holds the traffic of one period (a few thousand at a high `--rate`), not `capacity`.
struct GrantLog: Sendable {
    /// A ring, grown by doubling up to `capacity`.
    private var storage: [ContinuousClock.Instant] = []
    private var head = 0
    private(set) var count = 0
    let capacity: Int
    let period: Duration

    init(capacity: Int, period: Duration) {
        self.capacity = max(1, capacity)
        self.period = period
    }

    private func at(_ i: Int) -> ContinuousClock.Instant { storage[(head + i) % storage.count] }

    /// The oldest of the last `capacity` grants, when that many lie within the last period.
    var oldestIfFull: ContinuousClock.Instant? {
        count == capacity ? storage[head] : nil
    }

    /// How many logged grants are at or after `instant` (binary search: the log is in time order).
    /// Exact for an `instant` within a period of the last grant.
    func count(since instant: ContinuousClock.Instant) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if at(mid) < instant { low = mid + 1 } else { high = mid }
        }
        return count - low
    }

    mutating func append(_ instant: ContinuousClock.Instant) {
        let horizon = instant - period
        while count > 0, storage[head] < horizon {
            head = (head + 1) % storage.count
            count -= 1
        }
        if count == capacity {
            head = (head + 1) % storage.count
            count -= 1
        } else if count == storage.count {
            let size = min(capacity, max(16, storage.count * 2))
            var grown: [ContinuousClock.Instant] = []
            grown.reserveCapacity(size)
            for i in 0..<count { grown.append(at(i)) }
            grown.append(contentsOf: repeatElement(instant, count: size - count))
            storage = grown
            head = 0
        }
        storage[(head + count) % storage.count] = instant
        count += 1
    }
}
