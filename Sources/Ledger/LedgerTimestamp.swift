import CashierModel
import Foundation
import GRDB

/// The ledger's timestamp text, `yyyy-MM-dd HH:mm:ss.SSS` in UTC — exactly what GRDB writes for
/// a `Date` (and reads back), without going through a `DateFormatter`: the writer stamps four
/// rows per customer, and ICU formatting was a visible share of its time.
enum LedgerTimestamp {
    /// Milliseconds since the epoch, rounded to the nearest, as ICU does for GRDB (tested): how
    /// `attempt_log` and `figure_log` store a moment.
    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func text(_ date: Date) -> String {
        let totalMillis = millis(date)
        let days = totalMillis >= 0 ? totalMillis / 86_400_000 : (totalMillis - 86_399_999) / 86_400_000
        let msOfDay = totalMillis - days * 86_400_000
        let (civilYear, civilMonth, civilDay) = RFC3339.civilFromDays(Int(days))
        let year = Int64(civilYear), month = Int64(civilMonth), day = Int64(civilDay)
        let hour = msOfDay / 3_600_000, minute = msOfDay / 60_000 % 60, second = msOfDay / 1000 % 60, ms = msOfDay % 1000

        var bytes = [UInt8](repeating: 0, count: 23)
        func put(_ value: Int64, at offset: Int, width: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            }
        }
        put(year, at: 0, width: 4); bytes[4] = 45  // -
        put(month, at: 5, width: 2); bytes[7] = 45
        put(day, at: 8, width: 2); bytes[10] = 32  // space
        put(hour, at: 11, width: 2); bytes[13] = 58  // :
        put(minute, at: 14, width: 2); bytes[16] = 58
        put(second, at: 17, width: 2); bytes[19] = 46  // .
        put(ms, at: 20, width: 3)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func value(_ date: Date) -> DatabaseValue { text(date).databaseValue }
}
