import BatchRun
import Foundation
import GRDB
import Testing

/// Every command against every failure class that can reach it, each exit code checked against
/// README's "Exit codes" table: 64 for a number that is not one, 66 for a missing ledger, 74 for a
/// file that is not a ledger and for a ledger whose contents break its own schema (naming the
/// table), 75 while another run holds the lock. Nothing here reaches an API: each failure comes first.
@Suite(.serialized) struct ExitTableCLITests {
    /// A loopback port with nothing listening: a command that got as far as sending would fail
    /// with 69, not with the code expected.
    static let api = ["--api-url", "http://127.0.0.1:9"]
    static let key = ["REBILLY_API_KEY": "exit-table-key"]

    /// The command lines to try on `db`, by command.
    static func commands(db: String, batch: String, reports: String) -> [(name: String, args: [String])] {
        [
            ("run", ["run", "--db", db, "--report-dir", reports] + api + [batch]),
            ("retry", ["retry", "--db", db, "--report-dir", reports] + api),
            ("reconcile", ["reconcile", "--db", db, "--report-dir", reports] + api),
            ("runs", ["runs", "--db", db]),
            ("report", ["report", "--db", db, "--out", reports]),
            ("resolve", ["resolve", "--db", db, "--run", "1", "--row", "1", "--resend"]),
            ("prune", ["prune", "--db", db, "--keep-days", "1"]),
            ("validate", ["validate", "--db", db, batch]),
        ]
    }

    /// A ledger of one dry run (no API): run 1, one row.
    static func ledger(_ dir: TempDir) async throws -> (db: String, batch: String) {
        let batch = try writeBatch(dir, count: 1)
        let made = try await runCLI(["run", "--dry-run", "--db", dir.path("l.sqlite"), "--report-dir", dir.path("dry"), batch])
        #expect(made.status == 0, "\(made.stderr)")
        return (dir.path("l.sqlite"), batch)
    }

