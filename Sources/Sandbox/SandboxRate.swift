import Foundation

/// The sandbox's own rate limit: at most `limit` non-GET requests per organization per `period`
/// (Rebilly's sandbox: 3000 per 10 minutes). Parsed from text such as `3000/10m`, `50/s`, `100/m`.
public struct SandboxRate: Sendable, Equatable, CustomStringConvertible {
    /// Requests allowed in one window.
    public var limit: Int
    /// Length of the window.
    public var period: Duration

    /// Rebilly's documented sandbox quota: 3000 non-GET requests per 10 minutes.
    public static let rebillySandbox = SandboxRate(limit: 3000, period: .seconds(600))

    public init(limit: Int, period: Duration) {
        precondition(limit > 0 && period > .zero, "a rate needs a positive limit and period")
        self.limit = limit
        self.period = period
    }

    /// Parses `N/[k]unit` with unit `ms`, `s`, `m` or `h` (e.g. `3000/10m`, `50/s`, `20/1s`);
    /// nil for anything else, zero or negative.
    public init?(parsing text: String) {
        let parts = text.trimmingWhitespace().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let limit = Int(parts[0]), limit > 0 else { return nil }
        guard let period = SandboxDurations.parse(String(parts[1]), defaultCount: 1), period > .zero else { return nil }
        self.limit = limit
        self.period = period
    }

    /// The same text `init(parsing:)` reads, e.g. `3000/600s`.
    public var description: String { "\(limit)/\(SandboxDurations.format(period))" }
}

/// Parsing of the short duration texts the sandbox's options use (`5ms`, `10m`, `1.5s`).
public enum SandboxDurations {
    /// Parses `<number><unit>` with unit `us`, `ms`, `s`, `m` or `h`. When the number is missing
    /// (as in the `s` of `50/s`), `defaultCount` is used if given.
    public static func parse(_ text: String, defaultCount: Int? = nil) -> Duration? {
        let s = text.trimmingWhitespace()
        let number = s.prefix { $0.isNumber || $0 == "." }
        let unit = s.dropFirst(number.count)
        let count: Double
        if number.isEmpty {
            guard let defaultCount else { return nil }
            count = Double(defaultCount)
        } else {
            guard let parsed = Double(number), parsed.isFinite, parsed >= 0 else { return nil }
            count = parsed
        }
        let nanosPerUnit: Double
        switch unit {
        case "us", "µs": nanosPerUnit = 1e3
        case "ms": nanosPerUnit = 1e6
        case "s": nanosPerUnit = 1e9
        case "m": nanosPerUnit = 60e9
        case "h": nanosPerUnit = 3600e9
        default: return nil
        }
        let nanos = count * nanosPerUnit
        guard nanos < 1e18 else { return nil }
        return .nanoseconds(Int64(nanos.rounded()))
    }

    /// Parses a latency range `5ms..50ms` (or a single fixed value `20ms`).
    public static func parseRange(_ text: String) -> ClosedRange<Duration>? {
        let parts = text.components(separatedBy: "..")
        switch parts.count {
        case 1:
            guard let d = parse(parts[0]) else { return nil }
            return d...d
        case 2:
            guard let low = parse(parts[0]), let high = parse(parts[1]), low <= high else { return nil }
            return low...high
        default:
            return nil
        }
    }

    /// Short text for a duration: whole seconds as `Ns`, otherwise `Nms`.
    static func format(_ d: Duration) -> String {
        let (seconds, attos) = d.components
        if attos == 0 { return "\(seconds)s" }
        return "\(seconds * 1000 + attos / 1_000_000_000_000_000)ms"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
