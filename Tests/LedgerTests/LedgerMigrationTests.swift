import Foundation
import CashierModel
import GRDB
import Testing
@testable import Ledger

/// A ledger written by an earlier schema opens, is migrated forward in place, and keeps its records.
@Suite struct LedgerMigrationTests {
    /// A v5 ledger with one finished night: a run, a staged batch, two rows (the first's source no
    /// longer validates, the second's does), the figures Rebilly answered for the first (it cannot
    /// withdraw) and the break recorded on it.
    func writeV5(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for (index, migration) in LedgerSchema.migrations.prefix(5).enumerated() {
            migrator.registerMigration(migration.id) { db in
                for sql in migration.sql { try db.execute(sql: sql) }
                try db.execute(sql: "PRAGMA user_version = \(index + 1)")
            }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, command, started_at, finished_at, status, exit_code, pid, hostname)
                VALUES (1, 'run', '2026-11-01 01:00:00.000', '2026-11-01 01:05:00.000', 'finished', 0, 1, 'h')
                """)
            try db.execute(sql: """
                INSERT INTO batches (id, sha256, path, format, row_count, valid_count, created_at, staged_at, first_run_id)
                VALUES (1, ?, 'night.csv', 'csv', 2, 2, '2026-11-01 01:00:00.000', '2026-11-01 01:00:01.000', 1)
                """, arguments: [sha("night")])
            try db.execute(sql: "INSERT INTO run_batches (run_id, batch_id) VALUES (1, 1)")
            for line in 2...3 {
                try db.execute(sql: """
                    INSERT INTO rows (batch_id, line, row_key, website_id, customer_id, currency, payload_json, source_json,
                                      state, cashier_id, deposit_request_id, last_run_id, updated_at)
                    VALUES (1, ?, ?, 'web_1', ?, 'USD', '{"cashier":{"balance":"1.00"}}', ?, 'done',
                            ?, ?, 1, '2026-11-01 01:04:00.000')
                    """, arguments: [line, Ledger.rowKey(websiteID: "web_1", customerID: "cus_\(line)", currency: "USD"),
                                     "cus_\(line)", source(line), "cashier_\(line)", "dep_req_\(line)"])
            }
            try db.execute(sql: """
                INSERT INTO remote_figures (row_id, run_id, source, cashier_id, http_status, currency, exponent, balance_minor,
                                            balance_text, observed_at, can_withdraw)
                VALUES (1, 1, 'create', 'cashier_2', 200, 'USD', 2, 90, '0.90', '2026-11-01 01:03:00.000', 0)
                """)
            try db.execute(sql: """
                INSERT INTO breaks (run_id, website_id, customer_id, currency, field, expected_minor, actual_minor, exponent,
                                    lifecycle, first_seen_run_id, first_seen_at, created_at, row_id, source)
                VALUES (1, 'web_1', 'cus_2', 'USD', 'balance', 100, 90, 2, 'new', 1, '2026-11-01 01:05:00.000',
                        '2026-11-01 01:05:00.000', 1, 'create')
                """)
        }
        try queue.close()
    }

    func source(_ line: Int) -> String {
        line == 2 ? #"{"balance":"1.00"}"# : #"{"websiteId":"web_1","customerId":"cus_3","currency":"USD","balance":"1.00","deposit.amounts":["5","10.5"]}"#
    }

    @Test func aV5LedgerIsMigratedInPlace() throws {
        let dir = try TempDir()
        let path = dir.path("old.sqlite")
        try writeV5(path)
        // A reading command upgrades it once, then reads.
        let reader = try Ledger(path: path, access: .read)
        #expect(try reader.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15"])
        let batch = try #require(try reader.batch(id: 1))
        #expect(batch.sha256 == sha("night") && batch.rowCount == 2 && batch.isStaged && batch.prunedAt == nil)
        let rows = try reader.rows(batchID: 1)
        #expect(rows.map(\.line) == [2, 3] && rows.map(\.state) == [.done, .done])
        #expect(rows.map(\.depositRequestID) == ["dep_req_2", "dep_req_3"])
        // v7: the payload text becomes its hash, the one the repeat check compares.
        #expect(rows.map(\.payloadHash) == Array(repeating: Ledger.payloadHash(#"{"cashier":{"balance":"1.00"}}"#), count: 2))
        // v10: a source that validates becomes the row's typed request and is dropped; one that
        // no longer validates stays, with no request, so the row is never sent.
        #expect(rows.map(\.sourceJSON) == [#"{"balance":"1.00"}"#, nil])
        #expect(rows[0].request == nil && rows[0].cashierRow == nil)
        let request = try #require(rows[1].cashierRow)
        #expect(request.line == 3 && request.key == RowKey(websiteId: "web_1", customerId: "cus_3", currency: "USD"))
        #expect(request.cashier.balance == Amount(minorUnits: 100, exponent: 2) && request.cashier.bonusBalance == nil)
        #expect(request.deposit.amounts == [Amount(minorUnits: 500, exponent: 2), Amount(minorUnits: 1050, exponent: 2)])
        #expect(rows.map(\.keyHash) == (2...3).map { Ledger.keyHash(Ledger.rowKey(websiteID: "web_1", customerID: "cus_\($0)", currency: "USD")) })
        #expect(try reader.rows(websiteID: "web_1", customerID: "cus_3", currency: "USD").map(\.line) == [3])
        // v8: the break keeps what Rebilly said with the figures it was judged on; no whole
        // reconciliation was recorded then, and none is made up.
        let recorded = try reader.breaks(runID: 1)
        #expect(recorded.count == 1 && recorded[0].canWithdraw == false && recorded[0].differenceMinor == -10 && recorded[0].source == .create)
        #expect(try reader.reconciliation(runID: 1) == nil)
        try reader.close()
        let version = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        #expect(version == 15)
        // Nothing is applied twice when a writing command opens it next.
        let writer = try Ledger(path: path)
        #expect(try writer.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15"])
        #expect(try writer.runs().map(\.id) == [1])
    }

    /// A v10 ledger: one done row with its keyed request, its two calls, the create answer's
    /// figures and a read-back, and call and figure ids used up to 40 and 30 (later ones pruned).
    func writeV10(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for (index, migration) in LedgerSchema.migrations.prefix(10).enumerated() {
            migrator.registerMigration(migration.id) { db in
                db.add(function: LedgerSchema.payloadHashFunction)
                db.add(function: LedgerSchema.requestFunction)
                for sql in migration.sql { try db.execute(sql: sql) }
                try db.execute(sql: "PRAGMA user_version = \(index + 1)")
            }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, command, started_at, finished_at, status, exit_code, pid, hostname) VALUES
                    (1, 'run', '2026-11-01 01:00:00.000', '2026-11-01 01:05:00.000', 'finished', 0, 1, 'h'),
                    (2, 'reconcile', '2026-11-01 02:00:00.000', '2026-11-01 02:01:00.000', 'finished', 0, 1, 'h')
                """)
            try db.execute(sql: """
                INSERT INTO batches (id, sha256, path, format, row_count, valid_count, created_at, staged_at, first_run_id)
                VALUES (1, ?, 'night.csv', 'csv', 1, 1, '2026-11-01 01:00:00.000', '2026-11-01 01:00:01.000', 1)
                """, arguments: [sha("night")])
            try db.execute(sql: "INSERT INTO run_batches (run_id, batch_id) VALUES (1, 1)")
            try db.execute(sql: """
                INSERT INTO rows (id, batch_id, line, key_hash, website_id, customer_id, currency, payload_hash, request,
                                  state, cashier_id, deposit_request_id, attempt_count, last_run_id, updated_at)
                VALUES (1, 1, 2, 7, 'web_1', 'cus_2', 'USD', 8, ?, 'done', 'cashier_2', 'dep_req_2', 2, 1, '2026-11-01 01:04:00.250')
                """, arguments: [#"{"balance":"1.00","redirectUrl":"https://example.com/r","deposit.amounts":["5.00","10.50"]}"#])
            try db.execute(sql: """
                INSERT INTO attempts (id, row_id, run_id, operation, requested_at, finished_at, http_status, latency_ms,
                                      returned_id, outcome) VALUES
                    (39, 1, 1, 'create_cashier', '2026-11-01 01:03:00.001', '2026-11-01 01:03:00.999', 201, 998, 'cashier_2', 'succeeded'),
                    (40, 1, 1, 'create_deposit_request', '2026-11-01 01:03:01.000', NULL, NULL, NULL, NULL, 'lost')
                """)
            try db.execute(sql: """
                INSERT INTO remote_figures (id, row_id, run_id, attempt_id, source, cashier_id, http_status, currency, exponent,
                                            balance_minor, balance_text, observed_at, can_withdraw, cashier_created_at) VALUES
                    (29, 1, 1, 39, 'create', 'cashier_2', 201, 'USD', 2, 100, '1.00', '2026-11-01 01:03:00.999', 1, '2026-11-01 01:03:00.000'),
                    (30, 1, 2, NULL, 'readback', 'cashier_2', 200, 'USD', 2, 90, '0.9', '2026-11-01 02:00:30.123', 0, '2026-11-01 01:03:00.000')
                """)
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = 50 WHERE name = 'attempts'")
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = 60 WHERE name = 'remote_figures'")
        }
        try queue.close()
    }

