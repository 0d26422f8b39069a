import CashierModel
import Foundation
import GRDB
import Testing
@testable import Ledger

// Every test works on a real SQLite file in its own temporary directory.

final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

func sha(_ seed: String) -> String {
    // 64 hex chars, distinct per seed (not a real digest; the ledger only stores it).
    let hex = seed.utf8.map { String(format: "%02x", $0) }.joined()
    return String((hex + String(repeating: "0", count: 64)).prefix(64))
}

func validRow(_ line: Int, customer: String? = nil, currency: String = "USD") -> StagedRow {
    var record = RawRecord(line: line)
    record[.websiteId] = .text("web_1")
    record[.customerId] = .text(customer ?? "cus_\(line)")
    record[.currency] = .text(currency)
    record[.balance] = .text("10")
    let verdict = RowValidator().validate(record)
    guard case .valid = verdict else { fatalError("test row invalid: \(verdict)") }
    return StagedRow(record, verdict)
}

func rejectedRow(_ line: Int) -> StagedRow {
    StagedRow(
        line: line, rowKey: nil, websiteID: "web_1", customerID: nil, currency: nil,
        payloadJSON: nil, sourceJSON: #"{"websiteId":"web_1","customerId":""}"#,
        state: .rejected, reasonsJSON: #"[{"field":"customerId","message":"required"}]"#)
}

/// A ledger with one run and one staged batch of `valid` pending + `rejected` rejected rows.
func fixture(_ dir: TempDir, valid: Int = 7, rejected: Int = 3) throws -> (Ledger, Int64, BatchRecord) {
    let ledger = try Ledger(path: dir.path("ledger.sqlite"))
    let run = try ledger.beginRun(command: "run", optionsJSON: #"{"rate":"20/s"}"#)
    let (batch, existed) = try ledger.upsertBatch(
        NewBatch(sha256: sha("batch-a"), path: "/in/a.csv", format: .csv), runID: run)
    #expect(!existed)
    var rows = (1...valid).map { validRow($0 + 1) }
    rows += (0..<rejected).map { rejectedRow(valid + 2 + $0) }
    try ledger.stageRows(batchID: batch.id, rows: rows)
    try ledger.finishStaging(batchID: batch.id, rowCount: valid + rejected, valid: valid, rejected: rejected,
                             controlVerdict: .absent, controlDetail: nil)
    return (ledger, run, batch)
}

/// A second, independent connection to inspect the file as an operator would.
/// A reconciliation of `run` that found `breaks`, as the reconciler returns one (no rows compared).
func reconciliation(_ run: Int64, _ breaks: [Break], at date: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> ReconciliationReport {
    ReconciliationReport(runID: run, method: .ledger, reconciledAt: date, baselineRunID: nil, breaks: breaks, totals: [],
                         accounting: [], depositChecks: nil, counts: ReconciliationCounts(breaks: breaks))
}

func inspect<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
    // A fresh WAL reader can meet SQLITE_BUSY for a moment while the writer's connection updates the
    // WAL index; production connections wait for that, so the inspecting one does too.
    var config = Configuration()
    config.busyMode = .timeout(10)
    let queue = try DatabaseQueue(path: path, configuration: config)
    defer { try? queue.close() }
    return try queue.read(body)
}

func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("Schema and file")
struct SchemaTests {
    @Test func migrationsCreateTheSchema() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        #expect(try ledger.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15"])
        let (tables, indexes) = try inspect(ledger.path) { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        }
        #expect(tables == ["acceptances", "attempt_log", "attempt_operations", "attempt_outcomes", "batches", "breaks", "figure_log", "grdb_migrations",
                          "reconciliation_log", "reconciliation_totals", "reconciliations", "resolutions", "review_candidates", "rows", "run_batches", "runs"])
        for index in ["rows_batch_state", "rows_batch_key", "rows_cashier_key", "attempt_log_row", "attempt_log_run", "figure_log_row", "breaks_run", "breaks_key",
                      "acceptances_active", "reconciliation_log_run"] {
            #expect(indexes.contains(index), "missing index \(index)")
        }
        let rowColumns = try inspect(ledger.path) { db in try db.columns(in: "rows").map(\.name) }
        #expect(rowColumns == ["id", "batch_id", "line", "website_id", "customer_id", "currency",
                               "source_json", "state", "reasons_json", "cashier_id",
                               "deposit_request_id", "attempt_count", "last_run_id", "updated_at", "payload_hash", "key_hash", "request", "cashier_known_from"])
        let uniqueBatchLine = try inspect(ledger.path) { db in
            try db.indexes(on: "rows").contains { $0.isUnique && $0.columns == ["batch_id", "line"] }
        }
        #expect(uniqueBatchLine)
    }

    @Test func walModeAndForeignKeysAreOn() async throws {
        let dir = try TempDir()
        let (ledger, run, _) = try fixture(dir)
        let writer = ledger.writer()
        let mode = try inspect(ledger.path) { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Foreign keys: rows need a real batch, attempts a real run.
        #expect(throws: DatabaseError.self) { try ledger.stageRows(batchID: 9_999, rows: [validRow(2)]) }
        let row = try #require(try ledger.rows(batchID: 1, states: [.pending]).first)
        await #expect(throws: DatabaseError.self) { _ = try await writer.recordIntent(rowID: row.id, runID: 9_999, operation: .createCashier) }
        #expect(throws: DatabaseError.self) {
            _ = try ledger.upsertBatch(NewBatch(sha256: sha("orphan"), path: "x", format: .csv), runID: 9_999)
        }
        _ = run
        let violations = try inspect(ledger.path) { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(violations.isEmpty)
        await writer.shutdown()
    }

    @Test func fileIsOwnerOnlyIncludingWALCompanions() throws {
        let dir = try TempDir()
        let previous = umask(0o022)
        defer { umask(previous) }
        let (ledger, _, _) = try fixture(dir)
        #expect(try fileMode(ledger.path) == 0o600)
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: ledger.path + suffix) {
            #expect(try fileMode(ledger.path + suffix) == 0o600, "\(suffix)")
        }
        #expect(FileManager.default.fileExists(atPath: ledger.path + "-wal"))
    }

    @Test func existingWorldReadableLedgerIsTightened() throws {
        let dir = try TempDir()
        let path = dir.path("old.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        _ = try Ledger(path: path)
        #expect(try fileMode(path) == 0o600)
    }

    @Test func parentDirectoriesAreCreatedOwnerOnly() throws {
        let dir = try TempDir()
        let path = dir.path("nested/deeper/ledger.sqlite")
        _ = try Ledger(path: path)
        #expect(try fileMode(dir.path("nested/deeper")) == 0o700)
        #expect(try fileMode(path) == 0o600)
    }

    @Test func reopeningMigratesNothingTwiceAndKeepsData() throws {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")  // the fixture's file
        do {
            let (ledger, run, _) = try fixture(dir)
            try ledger.finishRun(id: run, status: .finished, exitCode: 0)
            try ledger.close()
        }
        let again = try Ledger(path: path)
        #expect(try again.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15"])
        let migrationRows = try inspect(path) { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") }
        #expect(migrationRows == 15)
        #expect(try again.runs(limit: 10).count == 1)
        #expect(try again.countsByState(batchID: 1)[.pending] == 7)
        // A third open, while the second is still open, is fine too.
        let third = try Ledger(path: path)
        #expect(try third.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15"])
    }

    @Test func aLedgerFromANewerVersionIsRefused() throws {
        let dir = try TempDir()
        let path = dir.path("l.sqlite")
        try Ledger(path: path).close()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999')") }
        try queue.close()
        #expect(throws: LedgerFault(path: path, cause: .newerVersion(found: 16, known: 15), detail: "unknown migrations")) {
            _ = try Ledger(path: path)
        }
    }

    @Test func checkConstraintsMatchTheSwiftEnums() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 1, rejected: 0)
        let writer = ledger.writer()
        // Every Swift case is accepted by the schema…
        let rows = RowState.allCases.enumerated().map { index, state in
            StagedRow(line: 100 + index, rowKey: nil, websiteID: nil, customerID: nil, currency: nil,
                      payloadJSON: nil, sourceJSON: nil, state: state, reasonsJSON: nil)
        }
        #expect(try ledger.stageRows(batchID: batch.id, rows: rows) == RowState.allCases.count)
        let row = try #require(try ledger.rows(batchID: batch.id, states: [.pending]).first)
        for operation in AttemptOperation.allCases {
            for outcome in AttemptOutcome.allCases {
                let attempt = try await writer.recordIntent(rowID: row.id, runID: run, operation: operation)
                try await writer.recordOutcome(attemptID: attempt, httpStatus: 200, latencyMs: 1, error: nil,
                                               returnedID: nil, outcome: outcome)
            }
        }
        await writer.shutdown()
        for status in RunStatus.allCases { try ledger.finishRun(id: run, status: status, exitCode: 0) }
        for verdict in ControlVerdict.allCases {
            try ledger.finishStaging(batchID: batch.id, rowCount: 1, valid: 1, rejected: 0,
                                     controlVerdict: verdict, controlDetail: nil)
        }
        for syntax in BatchFormat.Syntax.allCases {
            _ = try ledger.upsertBatch(NewBatch(sha256: sha("fmt-\(syntax)"), path: "p", format: BatchFormat(syntax: syntax, gzip: true)), runID: run)
        }
        let breaks = BreakLifecycle.allCases.map {
            Break(websiteID: "w", customerID: "c", currency: "USD", exponent: 2, field: .balance, lifecycle: $0,
                  expectedMinor: 1, actualMinor: 2, firstSeenRunID: run, firstSeenAt: Date())
        }
        try ledger.recordReconciliation(reconciliation(run, breaks))
        // …and anything else is refused by the database itself.
        let queue = try DatabaseQueue(path: ledger.path)
        defer { try? queue.close() }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "UPDATE rows SET state = 'skipped' WHERE id = ?", arguments: [row.id]) }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "UPDATE attempt_log SET outcome = 9") }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "UPDATE runs SET status = 'done'") }
        }
    }
}

