import Foundation

/// The sandbox's one source of "now". The server's clock may be off the machine's
/// (`clockOffsetSeconds`): it stamps createdTime and updatedTime and dates the `Date` header.
/// A proxy in front may be off again (`dateHeaderOffsetSeconds`), which moves the header only.
struct SandboxClock: Sendable {
    /// The largest offset either may have: a year either way.
    static let maximumOffset: Double = 366 * 86_400

    var offset: TimeInterval = 0
    var dateHeaderOffset: TimeInterval = 0

    init(offset: TimeInterval = 0, dateHeaderOffset: TimeInterval = 0) {
        self.offset = offset
        self.dateHeaderOffset = dateHeaderOffset
    }

    init(_ configuration: SandboxConfiguration) {
        self.init(offset: configuration.clockOffsetSeconds, dateHeaderOffset: configuration.dateHeaderOffsetSeconds)
    }

    /// The server's time.
    func now() -> Date { Date().addingTimeInterval(offset) }

    /// The time the `Date` header shows.
    func dateHeaderNow() -> Date { now().addingTimeInterval(dateHeaderOffset) }

    /// The `Date` header's value now (RFC 9110 IMF-fixdate).
    func dateHeader() -> String { Self.httpDate(dateHeaderNow()) }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`: whole seconds, UTC, English names, whatever the locale
    /// (the C library's calendar, `gmtime_r`).
    static func httpDate(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : String(n) }
        let year = String(parts.tm_year + 1900)
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + String(repeating: "0", count: max(0, 4 - year.count)) + year
            + " \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
