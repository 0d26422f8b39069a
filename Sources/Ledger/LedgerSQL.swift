import CashierModel

/// Every SQL statement the ledger runs (besides the DDL in `LedgerSchema`).
///
/// Rules: static text only, values always as bound `?` arguments, never
/// interpolated. A set of states is passed as ONE bound JSON array and
/// expanded with `json_each`, so even "rows in these states" stays a static,
/// cacheable statement.
enum LedgerSQL {
    // MARK: runs

    static let insertRun = """
        INSERT INTO runs (command, started_at, status, options_json, pid, hostname)
        VALUES (?, ?, 'running', ?, ?, ?)
        """
    static let finishRun = """
        UPDATE runs SET status = ?, exit_code = ?, finished_at = ? WHERE id = ?
        """
    static let runByID = "SELECT * FROM runs WHERE id = ?"
    static let recentRuns = "SELECT * FROM runs ORDER BY id DESC LIMIT ?"
    static let lastStagingRun = """
        SELECT * FROM runs WHERE id <> ? AND id IN (SELECT first_run_id FROM batches) ORDER BY id DESC LIMIT 1
        """
    /// ?1: the commands as a JSON array of names; ?2: only runs before this id.
    static let lastRunOf = """
        SELECT * FROM runs WHERE command IN (SELECT value FROM json_each(?1)) AND id < ?2
          AND NOT (?3 AND coalesce(json_extract(options_json, '$.dryRun'), 0))
        ORDER BY id DESC LIMIT 1
        """

    // MARK: crash recovery (caller holds the run lock)
    //
    // `attempt_log.outcome = 0` is `in_flight`: written as that literal, the condition of the partial
    // index `attempt_log_in_flight`, so that finding the calls in flight reads the few of them, not
    // every call of every night.

    /// Runs left `running` by a process that is gone (any run but the caller's).
    static let staleRunIDs = "SELECT id FROM runs WHERE status = 'running' AND id <> ? ORDER BY id"
    /// Runs other than the caller's that left a call in flight, whatever they recorded as their
    /// end (a run whose ledger failed may have closed itself, or not).
    static let runIDsWithCallsInFlight = """
        SELECT DISTINCT run_id FROM attempt_log WHERE outcome = 0 AND run_id <> ? ORDER BY run_id
        """
    /// Rows with a call in flight when its run ended, moved as ``RowLifecycle/afterCrash(_:inFlight:)``
    /// says: in doubt, when the call was one that may have happened unanswered.
    static let markRowsInDoubtForCallsInFlight = """
        UPDATE rows SET state = '\(RowState.inDoubt.rawValue)', updated_at = ?
        WHERE \(stateIn(RowState.allCases.filterSet { state in
            AttemptOperation.allCases.contains { RowLifecycle.afterCrash(state, inFlight: $0) == .inDoubt } }))
          AND id IN (SELECT row_id FROM attempt_log
                     WHERE outcome = 0 AND run_id <> ?
                       AND operation IN (SELECT code FROM attempt_operations WHERE name IN (\(crashedOperations))))
        """
    /// The operations whose call in flight at a crash moves its row (``RowLifecycle/afterCrash(_:inFlight:)``).
    static let crashedOperations = AttemptOperation.allCases
        .filter { op in RowState.allCases.contains { RowLifecycle.afterCrash($0, inFlight: op) == .inDoubt } }
        .map { "'\($0.rawValue)'" }.joined(separator: ",")
    static let markCallsInFlightLost = """
        UPDATE attempt_log SET outcome = (SELECT code FROM attempt_outcomes WHERE name = '\(RowLifecycle.crashedAttempt.rawValue)'),
                               error = COALESCE(error, 'the run ended while the call was in flight')
        WHERE outcome = 0 AND run_id <> ?
        """
    static let markStaleRunsCrashed = """
        UPDATE runs SET status = 'crashed', finished_at = COALESCE(finished_at, ?)
        WHERE status = 'running' AND id <> ?
        """

    // MARK: batches

