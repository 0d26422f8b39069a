import CashierModel
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// SQLite copies the bytes before `sqlite3_bind_text` returns.
nonisolated(unsafe) let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

@inline(__always)
func bindText(_ handle: OpaquePointer?, _ index: Int32, _ value: String?) {
    if let value, value.isEmpty {
        sqlite3_bind_text(handle, index, "", 0, sqliteTransient)  // '' — a nil base address would bind NULL
    } else if let value {
        _ = value.utf8.withContiguousStorageIfAvailable { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient)
            }
        } ?? sqlite3_bind_text(handle, index, value, -1, sqliteTransient)
    } else {
        sqlite3_bind_null(handle, index)
    }
}

/// The durable SQLite ledger of every run, batch, row, attempt and break.
///
/// One file (plus its `-wal` and `-shm` companions) opened through a GRDB
/// `DatabasePool` in WAL mode: many concurrent readers, one writer at a time.
///
/// Attempts and row states are written only through ``writer(maxGroupSize:)``:
/// a ``LedgerWriter`` commits concurrent intents, outcomes and transitions
/// together on its own thread, each durable before its call returns, so a
/// caller that records an intent before an API call and the outcome after it
/// loses nothing when the process dies at any instant.
///
/// The ledger's own methods (runs, staging, reconciliations, maintenance,
/// reads) are synchronous; each that writes is ONE transaction, committed
/// before it returns. They may block briefly on the single writer: call them
/// from a thread that may block (not from a tight event loop). The ledger is
/// `Sendable`: share one instance among all workers of a run.
///
/// The file is created with mode 0600 (it holds customer ids); an existing
/// ledger with group/other permission bits is tightened to 0600 on open.
public final class Ledger: Sendable {
    /// How hard each commit is pushed to disk (`PRAGMA synchronous`).
    public enum Durability: Sendable {
        /// `synchronous = FULL`: a commit survives power loss. Default.
        case full
        /// `synchronous = NORMAL`: a commit survives a process crash (kill -9)
        /// but the last commits may be lost on power loss. Faster per commit.
        case normal
    }

    /// The ledger file path.
    public let path: String
    /// Shared with ``LedgerWriter`` (same module): both write through this pool's one writer connection.
    let pool: DatabasePool
    /// The timestamp source; ``LedgerWriter`` stamps an operation when it is enqueued, the ledger's own writes on call.
    let now: @Sendable () -> Date

    /// How a command uses the ledger.
    public enum Access: Sendable {
        /// Sending and staging commands: created if absent (0600), migrated forward.
        case write
        /// `runs`, `report`: never created and never written (an older ledger that must be
        /// upgraded first is upgraded, when it can be written, before it is read).
        case read
    }