    @Test func aNumberThatIsNotOneIsAUsageError() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 1)
        let db = dir.path("l.sqlite")
        let cases: [([String], [String: String])] = [
            (["run", "--in-doubt-settle", "nan", "--db", db] + Self.api + [batch], Self.key),
            (["run", "--in-doubt-settle", "inf", "--db", db] + Self.api + [batch], Self.key),
            (["retry", "--in-doubt-settle", "-nan", "--db", db] + Self.api, Self.key),
            (["run", "--timeout", "nan", "--db", db] + Self.api + [batch], Self.key),
            (["reconcile", "--timeout", "inf", "--db", db] + Self.api, Self.key),
            (["run", "--db", db] + Self.api + [batch], Self.key.merging(["CASHIER_BATCH_IN_DOUBT_SETTLE": "nan"]) { $1 }),
            (["sandbox", "--fail-rate", "nan"], [:]),
            (["sandbox", "--clock-offset", "inf"], [:]),
        ]
        for (args, env) in cases {
            let result = try await runCLI(args, environment: env)
            #expect(result.status == 64, "\(args) \(env): \(result.status) \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db), "nothing was created")
    }

    @Test func noLedgerWhereOneMustBe() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 1)
        let expected = ["retry": 64, "reconcile": 66, "runs": 66, "report": 66, "resolve": 66, "prune": 66]
        for (name, args) in Self.commands(db: dir.path("none.sqlite"), batch: batch, reports: dir.path("r")) {
            guard let code = expected[name] else { continue }
            let result = try await runCLI(args, environment: Self.key)
            #expect(result.status == Int32(code), "\(name): \(result.status) \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("none.sqlite")))
    }

    @Test func aFileThatIsNotALedger() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 1)
        let db = try dir.write("notes.txt", "not a ledger\n")
        for (name, args) in Self.commands(db: db, batch: batch, reports: dir.path("r")) {
            let result = try await runCLI(args, environment: Self.key)
            #expect(result.status == 74, "\(name): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("\(db) is not a cashier-batch ledger"), "\(name): \(result.stderr)")
        }
        #expect(try String(contentsOfFile: db, encoding: .utf8) == "not a ledger\n")
    }

    /// A ledger edited by hand past its CHECK constraints (`ignore_check_constraints`): every
    /// command that writes checks the whole file first, and every one that only reads fails on
    /// the value it reads; each exits 74 naming the table, none crashes or exits 1. (`runs` lists
    /// runs and row states only: a batch's format is not its business.)
    @Test(arguments: [
        ("runs", "UPDATE runs SET status = 'bogus'", [String]()),
        ("batches", "UPDATE batches SET format = 'xml'", ["runs"]),
        ("rows", "UPDATE rows SET state = 'bogus'", []),
    ])
    func aLedgerThatBreaksItsOwnSchema(_ edit: (table: String, sql: String, unread: [String])) async throws {
        let dir = try TempDir()
        let (db, batch) = try await Self.ledger(dir)
        let queue = try DatabaseQueue(path: db)
        try await queue.write { try $0.execute(sql: "PRAGMA ignore_check_constraints = 1; " + edit.sql) }
        try queue.close()
        for (name, args) in Self.commands(db: db, batch: batch, reports: dir.path("r")) where !edit.unread.contains(name) {
            let result = try await runCLI(args, environment: Self.key)
            #expect(result.status == 74, "\(edit.sql) / \(name): \(result.status) \(result.stderr.suffix(600))")
            #expect(result.stderr.contains("holds a value its schema does not allow in table \(edit.table)"), "\(edit.sql) / \(name): \(result.stderr.suffix(600))")
        }
    }

    /// A time that is not one (no constraint forbids the text): the commands that read it exit 74
    /// naming the table; before, GRDB's decoding trapped (exit 132).
    @Test func aTimestampThatIsNotOne() async throws {
        let dir = try TempDir()
        let (db, _) = try await Self.ledger(dir)
        let queue = try DatabaseQueue(path: db)
        try await queue.write { try $0.execute(sql: "UPDATE runs SET started_at = 'yesterday'") }
        try queue.close()
        for args in [["runs", "--db", db], ["report", "--db", db, "--out", dir.path("r")]] {
            let result = try await runCLI(args)
            #expect(result.status == 74, "\(args): \(result.status) \(result.stderr.suffix(600))")
            #expect(result.stderr.contains("holds a value its schema does not allow in table runs (could not decode Date from database value \"yesterday\")"),
                    "\(result.stderr.suffix(600))")
        }
    }

    @Test func anotherRunHoldsTheLock() async throws {
        let dir = try TempDir()
        let (db, batch) = try await Self.ledger(dir)
        let lock = try RunLock(ledgerPath: db)
        defer { lock.release() }
        let expected = ["run": 75, "retry": 75, "reconcile": 75, "resolve": 75, "prune": 75, "runs": 0, "report": 0]
        for (name, args) in Self.commands(db: db, batch: batch, reports: dir.path("r")) {
            guard let code = expected[name] else { continue }
            let result = try await runCLI(args, environment: Self.key)
            #expect(result.status == Int32(code), "\(name): \(result.status) \(result.stderr)")
        }
    }

    /// A file name carrying a terminal escape is printed escaped, on stdout and stderr alike.
    @Test func untrustedTextIsPrintedEscaped() async throws {
        let dir = try TempDir()
        let name = dir.path("evil\u{1B}[2Jname.csv")
        try Data("websiteId,customerId,currency\nweb_1,cus_1,USD\n".utf8).write(to: URL(fileURLWithPath: name))
        let valid = try await runCLI(["validate", name])
        let missing = try await runCLI(["validate", dir.path("gone\u{1B}]0;title\u{07}.csv")])
        #expect(valid.status == 0 && missing.status == 66)
        for text in [valid.stdout, valid.stderr, missing.stdout, missing.stderr] {
            #expect(!text.contains("\u{1B}") && !text.contains("\u{07}"), "\(text.debugDescription)")
        }
        #expect(valid.stdout.contains("evil\\u{1B}[2Jname.csv (csv): 1 rows read"), "\(valid.stdout)")
        #expect(missing.stderr.contains("gone\\u{1B}]0;title\\u{7}.csv"), "\(missing.stderr)")
    }
}