    static let batchBySHA = "SELECT * FROM batches WHERE sha256 = ?"
    static let batchByID = "SELECT * FROM batches WHERE id = ?"
    static let insertBatch = """
        INSERT INTO batches (sha256, path, format, gzip, created_at, first_run_id)
        VALUES (?, ?, ?, ?, ?, ?)
        """
    static let linkRunBatch = "INSERT INTO run_batches (run_id, batch_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
    static let batchesOfRun = """
        SELECT b.* FROM batches b JOIN run_batches rb ON rb.batch_id = b.id
        WHERE rb.run_id = ? ORDER BY b.id
        """
    static let finishStaging = """
        UPDATE batches SET row_count = ?, valid_count = ?, rejected_count = ?,
                           control_verdict = ?, control_detail = ?, staged_at = ?
        WHERE id = ?
        """

    // MARK: rows

    /// Idempotent per (batch_id, line): staging the same batch again changes nothing.
    static let stageRow = """
        INSERT INTO rows (batch_id, line, key_hash, website_id, customer_id, currency,
                          payload_hash, request, source_json, state, reasons_json, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (batch_id, line) DO NOTHING
        """
    static let rowByID = "SELECT * FROM rows WHERE id = ?"
    static let rowStateByID = "SELECT state FROM rows WHERE id = ?"
    /// Keyset page: rows with id > afterID, read in `rows_batch_order` (no sort of the batch).
    static let rowPage = """
        SELECT * FROM rows
        WHERE batch_id = ? AND id > ? AND (? IS NULL OR state IN (SELECT value FROM json_each(?)))
        ORDER BY id LIMIT ?
        """
    /// ?1 key hash, ?2…?4 websiteId, customerId, currency.
    /// Every batch's rows of one key, each batch by its (batch_id, key_hash) index.
    static let rowsByKey = """
        SELECT * FROM rows
        WHERE batch_id IN (SELECT id FROM batches) AND key_hash = ?1 AND website_id = ?2 AND customer_id = ?3 AND currency = ?4
        ORDER BY id
        """
    static let countsByState = "SELECT state, count(*) FROM rows WHERE batch_id = ? GROUP BY state"
    /// A batch's rows per fate for a run: ?1, ?2 the run (done by it, or skipped as done before), ?3 the batch.
    static let accounting = """
        SELECT count(*)                                                            AS read,
               coalesce(sum(state = 'done' AND last_run_id >= ?), 0)               AS done,
               coalesce(sum(state = 'done' AND (last_run_id IS NULL OR last_run_id < ?)), 0) AS skipped,
               coalesce(sum(state = 'rejected'), 0)                                AS rejected,
               coalesce(sum(state = 'failed'), 0)                                  AS failed,
               coalesce(sum(state = 'in_doubt'), 0)                                AS in_doubt,
               coalesce(sum(state = 'needs_review'), 0)                            AS needs_review,
               coalesce(sum(state IN ('pending', 'cashier_created')), 0)           AS unfinished,
               coalesce(sum(cashier_known_from IS NOT NULL), 0)                    AS cashier_known
        FROM rows WHERE batch_id = ?
        """

    // MARK: attempts

    static let attemptByID = "SELECT * FROM attempts WHERE id = ?"
    static let attemptsOfRow = "SELECT * FROM attempts WHERE row_id = ? ORDER BY id"
    static let attemptsOfRun = "SELECT * FROM attempts WHERE run_id = ? ORDER BY id"
    /// The calls in flight (see "crash recovery" below for `outcome = 0`).
    static let inFlightAttempts = "SELECT * FROM attempts WHERE id IN (SELECT id FROM attempt_log WHERE outcome = 0) ORDER BY id"
    /// The first and last moment of a run's calls (the answer's, else the call's).
    static let attemptSpanOfRun = """
        SELECT min(coalesce(finished_at, requested_at)), max(coalesce(finished_at, requested_at))
        FROM attempts WHERE run_id = ?
        """
    /// ?1 run, ?2 operation: the rows called, grouped in `attempt_log_run` order (no temp B-tree).
    static let rowsCalledInRun = """
        SELECT count(*) FROM (SELECT row_id FROM attempt_log
                              WHERE run_id = ?1 AND operation = (SELECT code FROM attempt_operations WHERE name = ?2)
                              GROUP BY row_id)
        """
    /// A run's calls as the statistics read them, in `attempt_log_run` order.
    static let attemptSamplesOfRun = """
        SELECT operation, http_status, latency_ms, coalesce(finished_at, requested_at), outcome
        FROM attempts WHERE run_id = ?
        """