@Suite("Query plans")
struct QueryPlanTests {
    /// SQLite's plan of `sql`, one line per step.
    static func plan(_ ledger: Ledger, _ sql: String, _ arguments: StatementArguments) throws -> String {
        try ledger.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }.joined(separator: "\n")
        }
    }

    @Test func aNightIsReadInPagesWithoutSortingItInMemory() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        let run = try ledger.beginRun(command: "run")
        for night in 1...2 {
            let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: String(repeating: "\(night)", count: 64), path: "/in/\(night).csv",
                                                             format: .csv), runID: run)
            try ledger.stageRows(batchID: batch.id, rows: (2...40).map { line in
                StagedRow(line: line, rowKey: "k\(night)-\(line)", websiteID: "web_1", customerID: "cus_\(night)_\(line)", currency: "USD",
                          payloadJSON: "{}", sourceJSON: "{}", state: line % 3 == 0 ? .rejected : .pending, reasonsJSON: "[]")
            })
        }
        let states = #"["pending","failed"]"#
        let statements: [(String, StatementArguments)] = [
            (LedgerSQL.rowPage, [2, 0, states, states, 500]),
            (LedgerSQL.rowPage, [2, 0, nil, nil, Int64.max]),
            (LedgerSQL.attemptSamplesOfRun, [run]),
            (LedgerSQL.rowsCalledInRun, [run, "create_cashier"]),
        ]
        // Night after night the same customers: a lookup by key seeks each batch it looks in by
        // (batch_id, key_hash), never every night's row of the customer.
        let byKey: [(String, StatementArguments)] = [
            (LedgerSQL.repeatedRowCount, [2, "2026-01-01 00:00:00.000"]),
            (LedgerSQL.repeatedRowsByEarlierBatch, [2, "2026-01-01 00:00:00.000"]),
            (LedgerSQL.supersededRowsOfRun, [2, 0, Int64.max, run]),
        ]
        // Before and after SQLite has statistics (`finishRun` runs PRAGMA optimize).
        for pass in ["without statistics", "with statistics"] {
            for (sql, arguments) in statements {
                let plan = try Self.plan(ledger, sql, arguments)
                #expect(!plan.contains("TEMP B-TREE"), "\(pass): \(sql)\n\(plan)")
            }
            for (sql, arguments) in byKey {
                let plan = try Self.plan(ledger, sql, arguments)
                #expect(plan.contains("INDEX rows_batch_key (batch_id=? AND key_hash=?"), "\(pass): \(sql)\n\(plan)")
            }
            // Crash recovery, at the start of every writing command, reads only the calls in flight.
            let recovery: [(String, StatementArguments)] = [
                (LedgerSQL.runIDsWithCallsInFlight, StatementArguments([run])),
                (LedgerSQL.markRowsInDoubtForCallsInFlight, StatementArguments(["x", run] as [any DatabaseValueConvertible])),
                (LedgerSQL.markCallsInFlightLost, StatementArguments([run])),
                (LedgerSQL.inFlightAttempts, StatementArguments()),
            ]
            for (sql, arguments) in recovery {
                let plan = try Self.plan(ledger, sql, arguments)
                #expect(plan.contains("attempt_log_in_flight") && !plan.contains("SCAN a\n") && !plan.contains("SCAN attempt_log"),
                        "\(pass): \(sql)\n\(plan)")
            }
            try ledger.pool.write { try $0.execute(sql: "ANALYZE") }
        }
        #expect(try ledger.rows(batchID: 2, states: [.pending]).map(\.line) == (2...40).filter { $0 % 3 != 0 })
    }
}

