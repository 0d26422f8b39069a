import Testing
@testable import Throttle

/// Largest number of grants inside any closed window of length `period`.
func maxInWindow(_ times: [ContinuousClock.Instant], period: Duration) -> Int {
    var best = 0
    var start = 0
    for end in times.indices {
        while times[end] - times[start] > period { start += 1 }
        best = max(best, end - start + 1)
    }
    return best
}

/// Drives a core greedily (a caller is always waiting) and returns the grant instants.
func simulate(
    _ core: inout RateLimiterCore, from start: ContinuousClock.Instant, grants: Int,
    event: (Int, inout RateLimiterCore, ContinuousClock.Instant) -> Void = { _, _, _ in }
) -> [ContinuousClock.Instant] {
    var now = start
    var times: [ContinuousClock.Instant] = []
    times.reserveCapacity(grants)
    for i in 0..<grants {
        event(i, &core, now)
        now = core.earliestGrant(now: now)
        let ok = core.tryGrant(now: now)
        precondition(ok, "earliestGrant promised a grant")
        times.append(now)
    }
    return times
}

@Suite("RateLimiterCore (simulated time)")
struct RateLimiterCoreTests {
    let t0 = ContinuousClock.now

    @Test("default bursts", arguments: [("3000/10m", 3000), ("20/s", 2), ("50/s", 5), ("100/m", 100), ("5/h", 5), ("1000/s", 100), ("500/10s", 50)])
    func defaultBurst(text: String, burst: Int) throws {
        #expect(RateLimiterCore.defaultBurst(for: try RateSpec(parsing: text)) == burst)
    }

    @Test("3000/10m over a simulated 2-hour run: each fresh window's 3000 at once, never more than 3000 in any 10 minutes")
    func longRunWindow() throws {
        let spec = try RateSpec(parsing: "3000/10m")
        var core = RateLimiterCore(spec: spec, now: t0)
        let times = simulate(&core, from: t0, grants: 36_000)
        #expect(maxInWindow(times, period: spec.period) <= 3000)
        for window in 0..<12 {
            let first = times[window * 3000], last = times[window * 3000 + 2999]
            #expect(first == last, "window \(window) is granted at once")
            let offset = (first - t0).seconds - Double(window * 600)
            #expect(offset >= 0 && offset < 1e-6, "window \(window) opens \(offset) s after its 10 minutes")
        }
    }

    @Test("3000/10m with a small burst is paced evenly at the full rate over 2 hours")
    func longRunPaced() throws {
        let spec = try RateSpec(parsing: "3000/10m")
        var core = RateLimiterCore(spec: spec, burst: 5, now: t0)
        let times = simulate(&core, from: t0, grants: 36_000)
        #expect(maxInWindow(times, period: spec.period) <= 3000)
        let elapsed = (times.last! - times.first!).seconds
        let achieved = Double(times.count - 1) / elapsed
        #expect(achieved >= 5 * 0.99 && achieved <= 5.001, "achieved \(achieved)/s")
    }

    @Test("a burst as large as the limit still cannot overshoot the window", arguments: ["3000/10m", "20/s", "50/1s", "100/m", "5/h"])
    func hugeBurst(text: String) throws {
        let spec = try RateSpec(parsing: text)
        var core = RateLimiterCore(spec: spec, burst: spec.limit, now: t0)
        let times = simulate(&core, from: t0, grants: spec.limit * 6 + 7)
        #expect(maxInWindow(times, period: spec.period) == spec.limit)
        // The first `limit` go at once (burst), the next only once the first leaves the window.
        #expect(times[spec.limit - 1] == t0)
        #expect(times[spec.limit] > t0 + spec.period)
    }