    /// Opens the ledger at `path` and applies any pending migrations.
    ///
    /// Nothing is written before the file is known to be a ledger of this job (or absent,
    /// or empty): another program's SQLite file, a file that is not SQLite, a ledger of a
    /// newer cashier-batch and (with `quickCheck`) a damaged ledger are refused untouched.
    ///
    /// - Parameters:
    ///   - path: The SQLite file. Its `-wal`/`-shm` companions live beside it.
    ///   - access: ``Access/write`` creates the file (mode 0600, parent directories 0700).
    ///   - quickCheck: Run `PRAGMA quick_check` first (the sending commands do).
    ///   - durability: See ``Durability``; `.full` unless you know better.
    ///   - busyTimeout: How long a write waits for another connection's lock (seconds).
    ///   - clock: The source of timestamps (tests inject a fixed clock).
    /// - Throws: ``LedgerFault`` when the file cannot be used.
    public init(
        path: String,
        access: Access = .write,
        quickCheck: Bool = false,
        durability: Durability = .full,
        busyTimeout: TimeInterval = 10,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(LedgerFault) {
        self.path = path
        self.now = clock
        let migrator = LedgerSchema.migrator
        let path = try LedgerLocation.resolve(path)
        let found = try LedgerFile.inspect(path: path, knownMigrations: LedgerSchema.migrationIDs, quickCheck: quickCheck)
        let current = LedgerSchema.migrationIDs.count
        do {
            switch access {
            case .write:
                try LedgerFile.checkWritable(path: path)
                try Self.prepareFile(at: path)
                pool = try DatabasePool(path: path, configuration: Self.configuration(durability: durability, busyTimeout: busyTimeout))
                try Self.migrate(pool, migrator)
                Self.protectCompanions(of: path)
            case .read:
                guard case let .ledger(version) = found else { throw LedgerFault(path: path, cause: .missing, detail: "") }
                if version < current {
                    // An older ledger is upgraded once by a writing open, then read.
                    do {
                        try LedgerFile.checkWritable(path: path)
                        let upgrade = try DatabasePool(path: path, configuration: Self.configuration(durability: durability, busyTimeout: busyTimeout))
                        try Self.migrate(upgrade, migrator)
                        try upgrade.close()
                    } catch {
                        let detail = (error as? LedgerFault)?.detail ?? "\(error)"
                        throw LedgerFault(path: path, cause: .olderVersion(found: version, known: current), detail: detail)
                    }
                }
                var config = Self.configuration(durability: durability, busyTimeout: busyTimeout)
                config.readonly = true
                pool = try DatabasePool(path: path, configuration: config)
            }
        } catch let fault as LedgerFault {
            throw fault
        } catch {
            throw LedgerFault.classify(error, path: path) ?? LedgerFault(path: path, cause: .cannotOpen, detail: "\(error)")
        }
    }

    /// What a writing command checks before it takes the run lock (which creates `PATH.lock`
    /// beside the ledger): the path holds no foreign file, and the ledger, its companions and
    /// its directory are writable. Writes nothing.
    public static func preflight(path: String) throws(LedgerFault) {
        let path = try LedgerLocation.resolve(path)
        _ = try LedgerFile.inspect(path: path, knownMigrations: LedgerSchema.migrationIDs, quickCheck: false)
        try LedgerFile.checkWritable(path: path)
    }

    private static func configuration(durability: Durability, busyTimeout: TimeInterval) -> Configuration {
        var config = Configuration()
        config.label = "ledger"
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        config.busyMode = .timeout(busyTimeout)
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // The group writer wraps every operation in a SAVEPOINT; SQLite keeps each savepoint's
            // undo pages in a statement journal, by default a temporary FILE: two pwrite calls per
            // page per operation (~25 per customer, the largest cost of the writer thread). In
            // memory it costs a memcpy. Nothing durable lives there: the WAL holds the commits.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    private static func migrate(_ pool: DatabasePool, _ migrator: DatabaseMigrator) throws {
        if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
            let applied = try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grdb_migrations") ?? 0 }
            throw LedgerFault(path: pool.path, cause: .newerVersion(found: applied, known: LedgerSchema.migrationIDs.count),
                              detail: "unknown migrations")
        }
        try migrator.migrate(pool)
    }

    /// Closes the database connections. Further calls throw.
    public func close() throws {
        try pool.close()
    }

    /// The row key (hashed into `rows.key_hash`): websiteId, customerId and currency
    /// joined by U+001F (unit separator), which cannot appear in a valid id.
    public static func rowKey(websiteID: String, customerID: String, currency: String) -> String {
        "\(websiteID)\u{1F}\(customerID)\u{1F}\(currency)"
    }

    /// What the ledger keeps of a row's canonical payload: FNV-1a, 64 bit, of its UTF-8 bytes
    /// (the repeat check compares it; the row's source is kept whole).
    public static func payloadHash(_ payloadJSON: String) -> Int64 {
        Int64(bitPattern: Shard.fnv1a64(payloadJSON.utf8))
    }

    /// `rows.key_hash`: the same hash of ``rowKey(websiteID:customerID:currency:)``, indexed; a
    /// lookup by key compares it, then the three columns.
    public static func keyHash(_ rowKey: String) -> Int64 { payloadHash(rowKey) }

    /// The names of the migrations applied to this ledger, oldest first.
    func appliedMigrations() throws -> [String] {
        try pool.read { try LedgerSchema.migrator.appliedMigrations($0) }
    }
}
