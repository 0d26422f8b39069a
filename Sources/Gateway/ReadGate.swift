import Throttle

/// The read budget. Rebilly counts only non-GET requests against an organization's rate limit,
/// so a read (a read-back, an in-doubt or reconcile listing) never takes a write token. Reads are
/// bounded by their own concurrency (`--read-concurrency`) and, when given, their own rate
/// (`--read-rate`); a 429 on a read pauses every read until the server's instant, as a 429 on a
/// write pauses the writes.
actor ReadGate {
    /// Reads in flight at once.
    let permits: Int
    private var inUse = 0
    /// Callers waiting for a permit, first come first served; a release hands its permit over.
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var waitingHead = 0
    /// `--read-rate`, when given.
    let limiter: RateLimiter?
    private var pausedUntil: ContinuousClock.Instant?
    let clock: any ThrottleClock

    init(permits: Int, rate: RateSpec?, clock: any ThrottleClock) {
        self.permits = max(1, permits)
        self.limiter = rate.map { RateLimiter($0, clock: clock) }
        self.clock = clock
    }

    /// Waits for a permit, the end of any pause, and a read token; the caller must
    /// ``release()`` the permit once its request is answered (or throws: then nothing is held).
    func acquire() async throws {
        try Task.checkCancellation()
        if inUse < permits {
            inUse += 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        do {
            while let until = pausedUntil, until > clock.now { try await clock.sleep(until: until) }
            try await limiter?.acquire()
        } catch {
            release()
            throw error
        }
    }

    /// Gives a permit back, to the longest waiting caller if any.
    func release() {
        if waitingHead < waiting.count {
            let next = waiting[waitingHead]
            waitingHead += 1
            if waitingHead == waiting.count { waiting.removeAll(); waitingHead = 0 }
            next.resume()
        } else {
            inUse -= 1
        }
    }

    /// A 429 (or 503) on a read: no read starts before `instant`, and the read rate goes down.
    func throttled(until instant: ContinuousClock.Instant?) async {
        if let instant { pausedUntil = max(pausedUntil ?? instant, instant) }
        await limiter?.onThrottled()
    }
}
