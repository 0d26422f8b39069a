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
        #expect(try reader.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"])
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
        #expect(version == 10)
        // Nothing is applied twice when a writing command opens it next.
        let writer = try Ledger(path: path)
        #expect(try writer.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"])
        #expect(try writer.runs().map(\.id) == [1])
    }
}