    @Test func aV10LedgerIsMigratedInPlace() async throws {
        let dir = try TempDir()
        let path = dir.path("v10.sqlite")
        try writeV10(path)
        let ledger = try Ledger(path: path)
        #expect(try ledger.appliedMigrations().last == "v15")
        // The request: the same typed row, kept as a positional array, read by name in a view.
        let row = try #require(try ledger.rows(batchID: 1).first)
        #expect(row.request == #"["1.00",null,null,null,null,"https://example.com/r",null,null,["5.00","10.50"]]"#)
        let request = try #require(row.cashierRow)
        #expect(request.cashier.balance == Amount(minorUnits: 100, exponent: 2) && request.cashier.redirectUrl == "https://example.com/r")
        #expect(request.deposit.amounts == [Amount(minorUnits: 500, exponent: 2), Amount(minorUnits: 1050, exponent: 2)])
        let named = try DatabaseQueue(path: path).read { db in
            try Row.fetchOne(db, sql: #"SELECT websiteId, balance, bonusBalance, redirectUrl, "deposit.amounts" FROM row_requests WHERE row_id = 1"#)
        }
        #expect(named?["websiteId"] == "web_1" && named?["balance"] == "1.00" && (named?["bonusBalance"] as String?) == nil)
        #expect(named?["redirectUrl"] == "https://example.com/r" && named?["deposit.amounts"] == #"["5.00","10.50"]"#)
        // The calls and the figures: the same records, to the millisecond.
        let stamp = { (text: String) -> Date in Date.fromDatabaseValue(text.databaseValue)! }
        let attempts = try ledger.attempts(rowID: 1)
        #expect(attempts.map(\.id) == [39, 40] && attempts.map(\.operation) == [.createCashier, .createDepositRequest])
        #expect(attempts.map(\.outcome) == [.succeeded, .lost] && attempts.map(\.returnedID) == ["cashier_2", nil])
        #expect(attempts[0].requestedAt == (stamp("2026-11-01 01:03:00.001")) && attempts[0].finishedAt == (stamp("2026-11-01 01:03:00.999")))
        #expect(attempts[1].requestedAt == (stamp("2026-11-01 01:03:01.000")) && attempts[1].finishedAt == nil)
        #expect(attempts[0].httpStatus == 201 && attempts[0].latencyMs == 998)
        let figures = try ledger.remoteFigures(rowID: 1)
        #expect(figures.map(\.id) == [29, 30] && figures.map(\.source) == [.create, .readBack] && figures.map(\.attemptID) == [39, nil])
        #expect(figures.map(\.figures.cashierID) == ["cashier_2", "cashier_2"])
        #expect(figures.map(\.figures.balanceMinor) == [100, 90] && figures.map(\.figures.balanceText) == ["1.00", "0.9"])
        #expect(figures.map(\.figures.canWithdraw) == [true, false])
        #expect(figures.map(\.observedAt) == [stamp("2026-11-01 01:03:00.999"), stamp("2026-11-01 02:00:30.123")])
        #expect(figures.map(\.figures.cashierCreatedAt) == [stamp("2026-11-01 01:03:00.000"), stamp("2026-11-01 01:03:00.000")])
        // Stored narrow: the create answer's cashier id is its call's returned id.
        let stored = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT cashier_id, balance_text, observed_ms FROM figure_log ORDER BY id")
        }
        #expect(stored.map { $0["cashier_id"] as String? } == [nil, "cashier_2"])
        // '1.00' is the decimal of 100 at exponent 2 and is written back by the view; '0.9' is kept.
        #expect(stored.map { $0["balance_text"] as String? } == [nil, "0.9"])
        #expect(stored.map { $0["observed_ms"] as Int64 } == [1_793_494_980_999, 1_793_498_430_123])
        // Ids once used are not handed out again.
        let writer = ledger.writer()
        let next = try await writer.recordIntent(rowID: 1, runID: 2, operation: .getCashier)
        await writer.shutdown()
        #expect(next == 51)
        try ledger.close()
    }

