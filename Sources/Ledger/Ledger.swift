import CashierModel
import Foundation
import GRDB
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

#if canImport(Glibc)
private let closeDescriptor = Glibc.close
#elseif canImport(Darwin)
private let closeDescriptor = Darwin.close
#endif

/// The durable SQLite ledger of every run, batch, row, attempt and break.
///
/// One file (plus its `-wal` and `-shm` companions) opened through a GRDB
/// `DatabasePool` in WAL mode: many concurrent readers, one writer at a time.
/// Every public method that writes is ONE transaction, committed before it
/// returns, so a caller that records an intent before an API call and the
/// outcome after it loses nothing when the process dies at any instant.
///
/// The ledger is `Sendable`: share one instance among all workers of a run.
/// Its methods are synchronous and may block briefly on the single writer;
/// call them from a thread that may block (not from a tight event loop).
/// From Swift concurrency, for the per-request writes (intent, outcome,
/// transition), use ``writer(maxGroupSize:)``: a ``LedgerWriter`` commits
/// concurrent calls together on its own thread, with the same durability.
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
    /// The timestamp source; ``LedgerWriter`` stamps an operation when it is enqueued, as the sync API does on call.
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
    public func appliedMigrations() throws -> [String] {
        try pool.read { try LedgerSchema.migrator.appliedMigrations($0) }
    }

    // MARK: - Runs

    /// Records the start of a run (status `running`, this process's pid and host name).
    ///
    /// - Parameter optionsJSON: The effective options as a JSON object. It must
    ///   never hold a secret: keys such as `apiKey`, `secret`, `password`,
    ///   `token` are refused, and so is the value of `REBILLY_API_KEY` anywhere
    ///   in the text. (`apiKeyFile`, a path, is fine.)
    /// - Returns: The new run id.
    public func beginRun(command: String, optionsJSON: String = "{}") throws -> Int64 {
        try Self.checkNoSecrets(optionsJSON)
        let started = now()
        let pid = Int64(getpid())
        let host = Self.hostname()
        return try pool.write { db in
            try db.cachedStatement(sql: LedgerSQL.insertRun)
                .execute(arguments: [command, started, optionsJSON, pid, host])
            return db.lastInsertedRowID
        }
    }

    /// Closes a run with its final status and exit code.
    public func finishRun(id: Int64, status: RunStatus, exitCode: Int32) throws {
        let finished = now()
        try pool.write { db in
            try db.cachedStatement(sql: LedgerSQL.finishRun)
                .execute(arguments: [status.rawValue, Int64(exitCode), finished, id])
            if db.changesCount == 0 { throw LedgerError.noSuchRun(id) }
        }
        // The statistics SQLite plans with, kept current as the ledger grows night after night;
        // `analysis_limit` bounds the work on big tables. Best effort: a failure here changes no record.
        try? pool.write { db in
            try db.execute(sql: "PRAGMA analysis_limit = 1000")
            try db.execute(sql: "PRAGMA optimize")
        }
    }

    /// One run, or nil.
    public func run(id: Int64) throws -> RunRecord? {
        try pool.read { db in
            try RunRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.runByID), arguments: [id])
        }
    }

    /// The most recent run of one of `commands` (before run `before`, when given): "the last
    /// run", the one way every command finds it (`retry`, `reconcile` and `report` look for the
    /// last of ``RunRecord/nightCommands``).
    public func lastRun(of commands: Set<String>, before: Int64? = nil) throws -> RunRecord? {
        let names = "[" + commands.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return try pool.read { db in
            try RunRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.lastRunOf), arguments: [names, before ?? Int64.max])
        }
    }

    /// The most recent run (other than `excluding`) that staged a batch first: its options say
    /// which shard's rows this ledger holds.
    public func lastStagingRun(excluding: Int64? = nil) throws -> RunRecord? {
        try pool.read { db in
            try RunRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.lastStagingRun), arguments: [excluding ?? 0])
        }
    }

    /// The most recent runs, newest first.
    public func runs(limit: Int = 50) throws -> [RunRecord] {
        try pool.read { db in
            try RunRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.recentRuns), arguments: [limit])
        }
    }

    /// Repairs what an ended run left behind. Call it right after taking the run lock (so no
    /// other live process owns a run):
    ///
    /// - every other run still `running` becomes `crashed` (its process is gone);
    /// - every call another run left in flight, whatever that run recorded as its end (a signal,
    ///   a crash, a full disk), becomes `lost`;
    /// - the rows of those calls that were deposit-request creates become `in_doubt`: the
    ///   request may have been created, so it is listed before anything is sent again.
    ///
    /// A `create_cashier` in flight leaves its row as it was: repeating a
    /// cashier create is safe (the API answers 200 with the existing cashier).
    public func recoverCrashedRuns(currentRunID: Int64) throws -> CrashRecovery {
        let at = now()
        return try pool.write { db in
            let stale = try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.staleRunIDs), arguments: [currentRunID])
            let unfinished = try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.runIDsWithCallsInFlight), arguments: [currentRunID])
            try db.cachedStatement(sql: LedgerSQL.markRowsInDoubtForCallsInFlight).execute(arguments: [at, currentRunID])
            let inDoubt = db.changesCount
            try db.cachedStatement(sql: LedgerSQL.markCallsInFlightLost).execute(arguments: [currentRunID])
            let lost = db.changesCount
            try db.cachedStatement(sql: LedgerSQL.markStaleRunsCrashed).execute(arguments: [at, currentRunID])
            return CrashRecovery(crashedRunIDs: stale, runsWithCallsInFlight: unfinished, lostAttempts: lost, rowsMarkedInDoubt: inDoubt)
        }
    }

    // MARK: - Batches

    /// Returns the batch with this SHA-256 if the ledger knows it (the same file
    /// loaded twice reuses its batch and rows), else inserts it. Either way the
    /// batch is linked to `runID` in `run_batches`, unless `prune` removed its rows.
    public func upsertBatch(_ batch: NewBatch, runID: Int64) throws -> (batch: BatchRecord, existed: Bool) {
        let created = now()
        let sha = batch.sha256.lowercased()
        return try pool.write { db in
            var existed = true
            var record = try BatchRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.batchBySHA), arguments: [sha])
            if record == nil {
                existed = false
                try db.cachedStatement(sql: LedgerSQL.insertBatch)
                    .execute(arguments: [sha, batch.path, batch.format.rawValue, batch.gzip, created, runID])
                record = try BatchRecord.fetchOne(
                    db.cachedStatement(sql: LedgerSQL.batchByID), arguments: [db.lastInsertedRowID])
            }
            guard let record else { throw LedgerError.noSuchBatch(db.lastInsertedRowID) }
            // A pruned batch has no rows left to account for: no run takes it up again.
            if record.prunedAt == nil {
                try db.cachedStatement(sql: LedgerSQL.linkRunBatch).execute(arguments: [runID, record.id])
            }
            return (record, existed)
        }
    }

    /// One batch, or nil.
    public func batch(id: Int64) throws -> BatchRecord? {
        try pool.read { db in
            try BatchRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.batchByID), arguments: [id])
        }
    }

    /// The batch with this SHA-256 (lower-case hex), or nil.
    public func batch(sha256: String) throws -> BatchRecord? {
        try pool.read { db in
            try BatchRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.batchBySHA), arguments: [sha256.lowercased()])
        }
    }

    /// The batches a run processed, in id order.
    public func batches(runID: Int64) throws -> [BatchRecord] {
        try pool.read { db in
            try BatchRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.batchesOfRun), arguments: [runID])
        }
    }

    /// Stages rows of a batch: one cached prepared INSERT, one transaction per
    /// `chunkSize` rows. Idempotent per (batch, line): a row already staged is
    /// left exactly as it is (its state included), so re-staging a file after a
    /// crash or a re-run duplicates and resets nothing.
    ///
    /// The hot loop binds values straight onto GRDB's cached statement through
    /// the SQLite C API (same statement, same transaction; ~20% faster than
    /// building `StatementArguments` per row).
    ///
    /// - Returns: How many rows were newly inserted.
    @discardableResult
    public func stageRows(batchID: Int64, rows: [StagedRow], chunkSize: Int = 50_000) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let stamp = LedgerTimestamp.text(now())
        var inserted = 0
        var start = rows.startIndex
        let step = max(1, chunkSize)
        while start < rows.endIndex {
            let end = min(start + step, rows.endIndex)
            inserted += try pool.write { db -> Int in
                let statement = try db.cachedStatement(sql: LedgerSQL.stageRow)
                let handle = statement.sqliteStatement
                defer { sqlite3_reset(handle); sqlite3_clear_bindings(handle) }
                var count = 0
                for row in rows[start..<end] {
                    sqlite3_reset(handle)
                    sqlite3_bind_int64(handle, 1, batchID)
                    sqlite3_bind_int64(handle, 2, Int64(row.line))
                    if let key = row.rowKey { sqlite3_bind_int64(handle, 3, Self.keyHash(key)) } else { sqlite3_bind_null(handle, 3) }
                    bindText(handle, 4, row.websiteID)
                    bindText(handle, 5, row.customerID)
                    bindText(handle, 6, row.currency)
                    if let payload = row.payloadJSON {
                        sqlite3_bind_int64(handle, 7, Self.payloadHash(payload))
                    } else {
                        sqlite3_bind_null(handle, 7)
                    }
                    bindText(handle, 8, row.sourceJSON)
                    bindText(handle, 9, row.state.rawValue)
                    bindText(handle, 10, row.reasonsJSON ?? "[]")
                    bindText(handle, 11, stamp)
                    let code = sqlite3_step(handle)
                    guard code == SQLITE_DONE else {
                        throw DatabaseError(
                            resultCode: ResultCode(rawValue: code),
                            message: db.lastErrorMessage,
                            sql: LedgerSQL.stageRow)
                    }
                    count += Int(sqlite3_changes(db.sqliteConnection))
                }
                return count
            }
            start = end
        }
        return inserted
    }

    /// Records the end of staging: the counts and the control-manifest verdict,
    /// and `staged_at` (a batch without it was interrupted mid-staging).
    public func finishStaging(
        batchID: Int64, rowCount: Int, valid: Int, rejected: Int,
        controlVerdict: ControlVerdict, controlDetail: String?
    ) throws {
        let at = now()
        try pool.write { db in
            try db.cachedStatement(sql: LedgerSQL.finishStaging).execute(arguments: [
                rowCount, valid, rejected, controlVerdict.rawValue, controlDetail, at, batchID,
            ])
            if db.changesCount == 0 { throw LedgerError.noSuchBatch(batchID) }
        }
    }

    // MARK: - Rows

    /// One row, or nil.
    public func row(id: Int64) throws -> RowRecord? {
        try pool.read { db in
            try RowRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.rowByID), arguments: [id])
        }
    }

    /// All rows of a batch (in the given states, or all when `states` is nil), in id order.
    /// For big batches prefer ``rows(batchID:states:afterID:limit:)``.
    public func rows(batchID: Int64, states: Set<RowState>? = nil) throws -> [RowRecord] {
        try rows(batchID: batchID, states: states, afterID: 0, limit: Int.max)
    }

    /// One page of rows with `id > afterID`, in id order (keyset paging: pass
    /// the last id of a page to get the next; start with 0). Each page is its
    /// own read, so the caller may write to the ledger between pages.
    public func rows(batchID: Int64, states: Set<RowState>?, afterID: Int64, limit: Int) throws -> [RowRecord] {
        let filter: String? = states.map(Self.jsonArray)
        return try pool.read { db in
            try RowRecord.fetchAll(
                db.cachedStatement(sql: LedgerSQL.rowPage),
                arguments: [batchID, afterID, filter, filter, limit])
        }
    }

    /// Streams the rows of a batch through `body` inside one read transaction
    /// (a consistent snapshot, constant memory). `body` must not write to the
    /// ledger; use the paged ``rows(batchID:states:afterID:limit:)`` for that.
    public func forEachRow(batchID: Int64, states: Set<RowState>? = nil, _ body: (RowRecord) throws -> Void) throws {
        let filter: String? = states.map(Self.jsonArray)
        try pool.read { db in
            let cursor = try RowRecord.fetchCursor(
                db.cachedStatement(sql: LedgerSQL.rowPage),
                arguments: [batchID, 0, filter, filter, Int64.max])
            while let row = try cursor.next() { try body(row) }
        }
    }

    /// Every row (all batches) of this websiteId, customerId and currency, oldest first.
    public func rows(websiteID: String, customerID: String, currency: String) throws -> [RowRecord] {
        let hash = Self.keyHash(Self.rowKey(websiteID: websiteID, customerID: customerID, currency: currency))
        return try pool.read { db in
            try RowRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.rowsByKey), arguments: [hash, websiteID, customerID, currency])
        }
    }

    /// Row counts per state for a batch; every state is present (0 when none).
    public func countsByState(batchID: Int64) throws -> [RowState: Int] {
        try pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: RowState.allCases.map { ($0, 0) })
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.countsByState), arguments: [batchID])
            while let row = try cursor.next() {
                let state: RowState = try decodeEnum(row[0])
                counts[state] = row[1]
            }
            return counts
        }
    }

    /// The row accounting of one batch as seen by one run (see ``RowAccounting``).
    /// Rows done by this run or a later one count as `done`; rows done before it as `skippedDone`.
    public func accounting(runID: Int64, batchID: Int64) throws -> RowAccounting {
        try pool.read { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: LedgerSQL.accounting), arguments: [runID, runID, batchID])
            else { throw LedgerError.noSuchBatch(batchID) }
            return RowAccounting(
                batchID: batchID, read: row["read"], done: row["done"], skippedDone: row["skipped"],
                rejected: row["rejected"], failed: row["failed"], inDoubt: row["in_doubt"],
                needsReview: row["needs_review"], unfinished: row["unfinished"])
        }
    }

    /// Moves a row to `state`, checking ``RowState/allowedNext``. Non-nil
    /// `cashierID`/`depositRequestID`/`reasonsJSON` replace the stored values;
    /// nil keeps them. Moving to `done` clears the reasons. One transaction.
    ///
    /// - Throws: ``LedgerError/illegalTransition(rowID:from:to:)``, ``LedgerError/noSuchRow(_:)``.
    public func transition(
        rowID: Int64, to state: RowState,
        cashierID: String? = nil, depositRequestID: String? = nil, reasonsJSON: String? = nil
    ) throws {
        let at = now()
        try pool.write { db in
            try Self.transition(db, rowID: rowID, to: state, cashierID: cashierID,
                                depositRequestID: depositRequestID, reasonsJSON: reasonsJSON, at: at)
        }
    }

    /// `pending`/`failed`/`in_doubt` → `cashier_created`, storing the cashier id.
    public func markCashierCreated(rowID: Int64, cashierID: String) throws {
        try transition(rowID: rowID, to: .cashierCreated, cashierID: cashierID)
    }

    /// → `done`, storing the deposit request id (nil with `--no-deposits`).
    public func markDone(rowID: Int64, depositRequestID: String?) throws {
        try transition(rowID: rowID, to: .done, depositRequestID: depositRequestID)
    }

    /// → `failed` with the reasons (a JSON array of `{field, message}`).
    public func markFailed(rowID: Int64, reasonsJSON: String) throws {
        try transition(rowID: rowID, to: .failed, reasonsJSON: reasonsJSON)
    }

    /// → `rejected` by the API (422/4xx) with its `invalidFields` as reasons.
    public func markRejected(rowID: Int64, reasonsJSON: String) throws {
        try transition(rowID: rowID, to: .rejected, reasonsJSON: reasonsJSON)
    }

    /// → `in_doubt`: a deposit request was sent and no answer came.
    public func markInDoubt(rowID: Int64) throws {
        try transition(rowID: rowID, to: .inDoubt)
    }

    // MARK: - Attempts

    /// Records the intent to call the API for a row, BEFORE the call: a new
    /// attempt with outcome `in_flight` and `http_status` NULL. Also bumps the
    /// row's `attempt_count` and sets its `last_run_id`. Its own transaction.
    ///
    /// Refuses (``LedgerError/sendRefused(rowID:state:operation:)``) to record a
    /// create for a `done` or `rejected` row, and a `create_deposit_request` for
    /// an `in_doubt` row (verify with `list_deposit_requests` and move the row
    /// first): the last line of defence against sending twice. Reads
    /// (`get_*`, `list_*`) are always allowed.
    ///
    /// - Returns: The attempt id to pass to ``recordOutcome(attemptID:httpStatus:latencyMs:error:returnedID:outcome:then:remoteFigures:)``.
    public func recordIntent(rowID: Int64, runID: Int64, operation: AttemptOperation) throws -> Int64 {
        let at = now()
        return try pool.write { db in
            try Self.recordIntent(db, rowID: rowID, runID: runID, operation: operation, at: at)
        }
    }

    /// Records how an attempt ended, AFTER the call, and optionally moves its
    /// row to a new state in the SAME transaction (so the answer and the row's
    /// fate are never recorded half).
    ///
    /// - Parameters:
    ///   - httpStatus: nil when no HTTP answer came (timeout, connection error).
    ///   - returnedID: The id the API returned (cashier or deposit request).
    ///   - then: The row transition to apply with it, if any.
    ///   - remoteFigures: The cashier's figures from the answer, stored in
    ///     `remote_figures` with source `create`, tied to this attempt's row and run.
    public func recordOutcome(
        attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition? = nil,
        remoteFigures: RemoteFigures? = nil
    ) throws {
        let at = now()
        try pool.write { db in
            try Self.recordOutcome(db, attemptID: attemptID, httpStatus: httpStatus, latencyMs: latencyMs, error: error,
                                   returnedID: returnedID, outcome: outcome, then: transition, at: at,
                                   remoteFigures: remoteFigures)
        }
    }

    /// One attempt, or nil.
    public func attempt(id: Int64) throws -> AttemptRecord? {
        try pool.read { db in
            try AttemptRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.attemptByID), arguments: [id])
        }
    }

    /// Every attempt made for a row, oldest first.
    public func attempts(rowID: Int64) throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.attemptsOfRow), arguments: [rowID])
        }
    }

    /// Every attempt made during a run, oldest first.
    public func attempts(runID: Int64) throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.attemptsOfRun), arguments: [runID])
        }
    }

    /// Attempts whose outcome was never recorded, oldest first.
    public func inFlightAttempts() throws -> [AttemptRecord] {
        try pool.read { db in
            try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.inFlightAttempts))
        }
    }

    // MARK: - Breaks

    /// Records the reconciliation breaks found by a run, all in one transaction.
    public func recordBreaks(runID: Int64, _ breaks: [NewBreak]) throws {
        guard !breaks.isEmpty else { return }
        let created = now()
        try pool.write { db in
            try Self.insertBreaks(db, runID: runID, breaks, created: created)
        }
    }

    /// Replaces the breaks recorded for a run by `breaks`, in one transaction: a
    /// repeated reconciliation of a run (`reconcile --run ID`) supersedes the previous one.
    public func replaceBreaks(runID: Int64, _ breaks: [NewBreak]) throws {
        let created = now()
        try pool.write { db in
            try db.cachedStatement(sql: LedgerSQL.deleteBreaksOfRun).execute(arguments: [runID])
            try Self.insertBreaks(db, runID: runID, breaks, created: created)
        }
    }

    static func insertBreaks(_ db: Database, runID: Int64, _ breaks: [NewBreak], created: Date) throws {
        let statement = try db.cachedStatement(sql: LedgerSQL.insertBreak)
        for b in breaks {
            try statement.execute(arguments: [
                runID, b.websiteID, b.customerID, b.currency, b.field, b.expectedMinor, b.actualMinor,
                b.exponent, b.lifecycle.rawValue, b.firstSeenRunID, b.firstSeenAt, created, b.rowID, b.detail,
                b.highPriority, b.source?.rawValue, b.actualText, b.cashierID, b.timesSeen, b.rechecked, b.opening,
            ])
        }
    }

    // MARK: - Remote figures

    /// Stores cashier figures read back from the API (or any figures not tied to an
    /// attempt), all in one transaction.
    public func recordRemoteFigures(_ entries: [NewRemoteFigures]) throws {
        guard !entries.isEmpty else { return }
        let observed = now()
        try pool.write { db in
            let statement = try db.cachedStatement(sql: LedgerSQL.insertRemoteFigures)
            for e in entries {
                let f = e.figures
                try statement.execute(arguments: [
                    e.rowID, e.runID, e.source.rawValue, f.cashierID, f.httpStatus, f.currency, f.exponent,
                    f.balanceMinor, f.bonusBalanceMinor, f.pendingPayoutTotalMinor,
                    f.balanceText, f.bonusBalanceText, f.pendingPayoutTotalText, observed, f.canWithdraw, f.cashierCreatedAt,
                ])
            }
        }
    }

    /// Every figure set stored for a row, oldest first.
    public func remoteFigures(rowID: Int64) throws -> [RemoteFiguresRecord] {
        try pool.read { db in
            try RemoteFiguresRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.remoteFiguresOfRow), arguments: [rowID])
        }
    }

    /// Every figure set stored during (or, for read-backs, about) a run, oldest first.
    public func remoteFigures(runID: Int64) throws -> [RemoteFiguresRecord] {
        try pool.read { db in
            try RemoteFiguresRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.remoteFiguresOfRun), arguments: [runID])
        }
    }

    /// The most recent figures of each row with an id in `rows` that has any, keyed by row id
    /// (of one source, or of any when `source` is nil). Read a batch a page of rows at a time.
    public func latestRemoteFigures(rows: ClosedRange<Int64>, source: RemoteFigureSource? = nil) throws -> [Int64: RemoteFiguresRecord] {
        let raw = source?.rawValue
        return try pool.read { db in
            let records = try RemoteFiguresRecord.fetchAll(
                db.cachedStatement(sql: LedgerSQL.latestRemoteFiguresOfRows), arguments: [rows.lowerBound, rows.upperBound, raw])
            return Dictionary(records.map { ($0.rowID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        }
    }

    /// When each row with an id in `rows` first POSTed its cashier without an answer (the answer
    /// may have been a lost 201).
    public func unansweredCashierCreates(rows: ClosedRange<Int64>) throws -> [Int64: Date] {
        try pool.read { db in
            var firsts: [Int64: Date] = [:]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.unansweredCashierCreatesOfRows),
                                             arguments: [rows.lowerBound, rows.upperBound])
            while let row = try cursor.next() {
                if let sent: Date = row[1] { firsts[row[0]] = sent }
            }
            return firsts
        }
    }

    /// Rows of `batchID` with an id in `rows` whose cashier a later row of run `runID` (same
    /// websiteId, customerId and currency, in a batch the run did not refuse) also has: the run's
    /// figures for that cashier are the later row's.
    public func supersededRows(runID: Int64, batchID: Int64, rows: ClosedRange<Int64>) throws -> Set<Int64> {
        try pool.read { db in
            Set(try Int64.fetchAll(db.cachedStatement(sql: LedgerSQL.supersededRowsOfRun),
                                   arguments: [batchID, rows.lowerBound, rows.upperBound, runID]))
        }
    }

    /// The breaks recorded by a run.
    public func breaks(runID: Int64) throws -> [BreakRecord] {
        try pool.read { db in
            try BreakRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.breaksOfRun), arguments: [runID])
        }
    }

    /// The breaks of the most recent run before `runID` that recorded any
    /// (the baseline for new / persisting / resolved).
    public func previousBreaks(beforeRunID runID: Int64) throws -> [BreakRecord] {
        try pool.read { db in
            try BreakRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.previousBreaks), arguments: [runID])
        }
    }
}

