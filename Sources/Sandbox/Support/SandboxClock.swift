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

    /// `Sun, 06 Nov 1994 08:49:37 GMT`: whole seconds, UTC, English names, whatever the locale.
    static func httpDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (index 4, Sunday 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let yearText = String(year)
        return "\(weekdays[weekday]), \(two(day)) \(months[month - 1]) \(String(repeating: "0", count: max(0, 4 - yearText.count)))\(yearText) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
