import AsyncHTTPClient
import CashierModel
import Foundation
import GRDB
import Ledger
import NIOCore
import Sandbox
import Testing

/// `reconcile` after `run`: the read-back confirms the break (still "new": it replaces the run's own
/// breaks), exits 4 and writes the run's reports again to `--report-dir` with it.
@Suite(.serialized) struct ReconcileCLITests {
    @Test func reconcileReadsBackExitsFourAndRewritesTheReports() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.preload = try PreloadedCashier.load(jsonLines: """
            {"customerId":"cus_1","websiteId":"web_1","currency":"USD","balance":99.00,"pendingPayoutTotal":1.50}
            """)
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 4)  // cus_1's balance in the batch is 1.25
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        let again = dir.path("again")
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"),
                                          "--report-dir", again], environment: env)
        await sandbox.stop()

        #expect(run.status == 4, "\(run.stderr)")
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("reconciled run=1 cashiers=4 readBack=4 readBackFailures=0 unread=0 newBreaks=1 persistingBreaks=0"),
                "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0"), "\(reconcile.stderr)")
        let summary = try String(contentsOfFile: again + "/summary.md", encoding: .utf8)
        #expect(summary.contains("1 open break"), "\(summary)")
        let json = try String(contentsOfFile: again + "/report.json", encoding: .utf8)
        #expect(json.contains("\"customerId\":\"cus_1\"") && json.contains("\"expected\":\"1.25\"") && json.contains("\"actual\":\"99.00\""),
                "\(json.prefix(2000))")
        for name in ["report.html", "report.json", "summary.md", "rejects.csv", "metrics.prom"] {
            #expect(FileManager.default.fileExists(atPath: again + "/" + name), "\(name)")
        }
    }
}

/// Read-backs that keep failing: the cashiers not read are neither matched nor broken, they are
/// counted and listed, and `reconcile` exits 69 instead of calling the night clean.
@Suite(.serialized) struct ReconcileUnreadCLITests {
    @Test func cashiersThatCouldNotBeReadBackAreListedAndExitSixtyNine() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.failRate = 0.6
        config.seed = 7
        config.faultOperations = ["GetCashier"]
        let sandbox = try await SandboxServer.start(config)
        let rows = 60
        let batch = try writeBatch(dir, count: rows)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        let again = dir.path("again")
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"),
                                          "--rate", "1000/s", "--report-dir", again], environment: env)
        await sandbox.stop()
        #expect(reconcile.status == 69, "\(reconcile.stderr)")
        let unreadLines = reconcile.stderr.split(separator: "\n").filter { $0.contains("WARNING not read back: neither matched nor broken") }
        #expect(!unreadLines.isEmpty && unreadLines.count < rows, "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("unread=\(unreadLines.count) "), "\(reconcile.stderr)")
        #expect(reconcile.stderr.contains("\(unreadLines.count) of \(rows) cashiers could not be read back, so the night is not reconciled"))
        #expect(reconcile.stderr.contains("newBreaks=0"), "an unread cashier is not a break")
        let summary = try String(contentsOfFile: again + "/summary.md", encoding: .utf8)
        #expect(!summary.contains("Clean run"), "\(summary)")
        #expect(summary.contains("\(unreadLines.count) cashier\(unreadLines.count == 1 ? "" : "s") could not be read back, so neither matched nor broken"), "\(summary)")
        let json = try String(contentsOfFile: again + "/report.json", encoding: .utf8)
        #expect(json.contains(#""unreadCashiers":[{"websiteId":"web_1","customerId":"cus_"#), "\(json.prefix(3000))")
        #expect(json.contains(#""level":"failure""#))
    }
}

