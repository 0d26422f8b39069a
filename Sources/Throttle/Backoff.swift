/// Exponential backoff with full jitter (the "Full Jitter" of AWS's architecture
/// blog): the delay before retry number `attempt` is drawn uniformly from
/// `0 ... min(cap, base · 2^attempt)`.
///
/// Full jitter spreads the retries of many workers that failed together (a 503
/// burst, a dropped connection pool), so they do not come back in lock step.
/// `attempt` counts from 0: the first retry waits up to `base`.
public struct Backoff: Sendable, Hashable {
    /// The ceiling of the first retry's delay.
    public var base: Duration
    /// The largest ceiling any retry's delay may have.
    public var cap: Duration

    public init(base: Duration = .milliseconds(200), cap: Duration = .seconds(30)) {
        precondition(base > .zero && cap >= base, "backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
    }

    /// The upper bound of the delay for retry `attempt`: `min(cap, base · 2^attempt)`.
    public func ceiling(attempt: Int) -> Duration {
        let capNanos = Self.nanos(cap)
        var ceiling = Self.nanos(base)
        var n = max(0, attempt)
        while n > 0, ceiling < capNanos {
            ceiling = ceiling > capNanos / 2 ? capNanos : ceiling * 2
            n -= 1
        }
        return .nanoseconds(min(ceiling, capNanos))
    }

    /// A delay drawn uniformly from `0 ... ceiling(attempt:)` with `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        .nanoseconds(Int64.random(in: 0...Self.nanos(ceiling(attempt: attempt)), using: &generator))
    }

    /// A delay drawn with the system generator.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    private static func nanos(_ d: Duration) -> Int64 {
        let (s, attos) = d.components
        let (product, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return Int64.max / 4 }
        return min(Int64.max / 4, product + attos / 1_000_000_000)
    }
}

/// A small, fast, seedable generator (SplitMix64), so backoff jitter and tests can be
/// reproduced from a seed. Not for secrets.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