/// A row state change applied together with an attempt's outcome.
public enum RowTransition: Sendable, Equatable {
    case pending
    case cashierCreated(cashierID: String)
    /// `depositRequestID` is nil when deposits are turned off.
    case done(depositRequestID: String?)
    case failed(reasonsJSON: String)
    case rejected(reasonsJSON: String)
    case inDoubt
    /// Listing could not tell the row's deposit request from another client's (see ``RowState/needsReview``).
    case needsReview(reasonsJSON: String)

    var parts: (RowState, String?, String?, String?) {
        switch self {
        case .pending: (.pending, nil, nil, nil)
        case .cashierCreated(let id): (.cashierCreated, id, nil, nil)
        case .done(let id): (.done, nil, id, nil)
        case .failed(let reasons): (.failed, nil, nil, reasons)
        case .rejected(let reasons): (.rejected, nil, nil, reasons)
        case .inDoubt: (.inDoubt, nil, nil, nil)
        case .needsReview(let reasons): (.needsReview, nil, nil, reasons)
        }
    }
}

// MARK: - Internals

// The write operations themselves, each run inside a transaction the caller
// owns: ONE `pool.write` for the synchronous API, a SAVEPOINT inside a group
// transaction for ``LedgerWriter``. Both APIs call exactly these functions, so
// the SQL and the validation exist once.
extension Ledger {
    /// The body of ``Ledger/recordIntent(rowID:runID:operation:)``: the row's check and
    /// touch are one `UPDATE … WHERE state IN (…)`; only a refused one reads the row.
    static func recordIntent(
        _ db: Database, rowID: Int64, runID: Int64, operation: AttemptOperation, at: Date
    ) throws -> Int64 {
        let stamp = LedgerTimestamp.text(at)  // formatted once for both statements
        let touched = try LedgerHotPath.write(db, LedgerHotPath.touchSQL(for: operation)) { h in
            sqlite3_bind_int64(h, 1, runID)
            LedgerHotPath.bind(h, 2, stamp)
            sqlite3_bind_int64(h, 3, rowID)
        }
        if touched == 0 {
            guard let state = try LedgerHotPath.state(db, rowID: rowID) else { throw LedgerError.noSuchRow(rowID) }
            throw LedgerError.sendRefused(rowID: rowID, state: state, operation: operation)
        }
        _ = try LedgerHotPath.write(db, LedgerSQL.hotInsertAttempt) { h in
            sqlite3_bind_int64(h, 1, rowID)
            sqlite3_bind_int64(h, 2, runID)
            LedgerHotPath.bind(h, 3, operation.rawValue)
            LedgerHotPath.bind(h, 4, stamp)
        }
        return db.lastInsertedRowID
    }

