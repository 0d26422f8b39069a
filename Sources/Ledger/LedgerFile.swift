import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// What lies at a ledger path, found without writing a byte: the file is read through its
/// header and a read-only SQLite connection before the ledger opens it for real.
///
/// A ledger carries `PRAGMA application_id` ``applicationID`` and its schema version in
/// `PRAGMA user_version`. Ledgers made before the mark existed are recognised by their
/// migration table (`grdb_migrations` holding only this job's migrations).
///
/// It uses SQLite's C API directly, not GRDB: a file that may not be a ledger is opened without
/// creating it, and no connection setup runs on it. Each SQLite result code maps to one
/// ``LedgerFault`` cause. This is not a hot path.
enum LedgerFile {
    /// `application_id` of every ledger: "CBLG".
    static let applicationID: Int32 = 0x4342_4C47

    enum Found: Equatable {
        /// Nothing at the path, or an empty file: a new ledger.
        case new
        /// A ledger of this job at schema `version` (0 for one made before the mark existed).
        case ledger(version: Int)
    }

    /// Identifies the file at `path`; with `quickCheck`, also runs `PRAGMA quick_check` on it.
    static func inspect(path: String, knownMigrations: [String], quickCheck: Bool) throws(LedgerFault) -> Found {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return .new }
            throw LedgerFault(path: path, cause: .cannotOpen, detail: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw LedgerFault(path: path, cause: .isDirectory, detail: "") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw LedgerFault(path: path, cause: .notALedger, detail: "not a regular file")
        }
        if info.st_size == 0 { return .new }
        let header = try readHeader(path)
        guard header.count >= 100, header.starts(with: Array("SQLite format 3\u{0}".utf8)) else {
            throw LedgerFault(path: path, cause: .notALedger, detail: "not an SQLite database")
        }
        let db = try openReadOnly(path)
        defer { sqlite3_close_v2(db) }
        let appID = try Int32(truncatingIfNeeded: integer(db, "PRAGMA application_id", path: path))
        let version = try integer(db, "PRAGMA user_version", path: path)
        let known = knownMigrations.count
        switch appID {
        case applicationID:
            if version > known { throw LedgerFault(path: path, cause: .newerVersion(found: version, known: known), detail: "") }
        case 0:
            // Before the mark: a ledger only if its migrations are this job's.
            let tables = try texts(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", path: path)
            guard tables.contains("grdb_migrations") else {
                let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
                throw LedgerFault(path: path, cause: .notALedger,
                                  detail: tables.isEmpty ? "an SQLite database without tables" : "an SQLite database with tables \(shown)")
            }
            let applied = try texts(db, "SELECT identifier FROM grdb_migrations", path: path)
            guard applied.contains("v1"), applied.allSatisfy(knownMigrations.contains) else {
                throw LedgerFault(path: path, cause: .notALedger, detail: "its migrations are not cashier-batch's")
            }
        default:
            throw LedgerFault(path: path, cause: .notALedger,
                              detail: "its application_id is \(String(format: "0x%08X", UInt32(bitPattern: appID))), another program's")
        }
        if quickCheck { try checkContent(path: path, readOnly: db) }
        return .ledger(version: appID == applicationID ? version : 0)
    }