    /// A figure's text is left out of `figure_log` only when the view writes back exactly that text.
    @Test func figureTextsLeftOutAreWrittenBackExactly() throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 1, rejected: 0)
        let rowID = try #require(try ledger.rows(batchID: batch.id).first?.id)
        let minors: [Int64] = [0, 1, -1, 9, 10, 99, 100, -100, 101, 12_345, -12_345, 1_000_000_007, .max, .min + 1]
        var cases: [(minor: Int64, exponent: Int, text: String)] = []
        for exponent in 0...4 {
            for minor in minors {
                cases.append((minor, exponent, Amount.format(Int128(minor), exponent: exponent)))
            }
        }
        cases += [(90, 2, "0.9"), (100, 2, "1"), (100, 2, "+1.00"), (5, 0, "5.0"), (-5, 2, "-0.050")]
        try ledger.recordRemoteFigures(cases.map { c in
            NewRemoteFigures(rowID: rowID, runID: run, source: .readBack, figures: RemoteFigures(
                cashierID: "cashier_1", httpStatus: 200, currency: "USD", exponent: c.exponent,
                balanceMinor: c.minor, bonusBalanceMinor: nil, pendingPayoutTotalMinor: c.minor,
                balanceText: c.text, bonusBalanceText: nil, pendingPayoutTotalText: "x"))
        })
        let read = try ledger.remoteFigures(rowID: rowID)
        #expect(read.map(\.figures.balanceText) == cases.map(\.text))
        #expect(read.allSatisfy { $0.figures.bonusBalanceText == nil && $0.figures.pendingPayoutTotalText == "x" })
        let kept = try DatabaseQueue(path: ledger.path).read { db in
            try String?.fetchAll(db, sql: "SELECT balance_text FROM figure_log ORDER BY id")
        }
        #expect(kept == cases.map { Ledger.storedFigureText($0.text, minor: $0.minor, exponent: $0.exponent) })
        #expect(kept.prefix(5 * minors.count).allSatisfy { $0 == nil } && kept.suffix(5) == ["0.9", "1", "+1.00", "5.0", "-0.050"])
        try ledger.close()
    }
}