    @Test("at a rate far above the traffic the window log holds one period's grants, not the limit's")
    func logHoldsOnePeriod() throws {
        let spec = try RateSpec(parsing: "1000000/s")
        var core = RateLimiterCore(spec: spec, now: t0)
        // 5,000 grants a millisecond apart: five seconds of traffic at 1,000 a second.
        var refused = 0
        for i in 0..<5_000 where !core.tryGrant(now: t0 + .milliseconds(i)) { refused += 1 }
        #expect(refused == 0)
        // The last second's grants: 3,999 ms to 4,999 ms inclusive.
        #expect(core.loggedGrants == 1_001)
        #expect(core.granted == 5_000)
        // A small limit still keeps exactly its last `limit` grants of the period.
        var small = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), burst: 20, now: t0)
        for i in 0..<30 { _ = small.tryGrant(now: t0 + .milliseconds(i)) }
        #expect(small.loggedGrants == 20)
    }

    @Test("the window holds while AIMD, pauses and pressure change the pace at random")
    func windowUnderChaos() throws {
        let spec = try RateSpec(parsing: "50/s")
        var core = RateLimiterCore(spec: spec, burst: 25, now: t0)
        var rng = SeededGenerator(seed: 42)
        let times = simulate(&core, from: t0, grants: 20_000) { _, core, now in
            switch Int.random(in: 0..<100, using: &rng) {
            case 0: core.onThrottled(now: now)
            case 1: core.pause(until: now + .milliseconds(Int64.random(in: 0...2000, using: &rng)), now: now)
            case 2: core.observe(limit: 100, remaining: Int.random(in: 0...100, using: &rng), now: now)
            default: core.onSuccess(now: now)
            }
        }
        #expect(maxInWindow(times, period: spec.period) <= 50)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("pacing: after the burst, grants come every 1/rate")
    func pacing() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), now: t0)
        let times = simulate(&core, from: t0, grants: 12)
        #expect(times[0] == t0 && times[1] == t0)  // burst of 2
        for (a, b) in zip(times.dropFirst(2), times.dropFirst(3)) {
            let gap = b - a
            #expect(gap >= .milliseconds(50) && gap <= .milliseconds(50) + .nanoseconds(2))
        }
    }

    @Test("AIMD: a 429 halves the rate down to the floor; successes bring it back additively")
    func aimd() throws {
        let spec = try RateSpec(parsing: "20/s")
        var core = RateLimiterCore(spec: spec, floorFraction: 1.0 / 16, recoverySuccesses: 50, now: t0)
        #expect(core.currentRate == 20)
        core.onThrottled(now: t0)
        #expect(core.currentRate == 10)
        core.onThrottled(now: t0)
        #expect(core.currentRate == 5)
        for _ in 0..<10 { core.onThrottled(now: t0) }
        #expect(core.currentRate == 1.25, "floor = 20/16")
        var successes = 0
        while core.currentRate < 20 {
            core.onSuccess(now: t0)
            successes += 1
        }
        #expect(core.currentRate == 20)
        #expect(successes == 94)  // (20 - 1.25) / 0.2 = 93.75 steps of 0.2 (half the rate in 50 steps)
    }

    @Test("a gentler decrease factor (the job's 0.75) cuts by a quarter, still down to the floor")
    func gentlerDecrease() throws {
        let spec = try RateSpec(parsing: "48/s")
        var core = RateLimiterCore(spec: spec, floorFraction: 1.0 / 16, recoverySuccesses: 20, decreaseFactor: 0.75, now: t0)
        core.onThrottled(now: t0)
        #expect(core.currentRate == 36)
        core.onThrottled(now: t0)
        #expect(core.currentRate == 27)
        for _ in 0..<20 { core.onThrottled(now: t0) }
        #expect(core.currentRate == 3, "floor = 48/16")
        // Out-of-range factors are clamped: never a rate of 0, never no decrease at all.
        var clamped = RateLimiterCore(spec: spec, decreaseFactor: 1.5, now: t0)
        clamped.onThrottled(now: t0)
        #expect(clamped.currentRate == 48 * 0.95)
    }

    @Test("after a 429 the pace is half: gaps of 2/rate")
    func halvedPace() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), now: t0)
        _ = simulate(&core, from: t0, grants: 5)
        core.onThrottled(now: t0 + .milliseconds(150))
        let times = simulate(&core, from: t0 + .milliseconds(150), grants: 5)
        for (a, b) in zip(times, times.dropFirst()) {
            #expect(b - a >= .milliseconds(100) && b - a <= .milliseconds(100) + .nanoseconds(2))
        }
    }

    @Test("a pause holds every grant until its end, then restarts with one token")
    func pause() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), now: t0)
        let until = t0 + .seconds(30)
        core.pause(until: until, now: t0)
        core.pause(until: t0 + .seconds(10), now: t0)  // an earlier pause does not shorten it
        let earliest = core.earliestGrant(now: t0)
        #expect(earliest == until)
        let early = core.tryGrant(now: until - .nanoseconds(1))
        #expect(!early)
        let times = simulate(&core, from: t0, grants: 3)
        #expect(times[0] == until)
        #expect(times[1] - times[0] >= .milliseconds(50))
    }

    @Test("remaining under 10% of the server's limit slows the pace; room again restores it")
    func observe() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), now: t0)
        core.observe(limit: 100, remaining: 50, now: t0)
        #expect(core.effectiveRate == 20)
        core.observe(limit: 100, remaining: 5, now: t0)
        #expect(core.effectiveRate == 10)
        core.observe(limit: 100, remaining: 0, now: t0)
        #expect(core.effectiveRate == 5)
        core.observe(limit: 100, remaining: 99, now: t0)
        #expect(core.effectiveRate == 20)
    }

    @Test("a server window emptied by this limiter's own grants is no reason to slow down")
    func observeCountsOwnGrants() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "50/s"), burst: 50, now: t0)
        var granted = 0
        while core.tryGrant(now: t0) { granted += 1 }
        #expect(granted == 50)
        core.observe(limit: 50, remaining: 0, now: t0)   // all 50 used — by us
        #expect(core.effectiveRate == 50)
        core.observe(limit: 100, remaining: 0, now: t0)  // 100 used, 50 of them by others
        #expect(core.effectiveRate == 12.5)
    }

    /// A core at its full pace: 100 grants of 50/s (burst 5), about 2 s.
    func atPace() throws -> (RateLimiterCore, ContinuousClock.Instant) {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "50/s"), burst: 5, decreaseFactor: 0.75, now: t0)
        let times = simulate(&core, from: t0, grants: 100)
        return (core, times.last!)
    }

    @Test("a 429 at this limiter's own pace is its window edge: one grant interval's pause, the rate kept")
    func edge() throws {
        var (core, last) = try atPace()
        let now = last + .milliseconds(5)
        let response = core.throttled(sentAt: last, retryAfter: now + .milliseconds(800), now: now)
        #expect(response == .edge(until: now + .milliseconds(20)))
        #expect(core.currentRate == 50)
        #expect(core.earliestGrant(now: now) >= now + .milliseconds(20))
        #expect(core.earliestGrant(now: now) < now + .milliseconds(800))
    }

    @Test("a second 429 within the period is the server's window truly full: its pause, a quarter less")
    func secondIsFull() throws {
        var (core, last) = try atPace()
        let first = last + .milliseconds(5)
        _ = core.throttled(sentAt: last, retryAfter: first + .milliseconds(800), now: first)
        let times = simulate(&core, from: first, grants: 3)
        let second = times.last! + .milliseconds(5)
        let retryAt = second + .milliseconds(900)
        #expect(core.throttled(sentAt: times.last!, retryAfter: retryAt, now: second) == .full(until: retryAt))
        #expect(core.currentRate == 37.5)
        #expect(core.earliestGrant(now: second) == retryAt)
    }

    @Test("a request already on its way when a 429 came back changes nothing more")
    func sibling() throws {
        var (core, last) = try atPace()
        let now = last + .milliseconds(5)
        _ = core.throttled(sentAt: last, retryAfter: now + .milliseconds(800), now: now)
        let pausedUntil = core.pausedUntil
        #expect(core.throttled(sentAt: last - .milliseconds(10), retryAfter: now + .seconds(5), now: now + .milliseconds(1)) == .sibling)
        #expect(core.currentRate == 50)
        #expect(core.pausedUntil == pausedUntil)
    }

    @Test("a 429 while this limiter is well under its pace is the server's: its pause, a quarter less")
    func notAtPace() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "50/s"), burst: 5, decreaseFactor: 0.75, now: t0)
        let times = simulate(&core, from: t0, grants: 10)
        let now = times.last! + .milliseconds(5)
        #expect(core.throttled(sentAt: times.last!, retryAfter: now + .seconds(2), now: now) == .full(until: now + .seconds(2)))
        #expect(core.currentRate == 37.5)
        // A 429 without a retry instant is never taken for an edge either.
        var (paced, last) = try atPace()
        #expect(paced.throttled(sentAt: last, retryAfter: nil, now: last + .milliseconds(5)) == .full(until: nil))
    }

    @Test("time to grant: the bucket, then the pace, a pause, and a fresh 10-minute window at once")
    func timeToGrant() throws {
        var core = RateLimiterCore(spec: try RateSpec(parsing: "20/s"), burst: 2, now: t0)
        #expect(core.timeToGrant(0, now: t0) == .zero)
        #expect(core.timeToGrant(2, now: t0) == .zero)
        #expect(core.timeToGrant(12, now: t0) == .milliseconds(500))
        #expect(core.granted == 0, "asking grants nothing")
        core.pause(until: t0 + .seconds(3), now: t0)
        #expect(core.timeToGrant(1, now: t0) == .seconds(3))
        let window = RateLimiterCore(spec: try RateSpec(parsing: "3000/10m"), now: t0)
        #expect(window.timeToGrant(3000, now: t0) == .zero)
        #expect(window.timeToGrant(3001, now: t0) == .seconds(600) + .nanoseconds(1))
    }
}
