import CashierModel
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif
import Foundation
import GRDB

extension Sequence where Element: Hashable {
    /// The elements that satisfy `isIncluded`, as a set.
    func filterSet(_ isIncluded: (Element) -> Bool) -> Set<Element> { Set(filter(isIncluded)) }
}

/// The statements every sent row goes through several times (intent, outcome, transition),
/// stepped through the SQLite C API on GRDB's cached statements: no `StatementArguments`
/// array, no boxed values, one `sqlite3_step` each. On the sending benchmark the ledger writer
/// thread is the serial resource every row waits on, so its cost per operation is the job's
/// throughput. Semantics and errors are exactly those of the checked versions. Measured with the
/// legality checks folded into these UPDATEs and timestamps without ICU (one change, not apart):
/// CPU per 1,000 rows sent 0.428 → 0.335–0.350 s (docs/performance.md, "Sending").
enum LedgerHotPath {
    /// Steps a write statement once; returns how many rows it changed.
    @inline(__always)
    static func write(_ db: Database, _ sql: String, _ bind: (OpaquePointer?) -> Void) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        bind(handle)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
        }
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    /// Steps a one-integer query; nil when it returns no row.
    @inline(__always)
    static func int64(_ db: Database, _ sql: String, _ bind: (OpaquePointer?) -> Void) throws -> Int64? {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        bind(handle)
        defer { sqlite3_reset(handle); sqlite3_clear_bindings(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return sqlite3_column_int64(handle, 0)
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
        }
    }

    static func bind(_ handle: OpaquePointer?, _ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    static func bind(_ handle: OpaquePointer?, _ index: Int32, _ value: Int?) {
        bind(handle, index, value.map(Int64.init))
    }

    static func bind(_ handle: OpaquePointer?, _ index: Int32, _ value: String?) {
        bindText(handle, index, value)
    }

    /// The row's state, for the error of a refused hot write.
    static func state(_ db: Database, rowID: Int64) throws -> RowState? {
        guard let raw = try String.fetchOne(db.cachedStatement(sql: LedgerSQL.rowStateByID), arguments: [rowID]) else { return nil }
        return try decodeEnum(raw, table: "rows") as RowState
    }

    static func touchSQL(for operation: AttemptOperation) -> String {
        switch operation {
        case .createCashier: LedgerSQL.hotTouchRowForCashier
        case .createDepositRequest: LedgerSQL.hotTouchRowForDeposit
        case .listDepositRequests, .getCashier, .getDepositRequest: LedgerSQL.hotTouchRowForRead
        }
    }
}
