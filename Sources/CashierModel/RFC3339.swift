import Foundation

/// RFC 3339 date-times (`2026-11-22T06:00:00Z`, `2026-11-22T08:00:00.250+02:00`): the one
/// parser behind the batch's `deposit.expirationTime` rule and every time an API answer
/// carries (`createdTime`), locale-free and without a Foundation formatter.
public enum RFC3339 {
    /// Why a text is not an RFC 3339 date-time.
    public struct Problem: Error, Sendable, Equatable {
        public let message: String
    }

    /// The instant `text` names, or nil when it is not an RFC 3339 date-time.
    public static func date(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes in
            guard case let .success(date) = parse(bytes: bytes) else { return nil }
            return date
        }
    }

    /// Parses and checks the UTF-8 bytes of a date-time (seconds 60, a leap second, count as 59).
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Result<Date, Problem> {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard isDigit(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        let shape = Problem(message: "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z")
        guard b.count >= 20, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              b[7] == UInt8(ascii: "-"), let day = digits(8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
              b[16] == UInt8(ascii: ":"), let second = digits(17, 2) else { return .failure(shape) }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var scale = 0.1
            while i < b.count, isDigit(b[i]) {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return .failure(shape) }
        }
        guard i < b.count else { return .failure(shape) }
        var offsetSeconds = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let offsetHour = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                  let offsetMinute = digits(i + 4, 2) else { return .failure(shape) }
            if offsetHour > 23 || offsetMinute > 59 { return .failure(Problem(message: "has an invalid UTC offset")) }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return .failure(shape)
        }
        guard i == b.count else { return .failure(shape) }
        guard (1...12).contains(month) else { return .failure(Problem(message: "has month \(month), not 1–12")) }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days: Int
        switch month {
        case 2: days = leap ? 29 : 28
        case 4, 6, 9, 11: days = 30
        default: days = 31
        }
        guard (1...days).contains(day) else { return .failure(Problem(message: "has day \(day), not 1–\(days) for that month")) }
        guard hour <= 23, minute <= 59, second <= 60 else { return .failure(Problem(message: "has an invalid time of day")) }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return .success(Date(timeIntervalSince1970: Double(seconds) + fraction))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `date` in UTC to the whole second (`2026-11-22T06:00:17Z`), the fraction dropped.
    public static func string(_ date: Date) -> String {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondOfDay = total - days * 86_400
        let (year, month, day) = civilFromDays(days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let yearText = String(year).count >= 4 ? String(year) : String(repeating: "0", count: 4 - String(year).count) + String(year)
        return "\(yearText)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