/// Creates a deposit request as another client of the organization would (the operator's own
/// site), at `createdTime`.
func seedForeignDepositRequest(_ sandbox: RunningSandbox, customer: String, currency: String = "USD",
                               createdTime: Date, members: String = #""amounts":[10,20]"#) async throws -> String {
    var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/deposit-requests")
    request.method = .POST
    request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
    request.headers.add(name: "Content-Type", value: "application/json")
    let stamp = createdTime.formatted(Date.ISO8601FormatStyle())
    request.body = .bytes(ByteBuffer(string: #"{"websiteId":"web_1","customerId":"\#(customer)","currency":"\#(currency)",\#(members),"createdTime":"\#(stamp)"}"#))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    let json = try JSONParser.parse(Array(body.readableBytesView))
    guard response.status.code == 201, let id = json["id"]?.stringValue else { throw CLIError(message: "seeding failed: \(json)") }
    return id
}

/// The one deposit-ownership rule through all three paths that apply it: `run` (a deposit POST
/// left in doubt is checked by listing), `retry` (an in-doubt row of an interrupted run is
/// checked before anything is sent) and `reconcile` (the deposit check). Each case puts one
/// deposit request of another client next to the row's window (the operator's site making its
/// own for the same customer); none may be adopted, and none is a duplicate.
@Suite struct DepositOwnershipCLITests {
    static let cases = OwnershipCLICase.table

    /// A batch of one row, cus_1 USD, with the sandbox failing every deposit POST (5xx, nothing
    /// created) for the run and retry paths.
    func setUp(failingDeposits: Bool) async throws -> (TempDir, RunningSandbox, String) {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        if failingDeposits {
            config.failRate = 1
            config.faultOperations = ["PostDepositRequest"]
        }
        let sandbox = try await SandboxServer.start(config)
        let batch = try dir.write("b.csv", "websiteId,customerId,currency,balance,deposit.amounts\nweb_1,cus_1,USD,1.00,10;20\n")
        return (dir, sandbox, batch)
    }

    func row(_ dir: TempDir) throws -> RowRecord {
        try #require(try Ledger(path: dir.path("ledger.sqlite")).rows(batchID: 1).first)
    }

    /// What the row became: needs_review naming the near miss, or failed (the foreign one ignored).
    func expectRow(_ dir: TempDir, _ c: OwnershipCLICase, foreign: String, status: Int32, stderr: String) throws {
        let row = try row(dir)
        #expect(row.depositRequestID == nil, "\(c): never adopted")
        if c.review {
            #expect(status == 3, "\(c): \(stderr)")
            #expect(row.state == .needsReview, "\(c)")
            #expect(row.reasonsJSON.contains("\(foreign) (expirationTime differs)"), "\(c): \(row.reasonsJSON)")
        } else {
            #expect(row.state == .failed, "\(c): \(stderr)")
        }
    }

    @Test(arguments: cases)
    func run(_ c: OwnershipCLICase) async throws {
        let (dir, sandbox, batch) = try await setUp(failingDeposits: true)
        let foreign = try await seedForeignDepositRequest(sandbox, customer: "cus_1", currency: c.currency,
                                                          createdTime: Date().addingTimeInterval(c.offset), members: c.members)
        let result = try await runCLI(runArgs(sandbox, dir, [batch, "--max-attempts", "2", "--in-doubt-settle", "0.3"]),
                                      environment: ["REBILLY_API_KEY": sandbox.apiKey])
        await sandbox.stop()
        try expectRow(dir, c, foreign: foreign, status: result.status, stderr: result.stderr)
    }

    @Test(arguments: cases)
    func retry(_ c: OwnershipCLICase) async throws {
        let (dir, sandbox, batch) = try await setUp(failingDeposits: true)
        let foreign = try await seedForeignDepositRequest(sandbox, customer: "cus_1", currency: c.currency,
                                                          createdTime: Date().addingTimeInterval(c.offset), members: c.members)
        // The run's deposit POST fails, the row waits to settle, and SIGTERM ends the run: in doubt.
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        var args = runArgs(sandbox, dir, [batch])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = "30"
        let process = try startCLI(args, environment: env)
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(20))
            // A plain SQLite read: a Ledger open could meet the file mid-creation and upgrade it itself.
            if (try? rowState(dir.path("ledger.sqlite"))) == RowState.inDoubt.rawValue { break }
        }
        kill(process.processIdentifier, SIGTERM)
        await waitForExit(process)
        #expect(process.terminationStatus == 143)
        #expect(try row(dir).state == .inDoubt, "\(c)")
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--in-doubt-settle", "0", "--max-attempts", "2", "--report-dir", dir.path("reports")], environment: env)
        await sandbox.stop()
        try expectRow(dir, c, foreign: foreign, status: retry.status, stderr: retry.stderr)
    }

    @Test(arguments: cases)
    func reconcile(_ c: OwnershipCLICase) async throws {
        let (dir, sandbox, batch) = try await setUp(failingDeposits: false)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let start = Date()
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        _ = try await seedForeignDepositRequest(sandbox, customer: "cus_1", currency: c.currency,
                                                createdTime: start.addingTimeInterval(c.offset), members: c.members)
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--report-dir", dir.path("reports")], environment: env)
        await sandbox.stop()
        #expect(reconcile.status == 0, "\(c): \(reconcile.stderr)")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0 depositForeign=\(c.inWindow ? 1 : 0)"),
                "\(c): \(reconcile.stderr)")
    }
}