@Suite("Batches and staging")
struct StagingTests {
    /// Rows are committed every `rowsPerTransaction`; what the producer throws rolls back only the
    /// rows since the last commit, and staging the batch again adds exactly those.
    @Test func aScanThatFailsKeepsTheCommittedRowsAndRestagingAddsTheRest() throws {
        struct Broken: Error {}
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir, valid: 1, rejected: 0)
        let rows = (10..<15).map { validRow($0) }
        #expect(throws: Broken.self) {
            try ledger.stageRows(batchID: batch.id, rowsPerTransaction: 2) { stage in
                for row in rows { try stage(row) }
                throw Broken()
            }
        }
        #expect(try ledger.rows(batchID: batch.id).map(\.line) == [2, 10, 11, 12, 13])
        let added = try ledger.stageRows(batchID: batch.id, rowsPerTransaction: 2) { stage in
            for row in rows { try stage(row) }
        }
        #expect(added == 1)
        #expect(try ledger.rows(batchID: batch.id).map(\.line) == [2, 10, 11, 12, 13, 14])
    }

    @Test func sameSHA256TwiceReusesTheBatchAndItsRows() throws {
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir)
        let run2 = try ledger.beginRun(command: "run")
        let (again, existed) = try ledger.upsertBatch(
            NewBatch(sha256: sha("batch-a").uppercased(), path: "/elsewhere/copy.csv", format: .csv),
            runID: run2)
        #expect(existed)
        #expect(again.id == batch.id)
        #expect(again.path == "/in/a.csv")
        #expect(again.firstRunID == batch.firstRunID)
        let inserted = try ledger.stageRows(batchID: again.id, rows: (2...8).map { validRow($0) } + (9...11).map(rejectedRow))
        #expect(inserted == 0)
        #expect(try ledger.rows(batchID: batch.id).count == 10)
        #expect(try ledger.batches(runID: run2).map(\.id) == [batch.id])
        #expect(try ledger.batches(runID: batch.firstRunID).map(\.id) == [batch.id])
        let batchCount = try inspect(ledger.path) { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM batches") }
        #expect(batchCount == 1)
    }

    @Test func stagingIsIdempotentAndKeepsProgress() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir)
        let first = try #require(try ledger.rows(batchID: batch.id, states: [.pending]).first)
        let writer = ledger.writer()
        let attempt = try await writer.recordIntent(rowID: first.id, runID: run, operation: .createCashier)
        try await writer.recordOutcome(attemptID: attempt, httpStatus: 201, latencyMs: 12, error: nil,
                                       returnedID: "cashier_1", outcome: .succeeded, then: .cashierCreated(cashierID: "cashier_1"))
        await writer.shutdown()
        // Staging the same lines again (a crash mid-staging, or the same file next night) changes nothing,
        // even if the second reading differed.
        var changed = validRow(first.line)
        changed.payloadJSON = #"{"other":true}"#
        #expect(try ledger.stageRows(batchID: batch.id, rows: [changed, validRow(2), validRow(3)]) == 0)
        let after = try #require(try ledger.row(id: first.id))
        #expect(after.state == .cashierCreated)
        #expect(after.cashierID == "cashier_1")
        #expect(after.payloadHash == first.payloadHash && after.payloadHash == Ledger.payloadHash(validRow(first.line).payloadJSON ?? ""))
        // New lines are still added.
        #expect(try ledger.stageRows(batchID: batch.id, rows: [validRow(50), validRow(51)], chunkSize: 1) == 2)
        #expect(try ledger.rows(batchID: batch.id).count == 12)
    }

    @Test func stagedValuesRoundTripExactly() throws {
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir, valid: 1, rejected: 0)
        let odd = StagedRow(
            line: 40, rowKey: Ledger.rowKey(websiteID: "wéb", customerID: "", currency: "JPY"),
            websiteID: "wéb", customerID: "", currency: "JPY",
            payloadJSON: #"{"balance":"0.10","note":"quote \" and\nnewline, emoji 💶"}"#, sourceJSON: "",
            state: .pending, reasonsJSON: nil)
        #expect(try ledger.stageRows(batchID: batch.id, rows: [odd]) == 1)
        let stored = try #require(try ledger.rows(batchID: batch.id).first { $0.line == 40 })
        #expect(stored.customerID == "")          // empty text stays '', never NULL
        #expect(stored.sourceJSON == "")
        #expect(stored.websiteID == "wéb")
        #expect(stored.payloadHash == Ledger.payloadHash(odd.payloadJSON ?? ""))
        #expect(stored.rowKey == "wéb\u{1F}\u{1F}JPY")
        #expect(stored.reasonsJSON == "[]")
        #expect(stored.currency == "JPY" && stored.state == .pending && stored.attemptCount == 0 && stored.lastRunID == nil)
    }

    /// A valid row is kept as its typed request and read back as the row staging validated; a
    /// rejected row as its cells, read back as read.
    @Test func aValidRowKeepsItsRequestAndARejectedRowItsCells() throws {
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir, valid: 1, rejected: 0)
        var record = RawRecord(line: 20)
        record[.websiteId] = .text("web_1"); record[.customerId] = .text("cus_1"); record[.currency] = .text("BHD")
        record[.balance] = .text("17018.5"); record[.depositAmounts] = .text("5;10.25")
        record[.redirectUrl] = .text("https://gulfgames.example.bh/return?ref={id}")
        let verdict = RowValidator().validate(record)
        guard case let .valid(row) = verdict else { Issue.record("\(verdict)"); return }
        var bad = RawRecord(line: 21)
        bad[.websiteId] = .text("web_1"); bad[.customerId] = .text("cus_2"); bad[.currency] = .text("BHD")
        bad[.balance] = .number("1.0005")
        let refused = RowValidator().validate(bad)
        #expect(try ledger.stageRows(batchID: batch.id, rows: [StagedRow(record, verdict), StagedRow(bad, refused)]) == 2)
        let stored = try ledger.rows(batchID: batch.id).filter { $0.line >= 20 }
        #expect(stored[0].request == #"["17018.500",null,null,null,null,"https://gulfgames.example.bh/return?ref={id}",null,null,["5.000","10.250"]]"#)
        #expect(stored[0].sourceJSON == nil && stored[0].cashierRow == row && stored[0].payloadHash == Ledger.payloadHash(row.payloadJSON))
        #expect(stored[1].request == nil && stored[1].cashierRow == nil && stored[1].payloadHash == nil)
        #expect(stored[1].sourceJSON == #"{"websiteId":"web_1","customerId":"cus_2","currency":"BHD","balance":1.0005}"#)
        #expect(stored[1].cells == bad)
        #expect(stored[1].state == .rejected && FieldIssue.issues(json: stored[1].reasonsJSON).map(\.field) == ["balance"])
        // A valid row's cells are its request written back: validating them gives the row again.
        guard case let .valid(again) = RowValidator().validate(stored[0].cells) else { Issue.record("cells no longer valid"); return }
        #expect(again == row)
    }

    @Test func finishStagingRecordsCountsAndVerdict() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        let run = try ledger.beginRun(command: "run")
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha("gz"), path: "b.jsonl.gz", format: BatchFormat(syntax: .jsonLines, gzip: true)), runID: run)
        #expect(!batch.isStaged)
        #expect(batch.format == BatchFormat(syntax: .jsonLines, gzip: true))
        try ledger.finishStaging(batchID: batch.id, rowCount: 5, valid: 4, rejected: 1,
                                 controlVerdict: .mismatch, controlDetail: "USD balance: expected 10.00, found 9.99")
        let stored = try #require(try ledger.batch(sha256: sha("gz")))
        #expect(stored.isStaged)
        #expect(stored.rowCount == 5 && stored.validCount == 4 && stored.rejectedCount == 1)
        #expect(stored.controlVerdict == .mismatch)
        #expect(stored.controlDetail == "USD balance: expected 10.00, found 9.99")
        #expect(throws: LedgerError.noSuchBatch(42)) {
            try ledger.finishStaging(batchID: 42, rowCount: 0, valid: 0, rejected: 0, controlVerdict: .absent, controlDetail: nil)
        }
    }

    @Test func rowsByStatePagedAndStreamed() throws {
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir, valid: 25, rejected: 5)
        #expect(try ledger.rows(batchID: batch.id, states: [.rejected]).map(\.line) == Array(27...31))
        #expect(try ledger.rows(batchID: batch.id, states: [.rejected, .pending]).count == 30)
        #expect(try ledger.rows(batchID: batch.id, states: []).isEmpty)
        var seen: [Int64] = []
        var after: Int64 = 0
        while true {
            let page = try ledger.rows(batchID: batch.id, states: [.pending], afterID: after, limit: 7)
            guard let last = page.last else { break }
            seen += page.map(\.id)
            after = last.id
        }
        #expect(seen.count == 25)
        #expect(seen == seen.sorted())
        var all = 0
        try ledger.forEachRow(batchID: batch.id) { _ in all += 1 }
        #expect(all == 30)
        var rejected = 0
        try ledger.forEachRow(batchID: batch.id, states: [.rejected]) { row in
            #expect(row.reasonsJSON.contains("customerId"))
            #expect(row.payloadHash == nil)
            rejected += 1
        }
        #expect(rejected == 5)
        #expect(try ledger.rows(websiteID: "web_1", customerID: "cus_2", currency: "USD").map(\.line) == [2])
        #expect(try ledger.rows(websiteID: "web_1", customerID: "CUS_2", currency: "USD").isEmpty, "the hash, then the columns")
    }
}

