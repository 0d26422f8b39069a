import CashierModel
import Foundation
import GRDB

/// Runs: one per command, begun, finished, listed and recovered after a crash.
extension Ledger {
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
    /// `sending`: leave out dry runs (`run --dry-run` stages and sends nothing).
    public func lastRun(of commands: Set<String>, before: Int64? = nil, sending: Bool = false) throws -> RunRecord? {
        let names = "[" + commands.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return try pool.read { db in
            try RunRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.lastRunOf), arguments: [names, before ?? Int64.max, sending])
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
}
