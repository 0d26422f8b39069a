import CashierModel
import Foundation
import GRDB

/// The ledger schema: one `DatabaseMigrator`, one registered migration per
/// version. A migration, once shipped, is never edited: add "v2", "v3", … .
///
/// Timestamps are TEXT `YYYY-MM-DD HH:MM:SS.SSS` in UTC (GRDB's `Date` storage,
/// directly usable with SQLite's date functions), except in the per-call tables
/// `attempt_log` and `figure_log` (INTEGER milliseconds, shown as that TEXT by their
/// views). Money is INTEGER minor units plus an exponent, never REAL. Enumerated TEXT
/// columns carry CHECK constraints listing exactly the Swift enum raw values, coded
/// ones a foreign key to the table naming them; extending one needs a new migration.
enum LedgerSchema {
    /// Every migration, oldest first; the schema version (`PRAGMA user_version`) is their count.
    static let migrations: [(id: String, sql: [String])] = [("v1", v1), ("v2", v2), ("v3", v3), ("v4", v4), ("v5", v5), ("v6", v6), ("v7", v7), ("v8", v8), ("v9", v9), ("v10", v10), ("v11", v11), ("v12", v12), ("v13", v13), ("v14", v14), ("v15", v15)]
    static var migrationIDs: [String] { migrations.map(\.id) }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (index, migration) in migrations.enumerated() {
            migrator.registerMigration(migration.id) { db in
                db.add(function: payloadHashFunction)
                db.add(function: requestFunction)
                db.add(function: positionalRequestFunction)
                db.add(function: millisFunction)
                for sql in migration.sql { try db.execute(sql: sql) }
                // In the migration's transaction: the version moves with the schema.
                try db.execute(sql: "PRAGMA user_version = \(index + 1)")
            }
        }
        return migrator
    }

    /// The v1 DDL. The enum lists are frozen here as literal text on purpose: a
    /// shipped migration must not change when a Swift enum gains a case.
    static let v1: [String] = [
        """
        CREATE TABLE runs (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            command       TEXT    NOT NULL,
            started_at    TEXT    NOT NULL,
            finished_at   TEXT,
            status        TEXT    NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'finished', 'interrupted', 'crashed')),
            exit_code     INTEGER,
            options_json  TEXT    NOT NULL DEFAULT '{}',
            pid           INTEGER NOT NULL,
            hostname      TEXT    NOT NULL
        )
        """,
        """
        CREATE TABLE batches (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            sha256          TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
            path            TEXT    NOT NULL,
            format          TEXT    NOT NULL CHECK (format IN ('csv', 'jsonl')),
            gzip            INTEGER NOT NULL DEFAULT 0 CHECK (gzip IN (0, 1)),
            row_count       INTEGER NOT NULL DEFAULT 0,
            valid_count     INTEGER NOT NULL DEFAULT 0,
            rejected_count  INTEGER NOT NULL DEFAULT 0,
            control_verdict TEXT    NOT NULL DEFAULT 'absent'
                            CHECK (control_verdict IN ('absent', 'matched', 'mismatch')),
            control_detail  TEXT,
            created_at      TEXT    NOT NULL,
            staged_at       TEXT,
            first_run_id    INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        """
        CREATE TABLE run_batches (
            run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            PRIMARY KEY (run_id, batch_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX run_batches_batch ON run_batches(batch_id)",
        """
        CREATE TABLE rows (
            id                 INTEGER PRIMARY KEY AUTOINCREMENT,
            batch_id           INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            line               INTEGER NOT NULL CHECK (line >= 1),
            row_key            TEXT,
            website_id         TEXT,
            customer_id        TEXT,
            currency           TEXT,
            payload_json       TEXT,
            source_json        TEXT,
            state              TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (state IN ('pending', 'rejected', 'cashier_created', 'done', 'failed', 'in_doubt')),
            reasons_json       TEXT    NOT NULL DEFAULT '[]',
            cashier_id         TEXT,
            deposit_request_id TEXT,
            attempt_count      INTEGER NOT NULL DEFAULT 0,
            last_run_id        INTEGER REFERENCES runs(id),
            updated_at         TEXT    NOT NULL,
            UNIQUE (batch_id, line)
        )
        """,
        "CREATE INDEX rows_batch_state ON rows(batch_id, state)",
        "CREATE INDEX rows_row_key ON rows(row_key)",
        """
        CREATE TABLE attempts (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            row_id       INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            run_id       INTEGER NOT NULL REFERENCES runs(id),
            operation    TEXT    NOT NULL
                         CHECK (operation IN ('create_cashier', 'create_deposit_request',
                                              'list_deposit_requests', 'get_cashier', 'get_deposit_request')),
            requested_at TEXT    NOT NULL,
            finished_at  TEXT,
            http_status  INTEGER,
            latency_ms   INTEGER,
            error        TEXT,
            returned_id  TEXT,
            outcome      TEXT    NOT NULL DEFAULT 'in_flight'
                         CHECK (outcome IN ('in_flight', 'succeeded', 'retryable', 'rejected', 'fatal', 'lost'))
        )
        """,
        "CREATE INDEX attempts_row ON attempts(row_id)",
        "CREATE INDEX attempts_run ON attempts(run_id, operation)",
        "CREATE INDEX attempts_in_flight ON attempts(outcome) WHERE outcome = 'in_flight'",
        """
        CREATE TABLE breaks (
            id                INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id            INTEGER NOT NULL REFERENCES runs(id),
            website_id        TEXT    NOT NULL,
            customer_id       TEXT    NOT NULL,
            currency          TEXT    NOT NULL,
            field             TEXT    NOT NULL,
            expected_minor    INTEGER,
            actual_minor      INTEGER,
            exponent          INTEGER NOT NULL CHECK (exponent BETWEEN 0 AND 4),
            lifecycle         TEXT    NOT NULL CHECK (lifecycle IN ('new', 'persisting', 'resolved')),
            first_seen_run_id INTEGER NOT NULL REFERENCES runs(id),
            first_seen_at     TEXT    NOT NULL,
            created_at        TEXT    NOT NULL,
            row_id            INTEGER REFERENCES rows(id) ON DELETE SET NULL,
            detail            TEXT
        )
        """,
        "CREATE INDEX breaks_run ON breaks(run_id)",
        "CREATE INDEX breaks_key ON breaks(website_id, customer_id, currency, field)",
    ]

    /// v2 (reconciliation): what Rebilly said about each cashier, and the break
    /// details the lifecycle and the reports need.
    ///
    /// - `remote_figures`: one row per cashier reply whose figures were kept — the
    ///   `POST /cashiers` answer recorded with the attempt's outcome (`source = 'create'`)
    ///   or a reconciliation read-back `GET /cashiers/{id}` (`source = 'readback'`). Money
    ///   as INTEGER minor units at `exponent` (NULL when Rebilly's text is not a valid
    ///   amount of the currency, or absent) plus the exact text as Rebilly wrote it.
    /// - `breaks` gains `high_priority` (1 for `pendingPayoutTotal`), `source`
    ///   (`create` = figures from the ledger, `readback`), `actual_text` (Rebilly's exact
    ///   text), `cashier_id`, `times_seen` (reconciliations in a row that found it open)
    ///   and `rechecked` (0 when carried forward without looking at the cashier again).
    static let v2: [String] = [
        """
        CREATE TABLE remote_figures (
            id                          INTEGER PRIMARY KEY AUTOINCREMENT,
            row_id                      INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            run_id                      INTEGER NOT NULL REFERENCES runs(id),
            attempt_id                  INTEGER REFERENCES attempts(id) ON DELETE SET NULL,
            source                      TEXT    NOT NULL CHECK (source IN ('create', 'readback')),
            cashier_id                  TEXT,
            http_status                 INTEGER,
            currency                    TEXT,
            exponent                    INTEGER CHECK (exponent BETWEEN 0 AND 4),
            balance_minor               INTEGER,
            bonus_balance_minor         INTEGER,
            pending_payout_total_minor  INTEGER,
            balance_text                TEXT,
            bonus_balance_text          TEXT,
            pending_payout_total_text   TEXT,
            observed_at                 TEXT    NOT NULL
        )
        """,
        "CREATE INDEX remote_figures_row ON remote_figures(row_id, id)",
        "CREATE INDEX remote_figures_run ON remote_figures(run_id)",
        "ALTER TABLE breaks ADD COLUMN high_priority INTEGER NOT NULL DEFAULT 0 CHECK (high_priority IN (0, 1))",
        "ALTER TABLE breaks ADD COLUMN source TEXT CHECK (source IN ('create', 'readback'))",
        "ALTER TABLE breaks ADD COLUMN actual_text TEXT",
        "ALTER TABLE breaks ADD COLUMN cashier_id TEXT",
        "ALTER TABLE breaks ADD COLUMN times_seen INTEGER NOT NULL DEFAULT 1 CHECK (times_seen >= 1)",
        "ALTER TABLE breaks ADD COLUMN rechecked INTEGER NOT NULL DEFAULT 1 CHECK (rechecked IN (0, 1))",
    ]

    /// v3: the ledger's mark (`application_id`, with the schema version in `user_version`),
    /// and `batches.repeat_allowed`: 1 once `run --allow-repeat` let a batch through whose rows
    /// repeat rows done within the last 24 hours (the same export saved again).
    static let v3: [String] = [
        "PRAGMA application_id = \(LedgerFile.applicationID)",
        "ALTER TABLE batches ADD COLUMN repeat_allowed INTEGER NOT NULL DEFAULT 0 CHECK (repeat_allowed IN (0, 1))",
    ]

    /// v4 (Rebilly's API since 2026-07): `remote_figures.can_withdraw` as Rebilly reports it and
    /// `cashier_created_at` (the cashier's `createdTime`: a cashier made this night is opening),
    /// `breaks.opening` (1 for a cashier's first night: Rebilly holds no history for it), and the row state `needs_review` (a deposit request the job cannot tell apart from
    /// another client's: never adopted, never re-sent, closed by `resolve`). SQLite cannot
    /// change a CHECK constraint, so `rows` is rebuilt (the migrator defers foreign keys and
    /// checks them before committing); `resolutions` records each `resolve`.
    static let v4: [String] = [
        "ALTER TABLE remote_figures ADD COLUMN can_withdraw INTEGER CHECK (can_withdraw IN (0, 1))",
        "ALTER TABLE remote_figures ADD COLUMN cashier_created_at TEXT",
        "ALTER TABLE breaks ADD COLUMN opening INTEGER NOT NULL DEFAULT 0 CHECK (opening IN (0, 1))",
        """
        CREATE TABLE rows_v4 (
            id                 INTEGER PRIMARY KEY AUTOINCREMENT,
            batch_id           INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            line               INTEGER NOT NULL CHECK (line >= 1),
            row_key            TEXT,
            website_id         TEXT,
            customer_id        TEXT,
            currency           TEXT,
            payload_json       TEXT,
            source_json        TEXT,
            state              TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (state IN ('pending', 'rejected', 'cashier_created', 'done', 'failed', 'in_doubt',
                                                'needs_review')),
            reasons_json       TEXT    NOT NULL DEFAULT '[]',
            cashier_id         TEXT,
            deposit_request_id TEXT,
            attempt_count      INTEGER NOT NULL DEFAULT 0,
            last_run_id        INTEGER REFERENCES runs(id),
            updated_at         TEXT    NOT NULL,
            UNIQUE (batch_id, line)
        )
        """,
        "INSERT INTO rows_v4 SELECT * FROM rows",
        "DROP TABLE rows",
        "ALTER TABLE rows_v4 RENAME TO rows",
        "CREATE INDEX rows_batch_state ON rows(batch_id, state)",
        "CREATE INDEX rows_row_key ON rows(row_key)",
        """
        CREATE TABLE resolutions (
            id                 INTEGER PRIMARY KEY AUTOINCREMENT,
            row_id             INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            run_id             INTEGER NOT NULL REFERENCES runs(id),
            action             TEXT    NOT NULL CHECK (action IN ('adopt', 'resend')),
            deposit_request_id TEXT,
            note               TEXT,
            resolved_at        TEXT    NOT NULL
        )
        """,
        "CREATE INDEX resolutions_row ON resolutions(row_id)",
    ]

    /// v5: indexes that read a night in pages without sorting it. `rows(batch_id, id)` gives a
    /// batch's rows in id order (the sender's pages, the reconciliation's and the reports' scans);
    /// before it SQLite sorted every matching row of the batch in memory for each page.
    /// `attempts(run_id, operation, row_id)` lets the reports count a run's calls per operation
    /// and the rows they were for by walking the index.
    static let v5: [String] = [
        "CREATE INDEX rows_batch_order ON rows(batch_id, id)",
        "DROP INDEX attempts_run",
        "CREATE INDEX attempts_run ON attempts(run_id, operation, row_id)",
    ]

    /// v6: `batches.pruned_at`, set by `prune` when it removed the batch's rows, attempts and
    /// figures. The batch record stays, so the same file is recognised and never sent again.
    static let v6: [String] = [
        "ALTER TABLE batches ADD COLUMN pruned_at TEXT",
    ]

    /// v7: a row keeps its source once, and no text copy of its key. `rows.payload_json`, the
    /// canonical payload beside the source it was validated from, becomes `payload_hash`
    /// (``Ledger/payloadHash(_:)`` of the same text), which is all the repeat check compares; the
    /// figures and the deposit request are read from the source, validated again. `row_key`, the
    /// websiteId␟customerId␟currency text beside those three columns, becomes `key_hash`
    /// (``Ledger/keyHash(_:)``), indexed with `payload_hash` and `batch_id`: a lookup by key
    /// compares the hash, then the columns; the repeat check and the run's later rows of a cashier
    /// find their candidates in the index, without reading the other nights' rows of the same
    /// customer. About 800 bytes less per row.
    static let v7: [String] = [
        "ALTER TABLE rows ADD COLUMN payload_hash INTEGER",
        "UPDATE rows SET payload_hash = cb_hash(payload_json) WHERE payload_json IS NOT NULL",
        "ALTER TABLE rows DROP COLUMN payload_json",
        "ALTER TABLE rows ADD COLUMN key_hash INTEGER",
        "UPDATE rows SET key_hash = cb_hash(row_key) WHERE row_key IS NOT NULL",
        "DROP INDEX rows_row_key",
        "ALTER TABLE rows DROP COLUMN row_key",
        "CREATE INDEX rows_key_hash ON rows(key_hash, payload_hash, batch_id)",
    ]

    /// v8: each run's reconciliation is recorded once, whole, and every report of the run reads it.
    /// `reconciliations` holds one per reconciled run (a later one replaces it): how it was made,
    /// when, its baseline, and its counts, row accounting, deposit checks and unread cashiers as
    /// JSON documents of their Swift types. `reconciliation_totals` holds its sums per website,
    /// currency and figure, as decimal integer TEXT: a night's sum of minor units may exceed
    /// SQLite's 64-bit INTEGER. `breaks.can_withdraw` keeps what Rebilly said with the break,
    /// filled for older breaks from the figures they were judged on.
    static let v8: [String] = [
        """
        CREATE TABLE reconciliations (
            run_id              INTEGER PRIMARY KEY REFERENCES runs(id),
            method              TEXT    NOT NULL CHECK (method IN ('ledger', 'readback')),
            reconciled_at       TEXT    NOT NULL,
            baseline_run_id     INTEGER REFERENCES runs(id),
            counts_json         TEXT    NOT NULL,
            deposit_checks_json TEXT,
            accounting_json     TEXT    NOT NULL,
            unread_json         TEXT    NOT NULL DEFAULT '[]'
        )
        """,
        """
        CREATE TABLE reconciliation_totals (
            run_id            INTEGER NOT NULL REFERENCES reconciliations(run_id) ON DELETE CASCADE,
            website_id        TEXT    NOT NULL,
            currency          TEXT    NOT NULL,
            exponent          INTEGER NOT NULL CHECK (exponent BETWEEN 0 AND 4),
            input_rows        INTEGER NOT NULL,
            sent_rows         INTEGER NOT NULL,
            compared_cashiers INTEGER NOT NULL,
            figure            TEXT    NOT NULL CHECK (figure IN ('balance', 'bonusBalance', 'pendingPayoutTotal')),
            input_minor       TEXT    NOT NULL,
            sent_minor        TEXT    NOT NULL,
            rebilly_minor     TEXT,
            net_minor         TEXT,
            gross_minor       TEXT,
            opening_minor     TEXT,
            PRIMARY KEY (run_id, website_id, currency, figure)
        ) WITHOUT ROWID
        """,
        "ALTER TABLE breaks ADD COLUMN can_withdraw INTEGER CHECK (can_withdraw IN (0, 1))",
        """
        UPDATE breaks SET can_withdraw = (
            SELECT f.can_withdraw FROM remote_figures f
            WHERE f.row_id = breaks.row_id AND f.observed_at <= breaks.created_at ORDER BY f.id DESC LIMIT 1)
        WHERE row_id IS NOT NULL
        """,
    ]

    /// v9: the key index is led by the batch, `rows(batch_id, key_hash)`. A night's rows are
    /// appended at its end instead of scattered over every earlier night's keys, so staging
    /// dirties the same pages on night 300 as on night 1; a lookup by key names the batches it
    /// looks in (the repeat check: those of the last 24 hours' runs; a run's later rows: its own).
    static let v9: [String] = [
        "DROP INDEX rows_key_hash",
        "CREATE INDEX rows_batch_key ON rows(batch_id, key_hash)",
    ]

    /// v10: a valid row keeps its typed request (``RowRequest``, `rows.request`), which the sender
    /// and the reconciler read back without validating again; a rejected row keeps its cells
    /// (`source_json`). Older valid rows are validated once here, from their source, which is then
    /// dropped; a row whose source no longer validates keeps it, has no request and is never sent.
    /// The freed pages are reused by later nights; `VACUUM` returns them to the file system.
    static let v10: [String] = [
        "ALTER TABLE rows ADD COLUMN request TEXT",
        "UPDATE rows SET request = cb_request(line, source_json) WHERE payload_hash IS NOT NULL AND source_json IS NOT NULL",
        "UPDATE rows SET source_json = NULL WHERE request IS NOT NULL",
    ]

    /// v11: the rows, calls and figures of a night in fewer bytes, read through views of the old
    /// shape. `rows.request` becomes a positional JSON array (``RowRequest``), read by name in the
    /// view `row_requests`. The calls move to `attempt_log` and the figures to `figure_log`: moments
    /// as INTEGER milliseconds since the epoch, operation and outcome as small codes named by
    /// `attempt_operations` and `attempt_outcomes`, a create answer's cashier id left to its call's
    /// returned id ('' when the answer had none), a figure's text only when it is not the exact
    /// decimal of its minor units at the exponent (``Ledger/storedFigureText(_:minor:exponent:)``).
    /// The views `attempts` and `remote_figures` show them with the columns and texts of v10. `remote_figures(run_id)` was read by no command and is
    /// not indexed again.
    static let v11: [String] = [
        "CREATE TABLE attempt_operations (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        """
        INSERT INTO attempt_operations (code, name) VALUES
            (1, 'create_cashier'), (2, 'create_deposit_request'), (3, 'list_deposit_requests'),
            (4, 'get_cashier'), (5, 'get_deposit_request')
        """,
        "CREATE TABLE attempt_outcomes (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        """
        INSERT INTO attempt_outcomes (code, name) VALUES
            (0, 'in_flight'), (1, 'succeeded'), (2, 'retryable'), (3, 'rejected'), (4, 'fatal'), (5, 'lost')
        """,
        """
        CREATE TABLE attempt_log (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            row_id       INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            run_id       INTEGER NOT NULL REFERENCES runs(id),
            operation    INTEGER NOT NULL REFERENCES attempt_operations(code),
            requested_ms INTEGER NOT NULL,
            finished_ms  INTEGER,
            http_status  INTEGER,
            latency_ms   INTEGER,
            error        TEXT,
            returned_id  TEXT,
            outcome      INTEGER NOT NULL DEFAULT 0 REFERENCES attempt_outcomes(code)
        )
        """,
        """
        INSERT INTO attempt_log (id, row_id, run_id, operation, requested_ms, finished_ms, http_status, latency_ms,
                                 error, returned_id, outcome)
        SELECT a.id, a.row_id, a.run_id, o.code, cb_millis(a.requested_at), cb_millis(a.finished_at), a.http_status,
               a.latency_ms, a.error, a.returned_id, u.code
        FROM attempts a JOIN attempt_operations o ON o.name = a.operation JOIN attempt_outcomes u ON u.name = a.outcome
        ORDER BY a.id
        """,
        """
        CREATE TABLE figure_log (
            id                          INTEGER PRIMARY KEY AUTOINCREMENT,
            row_id                      INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            run_id                      INTEGER NOT NULL REFERENCES runs(id),
            attempt_id                  INTEGER REFERENCES attempt_log(id) ON DELETE SET NULL,
            source                      TEXT    NOT NULL CHECK (source IN ('create', 'readback')),
            cashier_id                  TEXT,
            http_status                 INTEGER,
            currency                    TEXT,
            exponent                    INTEGER CHECK (exponent BETWEEN 0 AND 4),
            balance_minor               INTEGER,
            bonus_balance_minor         INTEGER,
            pending_payout_total_minor  INTEGER,
            balance_text                TEXT,
            bonus_balance_text          TEXT,
            pending_payout_total_text   TEXT,
            observed_ms                 INTEGER NOT NULL,
            can_withdraw                INTEGER CHECK (can_withdraw IN (0, 1)),
            cashier_created_ms          INTEGER
        )
        """,
        """
        INSERT INTO figure_log (id, row_id, run_id, attempt_id, source, cashier_id, http_status, currency, exponent,
                                balance_minor, bonus_balance_minor, pending_payout_total_minor,
                                balance_text, bonus_balance_text, pending_payout_total_text,
                                observed_ms, can_withdraw, cashier_created_ms)
        SELECT f.id, f.row_id, f.run_id, f.attempt_id, f.source,
               CASE WHEN f.cashier_id = a.returned_id THEN NULL WHEN a.id IS NULL THEN f.cashier_id
                    ELSE coalesce(f.cashier_id, '') END,
               f.http_status, f.currency, f.exponent, f.balance_minor, f.bonus_balance_minor, f.pending_payout_total_minor,
               nullif(f.balance_text, CASE WHEN f.exponent = 0 THEN CAST(f.balance_minor AS TEXT) ELSE iif(f.balance_minor < 0, '-', '') || (abs(f.balance_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.balance_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END),
               nullif(f.bonus_balance_text, CASE WHEN f.exponent = 0 THEN CAST(f.bonus_balance_minor AS TEXT) ELSE iif(f.bonus_balance_minor < 0, '-', '') || (abs(f.bonus_balance_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.bonus_balance_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END),
               nullif(f.pending_payout_total_text, CASE WHEN f.exponent = 0 THEN CAST(f.pending_payout_total_minor AS TEXT) ELSE iif(f.pending_payout_total_minor < 0, '-', '') || (abs(f.pending_payout_total_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.pending_payout_total_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END),
               cb_millis(f.observed_at), f.can_withdraw, cb_millis(f.cashier_created_at)
        FROM remote_figures f LEFT JOIN attempts a ON a.id = f.attempt_id
        ORDER BY f.id
        """,
        // AUTOINCREMENT: an id once used (then pruned) is not handed out again.
        """
        UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'attempts'), 0))
        WHERE name = 'attempt_log'
        """,
        """
        UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'remote_figures'), 0))
        WHERE name = 'figure_log'
        """,
        """
        INSERT INTO sqlite_sequence (name, seq)
        SELECT 'attempt_log', seq FROM sqlite_sequence WHERE name = 'attempts' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'attempt_log')
        """,
        """
        INSERT INTO sqlite_sequence (name, seq)
        SELECT 'figure_log', seq FROM sqlite_sequence WHERE name = 'remote_figures' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'figure_log')
        """,
        "DROP TABLE remote_figures",
        "DROP TABLE attempts",
        "CREATE INDEX attempt_log_row ON attempt_log(row_id)",
        "CREATE INDEX attempt_log_run ON attempt_log(run_id, operation, row_id)",
        "CREATE INDEX attempt_log_in_flight ON attempt_log(outcome) WHERE outcome = 0",
        "CREATE INDEX figure_log_row ON figure_log(row_id, id)",
        """
        CREATE VIEW attempts AS
        SELECT a.id, a.row_id, a.run_id, o.name AS operation,
               datetime(a.requested_ms / 1000, 'unixepoch') || printf('.%03d', a.requested_ms % 1000) AS requested_at,
               datetime(a.finished_ms / 1000, 'unixepoch') || printf('.%03d', a.finished_ms % 1000) AS finished_at,
               a.http_status, a.latency_ms, a.error, a.returned_id, u.name AS outcome
        FROM attempt_log a JOIN attempt_operations o ON o.code = a.operation JOIN attempt_outcomes u ON u.code = a.outcome
        """,
        """
        CREATE VIEW remote_figures AS
        SELECT f.id, f.row_id, f.run_id, f.attempt_id, f.source,
               CASE WHEN f.cashier_id IS NULL THEN a.returned_id ELSE nullif(f.cashier_id, '') END AS cashier_id,
               f.http_status, f.currency, f.exponent, f.balance_minor, f.bonus_balance_minor, f.pending_payout_total_minor,
               coalesce(f.balance_text, CASE WHEN f.exponent = 0 THEN CAST(f.balance_minor AS TEXT) ELSE iif(f.balance_minor < 0, '-', '') || (abs(f.balance_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.balance_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END) AS balance_text,
               coalesce(f.bonus_balance_text, CASE WHEN f.exponent = 0 THEN CAST(f.bonus_balance_minor AS TEXT) ELSE iif(f.bonus_balance_minor < 0, '-', '') || (abs(f.bonus_balance_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.bonus_balance_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END) AS bonus_balance_text,
               coalesce(f.pending_payout_total_text, CASE WHEN f.exponent = 0 THEN CAST(f.pending_payout_total_minor AS TEXT) ELSE iif(f.pending_payout_total_minor < 0, '-', '') || (abs(f.pending_payout_total_minor) / (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) || '.' || printf('%0*d', f.exponent, abs(f.pending_payout_total_minor) % (CASE f.exponent WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 ELSE 10000 END)) END) AS pending_payout_total_text,
               datetime(f.observed_ms / 1000, 'unixepoch') || printf('.%03d', f.observed_ms % 1000) AS observed_at,
               f.can_withdraw,
               datetime(f.cashier_created_ms / 1000, 'unixepoch') || printf('.%03d', f.cashier_created_ms % 1000) AS cashier_created_at
        FROM figure_log f LEFT JOIN attempt_log a ON a.id = f.attempt_id
        """,
        "UPDATE rows SET request = cb_positional_request(request) WHERE request IS NOT NULL",
        """
        CREATE VIEW row_requests AS
        SELECT r.id AS row_id, r.website_id AS websiteId, r.customer_id AS customerId, r.currency AS currency,
               r.request ->> '$[0]' AS "balance",
               r.request ->> '$[1]' AS "bonusBalance",
               r.request ->> '$[2]' AS "pendingPayoutTotal",
               r.request ->> '$[3]' AS "depositLimits.minimum",
               r.request ->> '$[4]' AS "depositLimits.maximum",
               r.request ->> '$[5]' AS "redirectUrl",
               r.request ->> '$[6]' AS "notificationUrl",
               r.request ->> '$[7]' AS "deposit.strategyId",
               r.request ->> '$[8]' AS "deposit.amounts",
               r.request ->> '$[9]' AS "deposit.customAmount.minimum",
               r.request ->> '$[10]' AS "deposit.customAmount.maximum",
               r.request ->> '$[11]' AS "deposit.customAmount.multipleOf",
               r.request ->> '$[12]' AS "deposit.amountLimits.minimum",
               r.request ->> '$[13]' AS "deposit.amountLimits.maximum",
               r.request ->> '$[14]' AS "deposit.redirectUrl",
               r.request ->> '$[15]' AS "deposit.notificationUrl",
               r.request ->> '$[16]' AS "deposit.expirationTime",
               r.request ->> '$[17]' AS "deposit.customPropertySetId"
        FROM rows r WHERE r.request IS NOT NULL
        """,
    ]

    /// v12: the deposit requests a `needs_review` row was put in review for (`review_candidates`),
    /// so that `resolve --adopt` takes one of them without asking Rebilly.
    static let v12: [String] = [
        """
        CREATE TABLE review_candidates (
            row_id             INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
            deposit_request_id TEXT    NOT NULL,
            PRIMARY KEY (row_id, deposit_request_id)
        ) WITHOUT ROWID
        """,
    ]

    /// v13: a row that reused the cashier an earlier night recorded for its customer names the
    /// row it took it from (`cashier_known_from`; NULL for a row that created its cashier, or
    /// whose cashier had to be created again), and the rows that created a cashier are found by
    /// their key across every batch in one index seek (`rows_cashier_key`, partial: only rows
    /// holding a cashier id they created, so staging writes nothing to it and a night of known
    /// customers adds no entry).
    static let v13: [String] = [
        "ALTER TABLE rows ADD COLUMN cashier_known_from INTEGER",
        "CREATE INDEX rows_cashier_key ON rows(key_hash) WHERE cashier_id IS NOT NULL AND cashier_known_from IS NULL",
    ]

    /// v14: known differences accepted with a reason, and each reconciliation kept in the history.
    /// `acceptances` holds who accepted a drift break (`accepted_by`), when and why, for the exact
    /// difference accepted; it covers that key's break while the difference stays the same and ends
    /// when revoked or when a reconciliation finds another difference (`ended_*`). At most one is
    /// active per key. `breaks.acceptance_id` names the acceptance that covered a break when it was
    /// recorded. `reconciliations.made_by_run_id` is the run that made the record (the run itself
    /// at the end of `run`/`retry`, or a `reconcile`), and `reconciliation_log` keeps every
    /// reconciliation's counts by the run that made it, also after a later one replaced its record.
    static let v14: [String] = [
        """
        CREATE TABLE acceptances (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            website_id       TEXT    NOT NULL,
            customer_id      TEXT    NOT NULL,
            currency         TEXT    NOT NULL,
            field            TEXT    NOT NULL CHECK (field IN ('balance', 'bonusBalance', 'pendingPayoutTotal')),
            exponent         INTEGER NOT NULL CHECK (exponent BETWEEN 0 AND 4),
            difference_minor INTEGER NOT NULL,
            break_id         INTEGER NOT NULL,
            run_id           INTEGER NOT NULL REFERENCES runs(id),
            accepted_by      TEXT    NOT NULL CHECK (length(accepted_by) > 0),
            accepted_at      TEXT    NOT NULL,
            reason           TEXT    NOT NULL CHECK (length(reason) > 0),
            ended_at         TEXT,
            ended_how        TEXT    CHECK (ended_how IN ('revoked', 'changed')),
            ended_by         TEXT,
            ended_run_id     INTEGER REFERENCES runs(id),
            CHECK ((ended_at IS NULL) = (ended_how IS NULL))
        )
        """,
        "CREATE UNIQUE INDEX acceptances_active ON acceptances(website_id, customer_id, currency, field) WHERE ended_at IS NULL",
        "ALTER TABLE breaks ADD COLUMN acceptance_id INTEGER REFERENCES acceptances(id)",
        "ALTER TABLE reconciliations ADD COLUMN made_by_run_id INTEGER REFERENCES runs(id)",
        """
        CREATE TABLE reconciliation_log (
            made_by_run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
            run_id              INTEGER NOT NULL REFERENCES runs(id),
            method              TEXT    NOT NULL CHECK (method IN ('ledger', 'readback')),
            reconciled_at       TEXT    NOT NULL,
            counts_json         TEXT    NOT NULL,
            deposit_checks_json TEXT,
            accepted            INTEGER NOT NULL,
            unread              INTEGER NOT NULL
        )
        """,
        "CREATE INDEX reconciliation_log_run ON reconciliation_log(run_id, made_by_run_id)",
    ]

    /// v15: a night's opening differences counted in its totals instead of a `breaks` row each (a
    /// first night of new cashiers holds one per figure per cashier). `opening_count` is, per
    /// website, currency and figure, the opening cashiers whose figure differs by a known amount
    /// (summed in `opening_minor`); `opening_cashiers` the opening cashiers with any difference.
    /// Reconciliations recorded before keep their opening breaks and 0 here.
    static let v15: [String] = [
        "ALTER TABLE reconciliation_totals ADD COLUMN opening_count INTEGER NOT NULL DEFAULT 0 CHECK (opening_count >= 0)",
        "ALTER TABLE reconciliation_totals ADD COLUMN opening_cashiers INTEGER NOT NULL DEFAULT 0 CHECK (opening_cashiers >= 0)",
    ]

    /// `cb_request(line, source_json)`: the ``RowRequest`` text of a source that validates, else NULL (v10).
    static let requestFunction = DatabaseFunction("cb_request", argumentCount: 2, pure: true) { values in
        guard let line = Int.fromDatabaseValue(values[0]), let source = String.fromDatabaseValue(values[1]),
              let record = try? RawRecord(line: line, sourceJSON: source),
              case let .valid(row) = RowValidator().validate(record) else { return nil }
        return RowRequest.encode(row)
    }

    /// `cb_positional_request(TEXT)`: a v10 request (a JSON object keyed by column name) as ``RowRequest``'s
    /// positional array (v11); an array is returned as it is.
    static let positionalRequestFunction = DatabaseFunction("cb_positional_request", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]) else { return nil }
        return try RowRequest.positional(keyed: text)
    }

    /// `cb_millis(TEXT)`: a ledger timestamp as milliseconds since the epoch (v11).
    static let millisFunction = DatabaseFunction("cb_millis", argumentCount: 1, pure: true) { values in
        guard let date = Date.fromDatabaseValue(values[0]) else { return nil }
        return LedgerTimestamp.millis(date)
    }

    /// `cb_hash(TEXT)`: the ledger's 64-bit text hash (``Ledger/payloadHash(_:)``, ``Ledger/keyHash(_:)``)
    /// as SQL, for v7's rewrite of old rows.
    static let payloadHashFunction = DatabaseFunction("cb_hash", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]) else { return nil }
        return Ledger.payloadHash(text)
    }
}
