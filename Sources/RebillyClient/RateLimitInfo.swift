import CashierModel
import Foundation

/// The rate-limit facts of one response.
///
/// Successes carry `X-RateLimit-Limit` and `X-RateLimit-Remaining`; a 429 carries
/// `X-RateLimit-Retry-After`, which Rebilly sends as a **UTC epoch timestamp in
/// seconds** (not a delay). When it is absent, the standard `Retry-After` is read
/// (delta-seconds or an HTTP-date). Either way `retryAfter` is converted, at the
/// moment the response arrived, into an instant of the monotonic clock that the
/// limiter's `pause(until:)` takes.
public struct RateLimitInfo: Sendable, Hashable, CustomStringConvertible {
    /// `X-RateLimit-Limit`.
    public var limit: Int?
    /// `X-RateLimit-Remaining`.
    public var remaining: Int?
    /// When the server allows requests again, on the monotonic clock.
    public var retryAfter: ContinuousClock.Instant?
    /// The same moment as UTC epoch seconds (for logs and the ledger).
    public var retryAfterEpochSeconds: Double?
    /// The server's clock minus this machine's when the answer arrived, in seconds, from its
    /// `Date` header (whole seconds, so up to one second early); nil without one.
    public var serverClockOffset: Double?

    public init(limit: Int? = nil, remaining: Int? = nil, retryAfter: ContinuousClock.Instant? = nil, retryAfterEpochSeconds: Double? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.retryAfter = retryAfter
        self.retryAfterEpochSeconds = retryAfterEpochSeconds
    }

    /// No rate-limit headers.
    public static let none = RateLimitInfo()

    public var description: String {
        var parts: [String] = []
        if let limit { parts.append("limit \(limit)") }
        if let remaining { parts.append("remaining \(remaining)") }
        if let retryAfterEpochSeconds { parts.append("retry after epoch \(Int(retryAfterEpochSeconds.rounded(.up)))") }
        return parts.isEmpty ? "no rate-limit headers" : parts.joined(separator: ", ")
    }

    /// Reads the headers through `header` (a case-insensitive lookup).
    ///
    /// The pause is measured on the server's clock when the answer has a `Date` header:
    /// `X-RateLimit-Retry-After` (the server's instant) minus the server's `Date`, so a local
    /// clock minutes ahead or behind neither skips the pause nor stretches it. (`Date` has
    /// whole seconds, so the pause may be up to one second longer, never shorter.)
    ///
    /// - Parameters:
    ///   - now: the monotonic instant the response arrived.
    ///   - epochNow: the local wall-clock time of the same moment, in UTC epoch seconds
    ///     (used only when the answer has no `Date` header).
    public static func parse(
        header: (String) -> String?,
        now: ContinuousClock.Instant = .now,
        epochNow localEpochNow: Double = Date().timeIntervalSince1970
    ) -> RateLimitInfo {
        let serverNow = header("Date").flatMap { HTTPDate.parse($0.trimmingCharacters(in: .whitespaces)) }
        let epochNow = serverNow ?? localEpochNow
        var info = RateLimitInfo()
        info.serverClockOffset = serverNow.map { $0 - localEpochNow }
        info.limit = header("X-RateLimit-Limit").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        info.remaining = header("X-RateLimit-Remaining").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        var target: Double?
        if let raw = header("X-RateLimit-Retry-After")?.trimmingCharacters(in: .whitespaces), let value = Double(raw), value.isFinite, value >= 0 {
            // An epoch timestamp. A value too small to be one (before 2001) is taken as
            // a delay in seconds, as some proxies and older APIs send.
            target = value >= 1_000_000_000 ? value : epochNow + value
        } else if let raw = header("Retry-After")?.trimmingCharacters(in: .whitespaces) {
            if !raw.isEmpty, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Double(raw) {
                target = epochNow + seconds
            } else if let date = HTTPDate.parse(raw) {
                target = date
            }
        }
        if let target {
            info.retryAfterEpochSeconds = target
            let delay = max(0, target - epochNow)
            info.retryAfter = now + .nanoseconds(Int64(min(delay, 86_400 * 7) * 1e9))
        }
        return info
    }
}

/// HTTP-date parsing (RFC 9110 §5.6.7): IMF-fixdate, the obsolete RFC 850 form and
/// asctime, to UTC epoch seconds. No Foundation formatter (locale-free and fast).
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Double? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" || $0 == ":" }).map(String.init)
        let day: Int, month: Int, year: Int, h: Int, m: Int, s: Int
        if tokens.count == 7, let mo = monthIndex(tokens[1]) {
            // asctime: Sun Nov  6 08:49:37 1994
            guard let d = Int(tokens[2]), let hh = Int(tokens[3]), let mm = Int(tokens[4]), let ss = Int(tokens[5]), let y = Int(tokens[6]) else { return nil }
            (day, month, year, h, m, s) = (d, mo, y, hh, mm, ss)
        } else if tokens.count == 8, tokens[7].uppercased() == "GMT", let mo = monthIndex(tokens[2]) {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT; RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            guard let d = Int(tokens[1]), var y = Int(tokens[3]), let hh = Int(tokens[4]), let mm = Int(tokens[5]), let ss = Int(tokens[6]) else { return nil }
            if tokens[3].count == 2 { y += y < 70 ? 2000 : 1900 }
            (day, month, year, h, m, s) = (d, mo, y, hh, mm, ss)
        } else {
            return nil
        }
        guard (1...31).contains(day), (0...23).contains(h), (0...59).contains(m), (0...60).contains(s), (1970...9999).contains(year) else { return nil }
        return Double(RFC3339.daysFromCivil(year: year, month: month, day: day) * 86_400 + h * 3600 + m * 60 + s)
    }

    private static func monthIndex(_ token: String) -> Int? {
        months.firstIndex(of: token.lowercased()).map { $0 + 1 }
    }
}