@Suite("Row states and attempts")
struct StateTests {
    @Test func transitionsAndCountsAreExact() async throws {
        let dir = try TempDir()
        let (ledger, _, batch) = try fixture(dir)
        let pending = try ledger.rows(batchID: batch.id, states: [.pending])
        #expect(pending.count == 7)
        let writer = ledger.writer()
        try await writer.transition(rowID: pending[0].id, to: .cashierCreated, cashierID: "c0")
        try await writer.transition(rowID: pending[1].id, to: .cashierCreated, cashierID: "c1")
        try await writer.transition(rowID: pending[1].id, to: .done, depositRequestID: "dep_req_1")
        try await writer.transition(rowID: pending[2].id, to: .done, depositRequestID: nil)      // --no-deposits
        try await writer.transition(rowID: pending[3].id, to: .failed, reasonsJSON: #"[{"field":"","message":"HTTP 503 after 6 attempts"}]"#)
        try await writer.transition(rowID: pending[4].id, to: .cashierCreated, cashierID: "c4")
        try await writer.transition(rowID: pending[4].id, to: .inDoubt)
        try await writer.transition(rowID: pending[5].id, to: .rejected, reasonsJSON: #"[{"field":"currency","message":"unsupported"}]"#)
        let counts = try ledger.countsByState(batchID: batch.id)
        #expect(counts == [.pending: 1, .rejected: 4, .cashierCreated: 1, .done: 2, .failed: 1, .inDoubt: 1, .needsReview: 0])

        let done = try #require(try ledger.row(id: pending[1].id))
        #expect(done.cashierID == "c1" && done.depositRequestID == "dep_req_1" && done.reasonsJSON == "[]")
        let inDoubt = try #require(try ledger.row(id: pending[4].id))
        #expect(inDoubt.cashierID == "c4")

        // Terminal states stay terminal.
        await #expect(throws: LedgerError.illegalTransition(rowID: pending[1].id, from: .done, to: .pending)) {
            try await writer.transition(rowID: pending[1].id, to: .pending)
        }
        await #expect(throws: LedgerError.illegalTransition(rowID: pending[5].id, from: .rejected, to: .done)) {
            try await writer.transition(rowID: pending[5].id, to: .done, depositRequestID: "x")
        }
        await #expect(throws: LedgerError.illegalTransition(rowID: pending[0].id, from: .cashierCreated, to: .pending)) {
            try await writer.transition(rowID: pending[0].id, to: .pending)
        }
        await #expect(throws: LedgerError.noSuchRow(123_456)) { try await writer.transition(rowID: 123_456, to: .inDoubt) }
        // A failed row can be retried to the end; an in-doubt one verified as created can be adopted.
        try await writer.transition(rowID: pending[3].id, to: .cashierCreated, cashierID: "c3")
        try await writer.transition(rowID: pending[3].id, to: .done, depositRequestID: "dep_req_3")
        try await writer.transition(rowID: pending[4].id, to: .done, depositRequestID: "dep_req_adopted")
        #expect(try ledger.countsByState(batchID: batch.id)[.done] == 4)
        #expect(try ledger.countsByState(batchID: batch.id).values.reduce(0, +) == 10)
        await writer.shutdown()
    }

    @Test func intentThenOutcomeIsDurableAndAtomic() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir)
        let row = try #require(try ledger.rows(batchID: batch.id, states: [.pending]).first)
        let writer = ledger.writer()

        let intent = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createCashier)
        // Committed before the call: another connection sees the intent with NULL status.
        let seen = try inspect(ledger.path) { db in
            try Row.fetchOne(db, sql: "SELECT http_status, outcome, finished_at FROM attempts WHERE id = ?", arguments: [intent])
        }
        let seenRow = try #require(seen)
        #expect((seenRow["http_status"] as DatabaseValue) == .null)
        #expect((seenRow["outcome"] as String) == "in_flight")
        #expect(try ledger.inFlightAttempts().map(\.id) == [intent])
        #expect(try ledger.row(id: row.id)?.attemptCount == 1)
        #expect(try ledger.row(id: row.id)?.lastRunID == run)

        try await writer.recordOutcome(attemptID: intent, httpStatus: 201, latencyMs: 37, error: nil,
                                       returnedID: "cashier_9", outcome: .succeeded, then: .cashierCreated(cashierID: "cashier_9"))
        let deposit1 = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createDepositRequest)
        try await writer.recordOutcome(attemptID: deposit1, httpStatus: 503, latencyMs: 80, error: "Service Unavailable",
                                       returnedID: nil, outcome: .retryable)
        let deposit2 = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createDepositRequest)
        try await writer.recordOutcome(attemptID: deposit2, httpStatus: 201, latencyMs: 41, error: nil,
                                       returnedID: "dep_req_9", outcome: .succeeded, then: .done(depositRequestID: "dep_req_9"))

        let attempts = try ledger.attempts(rowID: row.id)
        #expect(attempts.map(\.operation) == [.createCashier, .createDepositRequest, .createDepositRequest])
        #expect(attempts.map(\.outcome) == [.succeeded, .retryable, .succeeded])
        #expect(attempts.map(\.httpStatus) == [201, 503, 201])
        #expect(attempts.map(\.latencyMs) == [37, 80, 41])
        #expect(attempts[1].error == "Service Unavailable")
        #expect(attempts.allSatisfy { $0.finishedAt != nil && $0.runID == run })
        #expect(try ledger.attempts(runID: run).count == 3)
        #expect(try ledger.inFlightAttempts().isEmpty)
        let done = try #require(try ledger.row(id: row.id))
        #expect(done.state == .done && done.cashierID == "cashier_9" && done.depositRequestID == "dep_req_9")
        #expect(done.attemptCount == 3)

        // Outcome and transition are one operation: an illegal transition leaves the outcome unrecorded.
        let late = try await writer.recordIntent(rowID: row.id, runID: run, operation: .getCashier)
        await #expect(throws: LedgerError.self) {
            try await writer.recordOutcome(attemptID: late, httpStatus: 200, latencyMs: 5, error: nil, returnedID: nil,
                                           outcome: .succeeded, then: .pending)
        }
        #expect(try ledger.attempt(id: late)?.outcome == .inFlight)
        await #expect(throws: LedgerError.noSuchAttempt(77_777)) {
            try await writer.recordOutcome(attemptID: 77_777, httpStatus: nil, latencyMs: nil, error: nil, returnedID: nil, outcome: .lost)
        }
        await #expect(throws: LedgerError.noSuchRow(88_888)) {
            _ = try await writer.recordIntent(rowID: 88_888, runID: run, operation: .createCashier)
        }
        await writer.shutdown()
    }

    @Test func createsAreRefusedForDoneRejectedAndUnverifiedInDoubtRows() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending])
        let rejected = try #require(try ledger.rows(batchID: batch.id, states: [.rejected]).first)
        let writer = ledger.writer()
        try await writer.transition(rowID: rows[0].id, to: .done, depositRequestID: "dep_req_0")
        try await writer.transition(rowID: rows[1].id, to: .cashierCreated, cashierID: "c1")
        try await writer.transition(rowID: rows[1].id, to: .inDoubt)
        await #expect(throws: LedgerError.sendRefused(rowID: rows[0].id, state: .done, operation: .createDepositRequest)) {
            _ = try await writer.recordIntent(rowID: rows[0].id, runID: run, operation: .createDepositRequest)
        }
        await #expect(throws: LedgerError.sendRefused(rowID: rows[0].id, state: .done, operation: .createCashier)) {
            _ = try await writer.recordIntent(rowID: rows[0].id, runID: run, operation: .createCashier)
        }
        await #expect(throws: LedgerError.sendRefused(rowID: rejected.id, state: .rejected, operation: .createCashier)) {
            _ = try await writer.recordIntent(rowID: rejected.id, runID: run, operation: .createCashier)
        }
        await #expect(throws: LedgerError.sendRefused(rowID: rows[1].id, state: .inDoubt, operation: .createDepositRequest)) {
            _ = try await writer.recordIntent(rowID: rows[1].id, runID: run, operation: .createDepositRequest)
        }
        // Nothing was recorded by the refused calls.
        #expect(try ledger.attempts(runID: run).isEmpty)
        #expect(try ledger.row(id: rows[0].id)?.attemptCount == 0)
        // Reads are fine; after verification (nothing found) the row may be sent again.
        _ = try await writer.recordIntent(rowID: rows[0].id, runID: run, operation: .getCashier)
        let list = try await writer.recordIntent(rowID: rows[1].id, runID: run, operation: .listDepositRequests)
        try await writer.recordOutcome(attemptID: list, httpStatus: 200, latencyMs: 9, error: nil, returnedID: nil,
                                       outcome: .succeeded, then: .cashierCreated(cashierID: "c1"))
        _ = try await writer.recordIntent(rowID: rows[1].id, runID: run, operation: .createDepositRequest)
        #expect(try ledger.attempts(runID: run).count == 3)
        await writer.shutdown()
    }

    @Test func concurrentWorkersShareOneLedger() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 200, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending])
        let writer = ledger.writer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: rows.count, by: 25) {
                let slice = Array(rows[chunk..<min(chunk + 25, rows.count)])
                group.addTask {
                    for row in slice {
                        let a = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createCashier)
                        try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "c\(row.id)",
                                                       outcome: .succeeded, then: .cashierCreated(cashierID: "c\(row.id)"))
                        let d = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createDepositRequest)
                        try await writer.recordOutcome(attemptID: d, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "d\(row.id)",
                                                       outcome: .succeeded, then: .done(depositRequestID: "d\(row.id)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        await writer.shutdown()
        #expect(try ledger.countsByState(batchID: batch.id)[.done] == 200)
        #expect(try ledger.attempts(runID: run).count == 400)
    }
}

