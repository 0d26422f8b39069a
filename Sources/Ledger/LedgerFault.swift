import Foundation
import GRDB

/// Why the ledger file cannot be used, and what the operator does about it. Every command
/// maps it to exit 74 (EX_IOERR) and prints ``description``: one sentence naming the file,
/// the cause, then the fix.
public struct LedgerFault: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Cause: Sendable, Equatable {
        /// A write could not be made durable: the disk (or a file-size limit) is full.
        case diskFull
        /// The operating system failed a read or a write.
        case ioError
        /// The file, its directory or a `-wal`/`-shm` companion cannot be written by this user.
        case readOnly
        /// `PRAGMA quick_check` (or SQLite itself) found the file damaged.
        case corrupt
        /// An SQLite file of another program, or not an SQLite file at all.
        case notALedger
        /// A ledger of a newer cashier-batch (schema `found`; this one knows `known`).
        case newerVersion(found: Int, known: Int)
        /// An older ledger that must be upgraded before it can be read, and cannot be written.
        case olderVersion(found: Int, known: Int)
        /// `--db` names a directory.
        case isDirectory
        /// The file cannot be created or opened (missing directory, permissions).
        case cannotOpen
        /// A read-only command was given a path where no ledger exists.
        case missing
        /// The ledger file has `links` hard links: more than one name, each of which would lock apart.
        case manyNames(links: Int)
        /// The run lock beside the ledger is not a plain file of its own (a symbolic link, a hard link).
        case lockNotPlain
        /// A value in `table` breaks the ledger's own schema (a hand edit, or damage SQLite did not see).
        case invalidContent(table: String)
    }

    public let path: String
    public let cause: Cause
    /// What SQLite or the system said (already one line).
    public let detail: String

    public init(path: String, cause: Cause, detail: String) {
        self.path = path
        self.cause = cause
        self.detail = detail
    }

    public var description: String {
        let why = detail.isEmpty ? "" : " (\(detail))"
        switch cause {
        case .diskFull:
            return "the ledger \(path) could not record: its disk is full\(why); the run stopped sending at once. "
                + "Free space there, then run `cashier-batch retry --db \(path)`: calls that were in flight are checked before anything is sent again"
        case .ioError:
            return "the ledger \(path) could not record: I/O error\(why); the run stopped sending at once. "
                + "Check the disk, then run `cashier-batch retry --db \(path)`: calls that were in flight are checked before anything is sent again"
        case .readOnly:
            return "the ledger \(path) cannot be written by this user\(why): make it and its -wal/-shm files writable "
                + "(chmod 600 \(path)*, owned by the job's user) or give --db a writable path"
        case .corrupt:
            return "the ledger \(path) is damaged\(why); nothing was sent and the file was left untouched. "
                + "Recover it with `sqlite3 \(path) .recover | sqlite3 recovered.sqlite` (then give --db recovered.sqlite) or restore it from a backup"
        case .notALedger:
            return "\(path) is not a cashier-batch ledger\(why); nothing was written to it: give --db a ledger, or a path where none exists yet"
        case let .newerVersion(found, known):
            return "the ledger \(path) was written by a newer cashier-batch (schema \(found); this one knows \(known)); "
                + "nothing was written to it: run the newer cashier-batch"
        case let .olderVersion(found, known):
            return "the ledger \(path) was written by an older cashier-batch (schema \(found); this one reads \(known)) and cannot be upgraded here\(why): "
                + "make it writable once, or open it with any writing command (run, retry, reconcile), which upgrades it"
        case .isDirectory:
            return "--db \(path) is a directory: give the ledger's file path, e.g. \(path)/cashier-batch.sqlite"
        case .cannotOpen:
            return "the ledger \(path) cannot be opened\(why): give --db a path in a directory this user can write"
        case .missing:
            return "no ledger at \(path): give --db the ledger file of the runs"
        case let .manyNames(links):
            return "the ledger \(path) has \(links) hard links; nothing was written to it: a ledger must have one name "
                + "(each name would take its own lock and journal, and two runs could send the same rows); "
                + "remove the other names (`find / -xdev -samefile \(path)`), or reach it by a symbolic link"
        case let .invalidContent(table):
            return "the ledger \(path) holds a value its schema does not allow in table \(table)\(why); it was edited by hand or damaged, "
                + "and nothing more was read from it: correct that row with sqlite3, or restore the ledger from a backup"
        case .lockNotPlain:
            return "the run lock \(path).lock is not a plain file of its own\(why); nothing was written through it: "
                + "remove it (no run holds a lock that is a link) and run again"
        }
    }

    /// The fault behind an error SQLite (through GRDB) reported on this ledger, or nil when the
    /// error is not about the file (a constraint, a logic error).
    public static func classify(_ error: any Error, path: String) -> LedgerFault? {
        if let fault = error as? LedgerFault { return fault }
        if let stored = error as? StoredValueError {
            return LedgerFault(path: path, cause: .invalidContent(table: stored.table ?? "?"), detail: stored.detail)
        }
        if error is RowDecodingError {
            // A value read outside a record: the statement names its table.
            let text = "\(error)"
            let table = text.range(of: #"(?i)\bFROM\s+(\w+)"#, options: .regularExpression)
                .map { String(text[$0].split(whereSeparator: \.isWhitespace).last ?? "?") } ?? "?"
            return LedgerFault(path: path, cause: .invalidContent(table: table), detail: StoredValueError.oneLine(text))
        }
        guard let database = error as? DatabaseError else { return nil }
        let detail = "SQLite error \(database.extendedResultCode.rawValue): \(database.message ?? "\(database.resultCode)")"
        switch database.resultCode {
        case .SQLITE_FULL: return LedgerFault(path: path, cause: .diskFull, detail: detail)
        case .SQLITE_IOERR: return LedgerFault(path: path, cause: .ioError, detail: detail)
        case .SQLITE_READONLY, .SQLITE_PERM: return LedgerFault(path: path, cause: .readOnly, detail: detail)
        case .SQLITE_CORRUPT: return LedgerFault(path: path, cause: .corrupt, detail: detail)
        case .SQLITE_NOTADB: return LedgerFault(path: path, cause: .notALedger, detail: detail)
        case .SQLITE_CANTOPEN: return LedgerFault(path: path, cause: .cannotOpen, detail: detail)
        default: return nil
        }
    }
}