    /// The body of ``Ledger/recordOutcome(attemptID:httpStatus:latencyMs:error:returnedID:outcome:then:remoteFigures:)``.
    /// `rowID`: the attempt's row when the caller knows it (saves reading it for the transition).
    static func recordOutcome(
        _ db: Database, attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition?, at: Date,
        remoteFigures: RemoteFigures? = nil, rowID knownRowID: Int64? = nil
    ) throws {
        let stamp = LedgerTimestamp.text(at)
        let changed = try LedgerHotPath.write(db, LedgerSQL.hotRecordOutcome) { h in
            LedgerHotPath.bind(h, 1, stamp)
            LedgerHotPath.bind(h, 2, httpStatus)
            LedgerHotPath.bind(h, 3, latencyMs)
            LedgerHotPath.bind(h, 4, error)
            LedgerHotPath.bind(h, 5, returnedID)
            LedgerHotPath.bind(h, 6, outcome.rawValue)
            sqlite3_bind_int64(h, 7, attemptID)
        }
        if changed == 0 { throw LedgerError.noSuchAttempt(attemptID) }
        if let f = remoteFigures {
            _ = try LedgerHotPath.write(db, LedgerSQL.hotInsertRemoteFigures) { h in
                LedgerHotPath.bind(h, 1, RemoteFigureSource.create.rawValue)
                LedgerHotPath.bind(h, 2, f.cashierID)
                LedgerHotPath.bind(h, 3, f.httpStatus)
                LedgerHotPath.bind(h, 4, f.currency)
                LedgerHotPath.bind(h, 5, f.exponent)
                LedgerHotPath.bind(h, 6, f.balanceMinor)
                LedgerHotPath.bind(h, 7, f.bonusBalanceMinor)
                LedgerHotPath.bind(h, 8, f.pendingPayoutTotalMinor)
                LedgerHotPath.bind(h, 9, f.balanceText)
                LedgerHotPath.bind(h, 10, f.bonusBalanceText)
                LedgerHotPath.bind(h, 11, f.pendingPayoutTotalText)
                LedgerHotPath.bind(h, 12, stamp)
                sqlite3_bind_int64(h, 13, attemptID)
                LedgerHotPath.bind(h, 14, f.canWithdraw.map { $0 ? 1 : 0 })
                LedgerHotPath.bind(h, 15, f.cashierCreatedAt.map(LedgerTimestamp.text))
            }
        }
        guard let transition else { return }
        let rowID: Int64
        if let knownRowID {
            rowID = knownRowID
        } else {
            guard let found = try LedgerHotPath.int64(db, LedgerSQL.hotRowIDOfAttempt, { sqlite3_bind_int64($0, 1, attemptID) })
            else { throw LedgerError.noSuchAttempt(attemptID) }
            rowID = found
        }
        let (state, cashier, deposit, reasons) = transition.parts
        try Self.transition(db, rowID: rowID, to: state, cashierID: cashier,
                            depositRequestID: deposit, reasonsJSON: reasons, stamp: stamp)
    }