@Suite("Runs, recovery, accounting, breaks")
struct RunTests {
    @Test func runsAreRecordedWithProcessFacts() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        let first = try ledger.beginRun(command: "run", optionsJSON: #"{"apiKeyFile":"/etc/key","rate":"20/s","db":"l.sqlite"}"#)
        try ledger.finishRun(id: first, status: .finished, exitCode: 3)
        let second = try ledger.beginRun(command: "retry")
        let runs = try ledger.runs(limit: 10)
        #expect(runs.map(\.id) == [second, first])
        let closed = runs[1]
        #expect(closed.command == "run" && closed.status == .finished && closed.exitCode == 3)
        #expect(closed.finishedAt != nil && closed.finishedAt! >= closed.startedAt)
        #expect(closed.pid == getpid())
        #expect(!closed.hostname.isEmpty)
        #expect(closed.optionsJSON.contains("apiKeyFile"))
        #expect(runs[0].status == .running && runs[0].exitCode == nil && runs[0].finishedAt == nil)
        #expect(try ledger.runs(limit: 1).map(\.id) == [second])
        #expect(throws: LedgerError.noSuchRun(999)) { try ledger.finishRun(id: 999, status: .finished, exitCode: 0) }
    }

    @Test func optionsWithSecretsAreRefused() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("l.sqlite"))
        for json in [#"{"apiKey":"sk_live_1"}"#, #"{"api-key":"x"}"#, #"{"nested":{"REBILLY_API_KEY":"x"}}"#,
                     #"{"clientSecret":"x"}"#, #"{"list":[{"password":"x"}]}"#, #"{"authToken":"x"}"#] {
            #expect(throws: LedgerError.self, "\(json)") { _ = try ledger.beginRun(command: "run", optionsJSON: json) }
        }
        #expect(throws: LedgerError.invalidOptionsJSON) { _ = try ledger.beginRun(command: "run", optionsJSON: "[1]") }
        #expect(throws: LedgerError.invalidOptionsJSON) { _ = try ledger.beginRun(command: "run", optionsJSON: "nope") }
        #expect(try ledger.runs(limit: 10).isEmpty)
    }

    @Test func crashRecoveryMarksInFlightDepositsInDoubt() async throws {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")
        var depositRow: Int64 = 0, cashierRow: Int64 = 0
        do {
            // The first process dies with one call of each kind in flight.
            let (ledger, run1, batch) = try fixture(dir)
            let rows = try ledger.rows(batchID: batch.id, states: [.pending])
            depositRow = rows[0].id
            cashierRow = rows[1].id
            let writer = ledger.writer()
            try await writer.transition(rowID: depositRow, to: .cashierCreated, cashierID: "c")
            _ = try await writer.recordIntent(rowID: depositRow, runID: run1, operation: .createDepositRequest)
            _ = try await writer.recordIntent(rowID: cashierRow, runID: run1, operation: .createCashier)
            await writer.shutdown()
            try ledger.close()
        }
        let ledger = try Ledger(path: path)
        let run2 = try ledger.beginRun(command: "run")
        let recovery = try ledger.recoverCrashedRuns(currentRunID: run2)
        #expect(recovery == CrashRecovery(crashedRunIDs: [1], runsWithCallsInFlight: [1], lostAttempts: 2, rowsMarkedInDoubt: 1))
        #expect(try ledger.run(id: 1)?.status == .crashed)
        #expect(try ledger.run(id: 1)?.finishedAt != nil)
        #expect(try ledger.run(id: run2)?.status == .running)
        #expect(try ledger.row(id: depositRow)?.state == .inDoubt)
        #expect(try ledger.row(id: cashierRow)?.state == .pending)
        #expect(try ledger.inFlightAttempts().isEmpty)
        #expect(try ledger.attempts(rowID: depositRow).map(\.outcome) == [.lost])
        // Idempotent.
        #expect(try ledger.recoverCrashedRuns(currentRunID: run2).isEmpty)
    }

    /// A run whose ledger failed under it may have closed itself (`finished`, `interrupted`)
    /// with a deposit request still in flight: it is in doubt all the same.
    @Test func recoveryTakesCallsInFlightOfRunsThatClosedThemselves() async throws {
        let dir = try TempDir()
        let (ledger, run1, batch) = try fixture(dir)
        let row = try #require(try ledger.rows(batchID: batch.id, states: [.pending]).first)
        let writer = ledger.writer()
        try await writer.transition(rowID: row.id, to: .cashierCreated, cashierID: "c")
        _ = try await writer.recordIntent(rowID: row.id, runID: run1, operation: .createDepositRequest)
        await writer.shutdown()
        try ledger.finishRun(id: run1, status: .finished, exitCode: 70)
        let run2 = try ledger.beginRun(command: "retry")
        let recovery = try ledger.recoverCrashedRuns(currentRunID: run2)
        #expect(recovery == CrashRecovery(crashedRunIDs: [], runsWithCallsInFlight: [run1], lostAttempts: 1, rowsMarkedInDoubt: 1))
        #expect(try ledger.row(id: row.id)?.state == .inDoubt)
        #expect(try ledger.run(id: run1)?.status == .finished)
        #expect(try ledger.inFlightAttempts().isEmpty)
    }

    @Test func accountingClosesAndCountsSkippedDone() async throws {
        let dir = try TempDir()
        let (ledger, run1, batch) = try fixture(dir)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending])
        let writer = ledger.writer()
        for row in rows.prefix(4) {
            let a = try await writer.recordIntent(rowID: row.id, runID: run1, operation: .createCashier)
            try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "c",
                                           outcome: .succeeded, then: .done(depositRequestID: nil))
        }
        let failing = rows[4]
        let f = try await writer.recordIntent(rowID: failing.id, runID: run1, operation: .createCashier)
        try await writer.recordOutcome(attemptID: f, httpStatus: 500, latencyMs: 1, error: "boom", returnedID: nil,
                                       outcome: .retryable, then: .failed(reasonsJSON: #"[{"field":"","message":"HTTP 500"}]"#))
        try ledger.finishRun(id: run1, status: .interrupted, exitCode: 130)
        let first = try ledger.accounting(runID: run1, batchID: batch.id)
        #expect(first == RowCounts(read: 10, done: 4, skipped: 0, rejected: 3,
                                        failed: 1, inDoubt: 0, unfinished: 2))
        #expect(first.closes)

        // Same file next night: the 4 done rows are skipped, the rest finish.
        let run2 = try ledger.beginRun(command: "run")
        _ = try ledger.upsertBatch(NewBatch(sha256: sha("batch-a"), path: "/in/a.csv", format: .csv), runID: run2)
        for row in try ledger.rows(batchID: batch.id, states: [.pending, .failed]) {
            let a = try await writer.recordIntent(rowID: row.id, runID: run2, operation: .createCashier)
            try await writer.recordOutcome(attemptID: a, httpStatus: 200, latencyMs: 1, error: nil, returnedID: "c",
                                           outcome: .succeeded, then: .done(depositRequestID: nil))
        }
        await writer.shutdown()
        let second = try ledger.accounting(runID: run2, batchID: batch.id)
        #expect(second == RowCounts(read: 10, done: 3, skipped: 4, rejected: 3,
                                        failed: 0, inDoubt: 0, unfinished: 0))
        #expect(second.closes)
    }

    @Test func breaksAreStoredInMinorUnits() throws {
        let dir = try TempDir()
        let (ledger, run1, _) = try fixture(dir)
        let seen = Date(timeIntervalSince1970: 1_700_000_000)
        try ledger.recordReconciliation(reconciliation(run1, [
            Break(websiteID: "web_1", customerID: "cus_2", currency: "USD", exponent: 2, field: .balance, lifecycle: .new,
                  expectedMinor: 1_000, actualMinor: 0, firstSeenRunID: run1, firstSeenAt: seen),
            Break(websiteID: "web_1", customerID: "cus_3", currency: "BHD", exponent: 3, field: .pendingPayoutTotal, lifecycle: .new,
                  expectedMinor: 1_500, actualMinor: 2_500, firstSeenRunID: run1, firstSeenAt: seen, rowID: 2),
        ]))
        try ledger.finishRun(id: run1, status: .finished, exitCode: 4)
        let run2 = try ledger.beginRun(command: "reconcile")
        #expect(try ledger.baseline(beforeRunID: run2)?.breaks.count == 2)
        try ledger.recordReconciliation(reconciliation(run2, [
            Break(websiteID: "web_1", customerID: "cus_2", currency: "USD", exponent: 2, field: .balance, lifecycle: .persisting,
                  expectedMinor: 1_000, actualMinor: 0, firstSeenRunID: run1, firstSeenAt: seen),
        ]))
        let breaks = try ledger.breaks(runID: run2)
        #expect(breaks.count == 1)
        #expect(breaks[0].lifecycle == .persisting && breaks[0].firstSeenRunID == run1)
        #expect(breaks[0].firstSeenAt == seen)
        #expect(breaks[0].differenceMinor == -1_000)
        let bhd = try #require(try ledger.breaks(runID: run1).last)
        #expect(bhd.exponent == 3 && bhd.differenceMinor == 1_000 && bhd.rowID == 2)
        let types = try inspect(ledger.path) { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT typeof(expected_minor) || '/' || typeof(actual_minor) FROM breaks")
        }
        #expect(types == ["integer/integer"])
        #expect(try ledger.baseline(beforeRunID: run2 + 1)?.runID == run2)
    }
}