/// Another client's deposit request for the row's customer, as the sandbox can hold it.
struct OwnershipCLICase: Sendable, CustomStringConvertible {
    var name: String
    var currency = "USD"
    /// Seconds from the run's launch. The row's window opens 15 minutes (the clock tolerance) before
    /// its first deposit POST. 1 s is never 2 s or more: Rebilly's default expiry (createdTime + 1 h)
    /// would then equal, to the second, the job's own (POST + 1 h + 2 s for row 1) whenever the POST
    /// came 2 s after the seed, and the foreign request would match the row in every field.
    var offset: TimeInterval
    /// The request's members besides customer, website and currency.
    var members: String
    /// It differs from the row's request in one field only (its expirationTime): needs review.
    var review: Bool
    /// Inside the row's window: reconciliation counts it as foreign.
    var inWindow: Bool
    var description: String { name }

    static let table: [OwnershipCLICase] = [
        OwnershipCLICase(name: "the row's amounts, Rebilly's default expiry", offset: 1, members: #""amounts":[10,20]"#,
                         review: true, inWindow: true),
        OwnershipCLICase(name: "other amounts, no expirationTime", offset: 1, members: #""amounts":[50]"#, review: false, inWindow: true),
        OwnershipCLICase(name: "the row's amounts, another currency", currency: "EUR", offset: 1, members: #""amounts":[10,20]"#,
                         review: false, inWindow: true),
        OwnershipCLICase(name: "the row's amounts, twenty minutes before the first POST", offset: -1_200, members: #""amounts":[10,20]"#,
                         review: false, inWindow: false),
    ]
}

/// `reconcile` talks through the same gateway as `run`: its options are honoured and a flaky
/// API slows it down without stalling it.
@Suite(.serialized) struct ReconcileGatewayCLITests {
    func night(_ config: SandboxConfiguration, rows: Int) async throws -> (TempDir, RunningSandbox) {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: rows)
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: ["REBILLY_API_KEY": sandbox.apiKey])
        #expect(run.status == 0, "\(run.stderr)")
        return (dir, sandbox)
    }

    @Test func maxAttemptsIsHonoured() async throws {
        var config = SandboxConfiguration()
        config.failRate = 1
        config.faultOperations = ["GetCashier"]
        let (dir, sandbox) = try await night(config, rows: 5)
        let before = try await sandboxStats(sandbox)["requestsTotal"]?.numberText.flatMap(Int.init) ?? 0
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--max-attempts", "2", "--report-dir", dir.path("reports")], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let after = try await sandboxStats(sandbox)["requestsTotal"]?.numberText.flatMap(Int.init) ?? 0
        await sandbox.stop()
        #expect(reconcile.status == 69, "\(reconcile.stderr)")
        // 2 attempts of GET /cashiers/{id} for each of 5 cashiers, then one deposit list for the website.
        #expect(after - before == 5 * 2 + 1, "\(after - before) requests")
        #expect(reconcile.stderr.contains("unread=5"))
    }

    /// 40 % of the read-backs answer 500/502/503. The old reconciler's limiter fell to 1/16 of
    /// the rate and crawled (107 GETs in 5 minutes for 60 cashiers); the gateway keeps a floor.
    @Test func aFlakyAPISlowsReconcileDownWithoutStallingIt() async throws {
        var config = SandboxConfiguration()
        config.failRate = 0.4
        config.seed = 11
        config.faultOperations = ["GetCashier"]
        let (dir, sandbox) = try await night(config, rows: 60)
        let start = ContinuousClock.now
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "20/s",
                                          "--report-dir", dir.path("reports")], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let elapsed = start.duration(to: .now)
        await sandbox.stop()
        #expect([0, 69].contains(reconcile.status), "\(reconcile.stderr)")
        // 60 + retries (~40) + 1 list ≈ 100 requests: 5 s at 20/s; a quarter of it (the floor) would be 20 s.
        #expect(elapsed < .seconds(30), "\(elapsed)")
        let unread = reconcile.stderr.split(separator: "\n").filter { $0.contains("not read back") }.count
        #expect(unread <= 2, "0.4^6 per cashier: \(unread)")
    }
}

/// The first row's state, read with plain SQLite (nil while the ledger has no rows table yet).
func rowState(_ path: String) throws -> String? {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    defer { try? queue.close() }
    return try queue.read { try String.fetchOne($0, sql: "SELECT state FROM rows ORDER BY id LIMIT 1") }
}