    /// `PRAGMA quick_check`, on a writing connection where the file can be written: only there
    /// does SQLite also check every row against the CHECK and NOT NULL constraints, which a hand
    /// edit past `ignore_check_constraints` breaks. A value that breaks them is
    /// ``LedgerFault/Cause/invalidContent(table:)``, naming its table; anything else is damage.
    static func checkContent(path: String, readOnly: OpaquePointer?) throws(LedgerFault) {
        var db = readOnly
        var writable: OpaquePointer?
        if access(path, W_OK) == 0, sqlite3_open_v2(path, &writable, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK {
            sqlite3_busy_timeout(writable, 10_000)
            db = writable
        }
        defer { if writable != nil { sqlite3_close_v2(writable) } }
        let problems = try texts(db, "PRAGMA quick_check(3)", path: path)
        guard problems != ["ok"] else { return }
        let detail = "quick_check: " + problems.joined(separator: "; ")
        // "CHECK constraint failed in runs", "NULL value in rows.updated_at"
        let tables = problems.compactMap { line -> String? in
            for prefix in ["CHECK constraint failed in ", "NULL value in "] where line.hasPrefix(prefix) {
                return String(line.dropFirst(prefix.count).prefix { $0 != "." && $0 != " " })
            }
            return nil
        }
        guard tables.count == problems.count, let first = tables.first else {
            throw LedgerFault(path: path, cause: .corrupt, detail: detail)
        }
        throw LedgerFault(path: path, cause: .invalidContent(table: first), detail: detail)
    }

    /// Before a writing open: the file, its companions and its directory must be writable.
    /// A `-wal`/`-shm` of this user left unwritable (SQLite gives them the ledger's mode, so a
    /// ledger once made 0400 leaves 0400 companions) is made 0600 again.
    static func checkWritable(path: String) throws(LedgerFault) {
        let directory = (path as NSString).deletingLastPathComponent
        let dir = directory.isEmpty ? "." : directory
        if access(path, F_OK) == 0, access(path, W_OK) != 0 {
            throw LedgerFault(path: path, cause: .readOnly, detail: "\(path): \(String(cString: strerror(errno)))")
        }
        if access(dir, F_OK) == 0, access(dir, W_OK | X_OK) != 0 {
            throw LedgerFault(path: path, cause: .readOnly, detail: "directory \(dir): \(String(cString: strerror(errno)))")
        }
        for suffix in ["-wal", "-shm"] {
            let companion = path + suffix
            var info = stat()
            guard stat(companion, &info) == 0, access(companion, W_OK) != 0 else { continue }
            if info.st_uid == getuid(), chmod(companion, 0o600) == 0 { continue }
            throw LedgerFault(path: path, cause: .readOnly, detail: "\(companion): \(String(cString: strerror(errno)))")
        }
    }

    private static func readHeader(_ path: String) throws(LedgerFault) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerFault(path: path, cause: .cannotOpen, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 100)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 100, 0) }
        return n > 0 ? Array(bytes[0..<n]) : []
    }

    private static func openReadOnly(_ path: String) throws(LedgerFault) -> OpaquePointer? {
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil)
        guard code == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(code)"
            sqlite3_close_v2(db)
            throw fault(code, message, path: path)
        }
        sqlite3_busy_timeout(db, 10_000)
        return db
    }

    private static func integer(_ db: OpaquePointer?, _ sql: String, path: String) throws(LedgerFault) -> Int {
        var value = 0
        try query(db, sql, path: path) { value = Int(sqlite3_column_int64($0, 0)) }
        return value
    }

    private static func texts(_ db: OpaquePointer?, _ sql: String, path: String) throws(LedgerFault) -> [String] {
        var values: [String] = []
        try query(db, sql, path: path) { statement in
            values.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
        }
        return values
    }

    private static func query(_ db: OpaquePointer?, _ sql: String, path: String, _ row: (OpaquePointer?) -> Void) throws(LedgerFault) {
        var statement: OpaquePointer?
        var code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard code == SQLITE_OK else { throw fault(code, String(cString: sqlite3_errmsg(db)), path: path) }
        while true {
            code = sqlite3_step(statement)
            if code == SQLITE_ROW { row(statement); continue }
            if code == SQLITE_DONE { return }
            throw fault(code, String(cString: sqlite3_errmsg(db)), path: path)
        }
    }

    private static func fault(_ code: Int32, _ message: String, path: String) -> LedgerFault {
        let detail = "SQLite error \(code): \(message)"
        switch code & 0xFF {
        case SQLITE_NOTADB: return LedgerFault(path: path, cause: .notALedger, detail: detail)
        case SQLITE_CORRUPT: return LedgerFault(path: path, cause: .corrupt, detail: detail)
        case SQLITE_READONLY, SQLITE_PERM: return LedgerFault(path: path, cause: .readOnly, detail: detail)
        case SQLITE_IOERR: return LedgerFault(path: path, cause: .ioError, detail: detail)
        default: return LedgerFault(path: path, cause: .cannotOpen, detail: detail)
        }
    }
}