    /// The body of ``Ledger/transition(rowID:to:cashierID:depositRequestID:reasonsJSON:)``.
    static func transition(
        _ db: Database, rowID: Int64, to state: RowState,
        cashierID: String?, depositRequestID: String?, reasonsJSON: String?, at: Date
    ) throws {
        try transition(db, rowID: rowID, to: state, cashierID: cashierID, depositRequestID: depositRequestID,
                       reasonsJSON: reasonsJSON, stamp: LedgerTimestamp.text(at))
    }

    /// ``transition(_:rowID:to:cashierID:depositRequestID:reasonsJSON:at:)`` with the
    /// timestamp already formatted (``LedgerTimestamp``). The legality check is part of the
    /// `UPDATE`; only a refused transition reads the row to say why.
    static func transition(
        _ db: Database, rowID: Int64, to state: RowState,
        cashierID: String?, depositRequestID: String?, reasonsJSON: String?, stamp: String
    ) throws {
        let reasons = state == .done ? "[]" : reasonsJSON
        let changed = try LedgerHotPath.write(db, LedgerSQL.hotTransitions[state]!) { h in
            LedgerHotPath.bind(h, 1, state.rawValue)
            LedgerHotPath.bind(h, 2, cashierID)
            LedgerHotPath.bind(h, 3, depositRequestID)
            LedgerHotPath.bind(h, 4, reasons)
            LedgerHotPath.bind(h, 5, stamp)
            sqlite3_bind_int64(h, 6, rowID)
        }
        if changed == 0 {
            guard let current = try LedgerHotPath.state(db, rowID: rowID) else { throw LedgerError.noSuchRow(rowID) }
            throw LedgerError.illegalTransition(rowID: rowID, from: current, to: state)
        }
    }