@Suite("Throughput")
/// Measurements, not tests: they run only with `CASHIER_BATCH_BENCH=1 swift test --filter Throughput`
/// (their numbers are quoted in docs/ledger.md), so `swift test` stays a test run.
struct ThroughputTests {
    @Test(.enabled(if: benchmarksEnabled, "a benchmark: CASHIER_BATCH_BENCH=1 runs it"))
    func staging100kRows() async throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.path("bench.sqlite"))
        let run = try ledger.beginRun(command: "bench")
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: sha("bench"), path: "bench.csv", format: .csv), runID: run)
        let rows = (0..<100_000).map { i -> StagedRow in
            let customer = "cus_\(i)"
            let payload = #"{"websiteId":"web_1","customerId":"\#(customer)","currency":"USD","balance":"1234.56","bonusBalance":"0","pendingPayoutTotal":"80.00","depositLimits":{"minimum":"10.00","maximum":"500.00"},"deposit":{"amounts":["10.00","20.00"]}}"#
            return StagedRow(line: i + 2, rowKey: Ledger.rowKey(websiteID: "web_1", customerID: customer, currency: "USD"),
                             websiteID: "web_1", customerID: customer, currency: "USD",
                             payloadJSON: payload, sourceJSON: payload, state: .pending, reasonsJSON: nil)
        }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let clock = ContinuousClock()
            let start = clock.now
            try body()
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let staging = try seconds { () throws in
            #expect(try ledger.stageRows(batchID: batch.id, rows: rows) == 100_000)
        }
        print("ledger staging: 100000 rows in \(String(format: "%.3f", staging)) s = \(Int(100_000 / staging)) rows/s")

        let again = try seconds { () throws in
            #expect(try ledger.stageRows(batchID: batch.id, rows: rows) == 0)
        }
        print("ledger re-staging (all conflicts): \(Int(100_000 / again)) rows/s")

        // Per-call durability cost: one intent + one outcome from one caller awaiting each, so every
        // write is its own synchronous=FULL commit (a group of one).
        let sample = try ledger.rows(batchID: batch.id, states: nil, afterID: 0, limit: 1_000)
        let writer = ledger.writer()
        let start = ContinuousClock.now
        for row in sample {
            let a = try await writer.recordIntent(rowID: row.id, runID: run, operation: .createCashier)
            try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "c",
                                           outcome: .succeeded, then: .cashierCreated(cashierID: "c"))
        }
        let durable = elapsedSeconds(since: start)
        await writer.shutdown()
        #expect(writer.statistics.transactions == 2_000)
        print("ledger intent+outcome pairs (2 commits each, synchronous=FULL): \(Int(1_000 / durable)) pairs/s")
        #expect(try ledger.countsByState(batchID: batch.id)[.cashierCreated] == 1_000)
    }
}

/// `CASHIER_BATCH_BENCH=1` turns the ledger's throughput measurements on.
let benchmarksEnabled = ProcessInfo.processInfo.environment["CASHIER_BATCH_BENCH"] == "1"
