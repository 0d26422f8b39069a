import Throttle

/// The run's `RequestGate`: Throttle's shared token bucket with pauses and AIMD.
public struct ThrottleGate: RequestGate {
    public let limiter: RateLimiter

    public init(limiter: RateLimiter) { self.limiter = limiter }

    public func acquire() async throws { try await limiter.acquire() }

    public func throttled(retryAfterSeconds: Double?) async {
        if let seconds = retryAfterSeconds, seconds > 0 {
            await limiter.pause(until: .now + .milliseconds(Int(seconds * 1000)))
        }
        await limiter.onThrottled()
    }

    public func succeeded(quota: Quota) async {
        await limiter.onSuccess()
        if quota.limit != nil || quota.remaining != nil { await limiter.observe(limit: quota.limit, remaining: quota.remaining) }
    }
}