    static func mayAttempt(_ operation: AttemptOperation, in state: RowState) -> Bool {
        switch operation {
        case .createCashier: state != .done && state != .rejected
        case .createDepositRequest: state != .done && state != .rejected && state != .inDoubt && state != .needsReview
        case .listDepositRequests, .getCashier, .getDepositRequest: true
        }
    }

    static func jsonArray(_ states: Set<RowState>) -> String {
        // Raw values are fixed identifiers (no quotes/backslashes): safe to join.
        "[" + states.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ",") + "]"
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates the file 0600 (parents 0700) before SQLite opens it, or tightens
    /// an existing one. SQLite gives `-wal`/`-shm` the main file's mode.
    static func prepareFile(at path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: dir) {
            do {
                try FileManager.default.createDirectory(
                    atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw LedgerError.fileSetup(path: dir, errno: errno)
            }
        }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            _ = closeDescriptor(fd)
            return
        }
        guard errno == EEXIST else { throw LedgerError.fileSetup(path: path, errno: errno) }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0, info.st_uid == getuid() {
            if chmod(path, 0o600) != 0 { throw LedgerError.fileSetup(path: path, errno: errno) }
        }
    }

    /// Belt and braces: make sure the WAL companions are owner-only too.
    static func protectCompanions(of path: String) {
        for suffix in ["-wal", "-shm"] {
            let companion = path + suffix
            var info = stat()
            if stat(companion, &info) == 0, info.st_mode & 0o077 != 0, info.st_uid == getuid() {
                _ = chmod(companion, 0o600)
            }
        }
    }

    /// Refuses options that carry a secret (see ``beginRun(command:optionsJSON:)``).
    static func checkNoSecrets(_ optionsJSON: String) throws {
        guard let data = optionsJSON.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data),
              object is [String: Any]
        else { throw LedgerError.invalidOptionsJSON }
        let forbidden: Set<String> = [
            "apikey", "rebillyapikey", "rebapikey", "secret", "clientsecret", "password", "passwd",
            "token", "accesstoken", "bearertoken", "authorization", "privatekey",
        ]
        func walk(_ value: Any) throws {
            if let dict = value as? [String: Any] {
                for (key, inner) in dict {
                    let normalized = key.lowercased().filter { $0.isLetter || $0.isNumber }
                    if forbidden.contains(normalized) || normalized.hasSuffix("secret")
                        || normalized.hasSuffix("password") || normalized.hasSuffix("token") {
                        throw LedgerError.secretInOptions(key: key)
                    }
                    try walk(inner)
                }
            } else if let array = value as? [Any] {
                for inner in array { try walk(inner) }
            }
        }
        try walk(object)
        if let key = ProcessInfo.processInfo.environment["REBILLY_API_KEY"], key.count >= 8,
           optionsJSON.contains(key) {
            throw LedgerError.secretInOptions(key: "(value of REBILLY_API_KEY)")
        }
    }
}
