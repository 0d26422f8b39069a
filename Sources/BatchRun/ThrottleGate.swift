import Throttle

/// The run's `RequestGate`: Throttle's shared token bucket with pauses and AIMD.
public struct ThrottleGate: RequestGate {
    public let limiter: RateLimiter

    public init(limiter: RateLimiter) { self.limiter = limiter }

    /// What a 429 multiplies the job's rate by: a quarter off, not half. Paced 2 % under the
    /// configured rate, a 429 is a request that crossed the server's window edge late (network
    /// or scheduling jitter), not a rate far too high — and every 429 already pauses all workers
    /// until the server's retry instant. A server far slower than `--rate` is still reached in a
    /// few steps (the 429-storm test).
    public static let decreaseFactor = 0.75

    public func acquire() async throws { try await limiter.acquire() }

    public func throttled(status: Int, retryAfterSeconds: Double?) async {
        if let seconds = retryAfterSeconds, seconds > 0 {
            await limiter.pause(until: .now + .milliseconds(Int(seconds * 1000)))
        }
        await limiter.onThrottled()
    }

    /// One visit to the limiter at most: none when the rate is already the configured one and
    /// the answer carried no quota headers (nothing would change).
    public func succeeded(quota: Quota) async {
        let hasQuota = quota.limit != nil && quota.remaining != nil
        guard hasQuota || limiter.isRecovering else { return }
        await limiter.succeeded(limit: quota.limit, remaining: quota.remaining)
    }
}