    // MARK: hot path (one row's intents, outcomes and transitions; raw binding, see LedgerHotPath.swift)
    //
    // Each check is part of its write: `UPDATE … WHERE id = ? AND state IN (allowed)`, and only
    // when nothing changed does the slow path read the row to say why. These statements are
    // bound through the SQLite C API only; their text differs from the GRDB-bound ones above,
    // so the two never share a cached statement.

    /// `state IN ('a','b')` for a set of row states (fixed identifiers, safe to inline).
    static func stateIn(_ states: Set<RowState>) -> String {
        "state IN (" + states.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",") + ")"
    }

    /// ?1 run, ?2 stamp, ?3 row — with the condition under which the operation may be sent.
    static func hotTouchRow(where condition: String?) -> String {
        "UPDATE rows SET attempt_count = attempt_count + 1, last_run_id = ?1, updated_at = ?2 WHERE id = ?3"
            + (condition.map { " AND " + $0 } ?? "")
    }
    static let hotTouchRowForCashier = hotTouchRow(where: stateIn(RowState.allCases.filterSet { RowLifecycle.mayAttempt(.createCashier, in: $0) }))
    static let hotTouchRowForDeposit = hotTouchRow(where: stateIn(RowState.allCases.filterSet { RowLifecycle.mayAttempt(.createDepositRequest, in: $0) }))
    static let hotTouchRowForRead = hotTouchRow(where: nil)
    /// ?1 row, ?2 run, ?3 operation name, ?4 milliseconds.
    static let hotInsertAttempt = """
        INSERT INTO attempt_log (row_id, run_id, operation, requested_ms)
        VALUES (?1, ?2, (SELECT code FROM attempt_operations WHERE name = ?3), ?4)
        """
    /// ?1 milliseconds, ?2 status, ?3 latency, ?4 error, ?5 returned id, ?6 outcome name, ?7 attempt.
    static let hotRecordOutcome = """
        UPDATE attempt_log SET finished_ms = ?1, http_status = ?2, latency_ms = ?3, error = ?4, returned_id = ?5,
                               outcome = (SELECT code FROM attempt_outcomes WHERE name = ?6)
        WHERE id = ?7
        """
    /// The create answer's figures, tied to the attempt's row and run: ?1 source, ?2 cashier id (kept
    /// only when it is not the call's returned id, '' for none), ?3 status, ?4 currency, ?5 exponent,
    /// ?6–?8 minor units, ?9–?11 texts (``Ledger/storedFigureText(_:minor:exponent:)``), ?12 milliseconds, ?13 attempt, ?14 canWithdraw, ?15 the
    /// cashier's createdTime in milliseconds.
    static let hotInsertRemoteFigures = """
        INSERT INTO figure_log (row_id, run_id, attempt_id, source, cashier_id, http_status, currency, exponent,
                                balance_minor, bonus_balance_minor, pending_payout_total_minor,
                                balance_text, bonus_balance_text, pending_payout_total_text, observed_ms, can_withdraw,
                                cashier_created_ms)
        SELECT row_id, run_id, id, ?1, CASE WHEN ?2 = returned_id THEN NULL ELSE coalesce(?2, '') END,
               ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15
        FROM attempt_log WHERE id = ?13
        """
    /// ?1 attempt.
    static let hotRowIDOfAttempt = "SELECT row_id FROM attempt_log WHERE id = ?1"
    /// ?1 state, ?2 cashier id, ?3 deposit request id, ?4 reasons, ?5 stamp, ?6 row — only from
    /// a state that may move to ?1.
    static func hotTransition(to target: RowState) -> String {
        """
        UPDATE rows SET state = ?1, cashier_id = COALESCE(?2, cashier_id), deposit_request_id = COALESCE(?3, deposit_request_id),
                        reasons_json = COALESCE(?4, reasons_json), updated_at = ?5,
                        cashier_known_from = CASE WHEN ?2 IS NULL THEN cashier_known_from END
        WHERE id = ?6 AND \(stateIn(RowState.allCases.filterSet { RowLifecycle.allows($0, to: target) }))
        """
    }
    static let hotTransitions: [RowState: String] = Dictionary(uniqueKeysWithValues: RowState.allCases.map { ($0, hotTransition(to: $0)) })

    // MARK: group commit (LedgerWriter): one savepoint per operation inside the group transaction

    static let beginOperation = "SAVEPOINT ledger_op"
    static let releaseOperation = "RELEASE SAVEPOINT ledger_op"
    /// Undoes a failed operation's partial writes; the group transaction goes on.
    static let rollbackOperation = "ROLLBACK TO SAVEPOINT ledger_op"

    // MARK: review

    static let insertReviewCandidate = "INSERT INTO review_candidates (row_id, deposit_request_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
    static let reviewCandidatesOfRow = "SELECT deposit_request_id FROM review_candidates WHERE row_id = ? ORDER BY deposit_request_id"
    /// The rows other than ?1 that hold deposit request ?2 (done with it).
    static let rowsHoldingDepositRequest = "SELECT id FROM rows WHERE deposit_request_id = ?2 AND id <> ?1 ORDER BY id"

    // MARK: remote figures

    /// Figures not tied to a call (a read-back): their cashier id is kept as it is; moments in milliseconds.
    static let insertRemoteFigures = """
        INSERT INTO figure_log (row_id, run_id, attempt_id, source, cashier_id, http_status, currency, exponent,
                                balance_minor, bonus_balance_minor, pending_payout_total_minor,
                                balance_text, bonus_balance_text, pending_payout_total_text, observed_ms, can_withdraw,
                                cashier_created_ms)
        VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let remoteFiguresOfRow = "SELECT * FROM remote_figures WHERE row_id = ? ORDER BY id"
    static let remoteFiguresOfRun = "SELECT * FROM remote_figures WHERE run_id = ? ORDER BY id"
    /// ?1…?2 row ids, ?3 source or NULL: the most recent figures of each of those rows that has any,
    /// grouped in `figure_log_row` order.
    static let latestRemoteFiguresOfRows = """
        SELECT f.* FROM remote_figures f
        WHERE f.id IN (SELECT max(g.id) FROM figure_log g
                       WHERE g.row_id BETWEEN ?1 AND ?2 AND (?3 IS NULL OR g.source = ?3)
                       GROUP BY g.row_id)
        """

    /// ?1…?2 row ids: per row, the first create_cashier POST that got no answer.
    static let unansweredCashierCreatesOfRows = """
        SELECT row_id, min(requested_at) FROM attempts
        WHERE row_id BETWEEN ?1 AND ?2 AND operation = 'create_cashier' AND http_status IS NULL
        GROUP BY row_id
        """

    /// ?1 batch, ?2…?3 row ids, ?4 run: rows whose cashier a later row of the run also has.
    static let supersededRowsOfRun = """
        SELECT r.id FROM rows r
        WHERE r.batch_id = ?1 AND r.id BETWEEN ?2 AND ?3 AND r.cashier_id IS NOT NULL AND r.key_hash IS NOT NULL
          AND EXISTS (SELECT 1 FROM run_batches rb
                      JOIN batches b ON b.id = rb.batch_id AND b.control_verdict <> 'mismatch'
                      JOIN rows later ON later.batch_id = rb.batch_id AND later.key_hash = r.key_hash
                      WHERE rb.run_id = ?4 AND later.website_id = r.website_id
                        AND later.customer_id = r.customer_id AND later.currency = r.currency AND later.id > r.id
                        AND later.cashier_id IS NOT NULL AND later.payload_hash IS NOT NULL)
        """
}
