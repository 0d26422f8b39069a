/// A request rate: at most `limit` requests in any window of length `period`.
///
/// Parsed from the `--rate` option and the job files: `3000/10m`, `20/s`, `50/1s`,
/// `100/m`, `5/h`, `10/500ms`. Units: `ms`, `s`, `m`, `h`, `d` (a missing count
/// means 1). Rebilly counts per organization (sandbox: 3000 non-GET requests per
/// 10 minutes), so the job's rate is a window rate, not just a pace: `RateLimiter`
/// guarantees the window, not only the average.
public struct RateSpec: Sendable, Hashable, CustomStringConvertible {
    /// Most requests allowed in any window of `period`.
    public let limit: Int
    /// The window length.
    public let period: Duration

    /// Largest accepted `limit` (keeps the limiter's window log bounded).
    public static let maximumLimit = 10_000_000

    public init(limit: Int, period: Duration) throws(RateSpecError) {
        guard limit > 0 else { throw RateSpecError("the rate's count must be at least 1") }
        guard limit <= Self.maximumLimit else { throw RateSpecError("the rate's count must be at most \(Self.maximumLimit)") }
        guard period >= .milliseconds(1) else { throw RateSpecError("the rate's period must be at least 1ms") }
        guard period <= .seconds(86_400 * 366) else { throw RateSpecError("the rate's period must be at most 366d") }
        self.limit = limit
        self.period = period
    }

    /// Parses `COUNT/PERIOD` (e.g. `3000/10m`, `20/s`).
    public init(parsing text: String) throws(RateSpecError) {
        let trimmed = text.filter { $0 != " " }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw RateSpecError("rate \"\(text)\" must look like COUNT/PERIOD, e.g. 3000/10m or 20/s")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let limit = Int(parts[0]) else {
            throw RateSpecError("rate \"\(text)\": \"\(parts[0])\" is not a whole number of requests")
        }
        let digits = parts[1].prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.allSatisfy({ $0 == "0" }) {
            throw RateSpecError("rate \"\(text)\": the period \"\(parts[1])\" is zero; give a positive period such as 1s, 500ms, 10m or 1h")
        }
        guard let period = Self.parsePeriod(parts[1]) else {
            throw RateSpecError("rate \"\(text)\": \"\(parts[1])\" is not a period; give a number and a unit of ms, s (sec), m (min), h or d, such as 1s or 10m")
        }
        try self.init(limit: limit, period: period)
    }

    private static func parsePeriod(_ text: Substring) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        let count: Int64
        if digits.isEmpty {
            count = 1
        } else {
            guard digits.count <= 9, let n = Int64(digits), n > 0 else { return nil }
            count = n
        }
        switch unit {
        case "ms": return .milliseconds(count)
        case "s", "sec": return .seconds(count)
        case "m", "min": return .seconds(count * 60)
        case "h": return .seconds(count * 3600)
        case "d": return .seconds(count * 86_400)
        default: return nil
        }
    }

    /// Requests per second on average (`limit / period`).
    public var perSecond: Double { Double(limit) / period.seconds }

    /// The spec the job paces at: 2 % under the configured limit (at least one request
    /// per period), so that network jitter between this process's grant times and the
    /// server's arrival times does not push the server's window over its limit.
    public func withJitterMargin() -> RateSpec {
        guard limit >= 2 else { return self }
        return (try? RateSpec(limit: limit - max(1, limit / 50), period: period)) ?? self
    }

    /// The share of this rate for one of `shards` processes that share the same
    /// organization limit (Kubernetes indexed jobs, `--shard i/N`). The limit is
    /// divided rounding down, so the shards together never exceed the whole; a rate
    /// too small to give every shard at least one request per period is refused
    /// (any smaller share would break the window guarantee).
    public func divided(by shards: Int) throws(RateSpecError) -> RateSpec {
        guard shards >= 1 else { throw RateSpecError("the number of shards must be at least 1") }
        guard limit >= shards else {
            throw RateSpecError("rate \(self) cannot be shared by \(shards) shards: each needs at least 1 request per \(Self.format(period))")
        }
        return try RateSpec(limit: limit / shards, period: period)
    }

    /// Canonical text: `3000/10m`, `20/s`, `500/250ms`.
    public var description: String { "\(limit)/\(Self.format(period))" }

    static func format(_ period: Duration) -> String {
        let (seconds, attos) = period.components
        if attos == 0 {
            for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where seconds % size == 0 {
                let n = seconds / size
                return n == 1 ? unit : "\(n)\(unit)"
            }
        }
        let millis = seconds * 1000 + attos / 1_000_000_000_000_000
        return "\(millis)ms"
    }
}

/// A `--rate` text or a `RateSpec` that cannot be used, with a message for the operator.
public struct RateSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Duration {
    /// The duration as fractional seconds (for rates; never for money).
    public var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }

    /// `seconds` rounded UP to the next nanosecond, so a computed wake-up is never early.
    static func secondsRoundedUp(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        let nanos = (seconds * 1e9).rounded(.up)
        if nanos >= 9e18 { return .seconds(Int64(9e9)) }
        return .nanoseconds(Int64(nanos))
    }
}
