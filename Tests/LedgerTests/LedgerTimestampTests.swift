import Foundation
import GRDB
@testable import Ledger
import Testing

@Suite struct LedgerTimestampTests {
    @Test("the fast formatter writes GRDB's format for a Date (same instant to the millisecond), and GRDB reads it back")
    func sameTextAsGRDB() throws {
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999),  // 2000-02-29 00:00:00.999
            Date(timeIntervalSince1970: 4_107_542_399.5),  // 2100-02-28 23:59:59.5
            Date(timeIntervalSince1970: 1_795_305_600.25), Date(timeIntervalSince1970: -1.25),
        ]
        #expect(dates.map(LedgerTimestamp.text) == ["1970-01-01 00:00:00.000", "2000-02-29 00:00:00.999", "2100-02-28 23:59:59.500",
                                                    "2026-11-22 00:00:00.250", "1969-12-31 23:59:58.750"])
        for _ in 0..<20_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -2e9...5e9, using: &generator))) }
        for date in dates {
            // ICU and this formatter may round a value within a hair of half a millisecond apart.
            let grdb = try #require(Date.fromDatabaseValue(date.databaseValue))
            let back = try #require(Date.fromDatabaseValue(LedgerTimestamp.value(date)))
            #expect(LedgerTimestamp.text(date).count == 23)
            #expect(abs(back.timeIntervalSince(date)) <= 0.0005 + 1e-6, "\(date.timeIntervalSince1970)")
            #expect(abs(back.timeIntervalSince(grdb)) <= 0.001 + 1e-6, "\(date.timeIntervalSince1970)")
        }
    }
}
