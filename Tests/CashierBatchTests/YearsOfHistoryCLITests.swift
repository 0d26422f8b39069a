import AsyncHTTPClient
import CashierModel
import Foundation
import Gateway
import GRDB
@testable import Ledger
import NIOCore
import Sandbox
import Testing

/// Exactly once against a Rebilly that real operators have, over sockets: customers with years
/// of deposit requests, clocks that disagree, ids that differ only in case, a Rebilly that sorts
/// only by its `x-sortable` members, and a signal during an in-doubt wait.
@Suite(.serialized) struct YearsOfHistoryCLITests {
    static func env(_ sandbox: RunningSandbox) -> [String: String] { ["REBILLY_API_KEY": sandbox.apiKey] }

    /// `count` cashiers that existed yesterday, with the figures `writeBatch` gives its rows.
    static func established(_ count: Int, prefix: String = "cus_") throws -> [PreloadedCashier] {
        let yesterday = RFC3339.string(Date().addingTimeInterval(-86_400))
        return try PreloadedCashier.load(jsonLines: (0..<count).map { i in
            #"{"customerId":"\#(prefix)\#(i)","websiteId":"web_1","currency":"USD","balance":\#(i).25,"pendingPayoutTotal":1.50,"createdTime":"\#(yesterday)"}"#
        }.joined(separator: "\n"))
    }

    /// A sandbox whose deposit POSTs lose their answer (committed) or answer 5xx (not committed).
    static func faultyDeposits(drop: Double, fail: Double = 0, seed: UInt64) -> SandboxConfiguration {
        var config = SandboxConfiguration()
        config.dropRate = drop
        config.failRate = fail
        config.faultOperations = ["PostDepositRequest"]
        config.seed = seed
        return config
    }

    static func state(_ sandbox: RunningSandbox) async throws -> JSONValue {
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/cashiers")
        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return try JSONParser.parse(Array(try await response.body.collect(upTo: 256 << 20).readableBytesView))
    }

    static func int(_ value: JSONValue?) -> Int { value?.numberText.flatMap { Int($0) } ?? -1 }

    /// The job's own deposit requests (not another client's, not the history), by id: their customer.
    static func jobsRequests(_ state: JSONValue) -> [String: String] {
        var owners: [String: String] = [:]
        for request in state["depositRequests"]?.arrayValue ?? [] where request["foreign"] != .bool(true) {
            if let id = request["id"]?.stringValue, let customer = request["customerId"]?.stringValue { owners[id] = customer }
        }
        return owners
    }

    /// Every row done, each holding a request of the job's made for its own customer (exact id),
    /// and no request held twice.
    static func expectEveryRowDoneWithItsOwn(_ dir: TempDir, _ state: JSONValue, rows: Int) throws {
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let all = try ledger.rows(batchID: 1)
        #expect(all.count == rows)
        let owners = jobsRequests(state)
        var held = Set<String>()
        for row in all {
            #expect(row.state == .done, "row \(row.id) \(row.customerID ?? "?"): \(row.state) \(row.reasonsJSON)")
            guard let id = row.depositRequestID else { continue }
            #expect(owners[id] == row.customerID, "row \(row.id) (\(row.customerID ?? "?")) holds \(id) of \(owners[id] ?? "another client")")
            #expect(held.insert(id).inserted, "\(id) is held by two rows")
        }
    }

    /// 40 established customers with 1,100 earlier deposit requests each, and 40 % of the job's
    /// deposit POSTs committed but unanswered: each row's window is listed, not the customer's
    /// history, so every lost answer is found and adopted. Nothing is sent twice, a retry has
    /// nothing to do, and both reconcile listings find exactly one request per row.
    @Test func lostAnswersAmongYearsOfHistoryAreNeverSentTwice() async throws {
        let dir = try TempDir()
        var config = Self.faultyDeposits(drop: 0.4, seed: 24)
        config.preload = try Self.established(40)
        config.history = 1_100
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 40)
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--in-doubt-settle", "0.3"]), environment: Self.env(sandbox))
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--in-doubt-settle", "0.3", "--report-dir", dir.path("reports")], environment: Self.env(sandbox))
        var reconciled: [CLIResult] = []
        for listing in ["per-customer", "bulk"] {
            reconciled.append(try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                                "--deposit-listing", listing, "--report-dir", dir.path("reports")], environment: Self.env(sandbox)))
        }
        let stats = try await sandboxStats(sandbox)
        let state = try await Self.state(sandbox)
        await sandbox.stop()

        #expect(run.status == 0, "\(run.stderr.suffix(2_000))")
        #expect(retry.status == 0, "\(retry.stderr.suffix(2_000))")
        #expect(Self.int(stats["historyDepositRequests"]) == 44_000)
        #expect(Self.int(stats["faults"]?["drop"]) >= 10, "answers were lost: \(stats["faults"] ?? .null)")
        #expect(stats["depositRequests"] == .number("40"), "one request of the job's per row, none twice")
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        try Self.expectEveryRowDoneWithItsOwn(dir, state, rows: 40)
        for result in reconciled {
            #expect(result.status == 0, "\(result.stderr.suffix(2_000))")
            #expect(result.stderr.contains("depositMissing=0 depositDuplicated=0 depositForeign=0"), "\(result.stderr.suffix(2_000))")
        }
    }

    /// A proxy whose `Date` header is 10 minutes off, and a Rebilly whose clock is (its createdTime
    /// and its `Date`), either way, with 30 % of deposit answers lost: 0 duplicates.
    @Test(arguments: [("Date header", 600.0), ("Date header", -600.0), ("server clock", 600.0), ("server clock", -600.0)])
    func clocksThatDisagreeSendNothingTwice(_ skew: (what: String, seconds: Double)) async throws {
        let dir = try TempDir()
        var config = Self.faultyDeposits(drop: 0.3, seed: 30)
        if skew.what == "Date header" { config.dateHeaderOffsetSeconds = skew.seconds } else { config.clockOffsetSeconds = skew.seconds }
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 30)
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--in-doubt-settle", "0.3"]), environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        let state = try await Self.state(sandbox)
        await sandbox.stop()
        #expect(run.status == 0, "\(skew): \(run.stderr.suffix(2_000))")
        #expect(Self.int(stats["faults"]?["drop"]) >= 3, "\(skew): answers were lost")
        #expect(stats["depositRequests"] == .number("30"), "\(skew): one request per row")
        #expect(stats["duplicateDepositRequests"] == .number("0"), "\(skew)")
        try Self.expectEveryRowDoneWithItsOwn(dir, state, rows: 30)
    }

    /// 40 pairs of customers whose ids differ only in case (`cus_case000`, `CUS_CASE000`), with the
    /// same terms and the batch's own expirationTime, so only the id tells their requests apart;
    /// some deposit POSTs answer 5xx, some lose their answer. Rebilly's filter ignores case; the
    /// ownership rule does not: every row holds its own customer's request.
    @Test func idsThatDifferOnlyInCaseEachHoldTheirOwn() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(Self.faultyDeposits(drop: 0.3, fail: 0.2, seed: 80))
        let expiry = RFC3339.string(Date().addingTimeInterval(2 * 86_400).addingTimeInterval(-Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)))
        var text = "websiteId,customerId,currency,balance,deposit.amounts,deposit.expirationTime\n"
        for i in 0..<40 {
            let id = String(format: "cus_case%03d", i)
            text += "web_1,\(id),USD,1.00,10;20,\(expiry)\nweb_1,\(id.uppercased()),USD,1.00,10;20,\(expiry)\n"
        }
        let batch = try dir.write("pairs.csv", text)
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--in-doubt-settle", "0.3"]), environment: Self.env(sandbox))
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--report-dir", dir.path("reports")], environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        let state = try await Self.state(sandbox)
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr.suffix(2_000))")
        #expect(Self.int(stats["faults"]?["fail"]) > 0 && Self.int(stats["faults"]?["drop"]) > 0)
        #expect(stats["depositRequests"] == .number("80"))
        try Self.expectEveryRowDoneWithItsOwn(dir, state, rows: 80)
        #expect(reconcile.status == 0, "\(reconcile.stderr.suffix(2_000))")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0"), "\(reconcile.stderr.suffix(2_000))")
    }

    /// Rebilly sorts deposit requests by its `x-sortable` members only (the sandbox answers 422 to
    /// `sort=createdTime,id`, the `id` member not being sortable): a 2,500-row night's reconcile pages by createdTime and completes.
    @Test func reconcileOfA2500RowNightSortsOnlyBySortableMembers() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try writeBatch(dir, count: 2_500)
        let run = try await runCLI(["run", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "600/s",
                                    "--report-dir", dir.path("reports"), batch], environment: Self.env(sandbox))
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "100000/s",
                                          "--report-dir", dir.path("reports")], environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(run.status == 0, "\(run.stderr.suffix(2_000))")
        #expect(reconcile.status == 0, "\(reconcile.stderr.suffix(2_000))")
        #expect(reconcile.stderr.contains("depositMissing=0 depositDuplicated=0 depositForeign=0"), "\(reconcile.stderr.suffix(2_000))")
        #expect(stats["requests"]?["GetDepositRequestCollection"]?["422"] == nil, "no listing was refused: \(stats["requests"] ?? .null)")
        #expect(Self.int(stats["requests"]?["GetDepositRequestCollection"]?["200"]) >= 3, "2,500 requests take three pages or more")
    }

    /// SIGTERM while the night waits 60 s for an unanswered deposit POST to settle: the command
    /// ends within 5 s, the row stays in doubt for `retry`, and the reports are written.
    @Test func aSignalEndsASettleWaitWithinFiveSeconds() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(Self.faultyDeposits(drop: 1, seed: 1))
        let batch = try writeBatch(dir, count: 1)
        var args = runArgs(sandbox, dir, [batch])
        args[args.firstIndex(of: "--in-doubt-settle")! + 1] = "60"
        let log = dir.path("run.log")
        let process = try startCLI(args, environment: Self.env(sandbox), stderrTo: log)
        var waiting = false
        for _ in 0..<500 {
            try await Task.sleep(for: .milliseconds(20))
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("waiting") { waiting = true; break }
        }
        let start = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        await waitForExit(process)
        let elapsed = start.duration(to: .now)
        await sandbox.stop()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(waiting, "the run said it waits for the row to settle: \(text)")
        #expect(process.terminationStatus == 143, "\(text)")
        #expect(elapsed < .seconds(5), "\(elapsed)")
        #expect(try rowState(dir.path("ledger.sqlite")) == RowState.inDoubt.rawValue)
        #expect(FileManager.default.fileExists(atPath: dir.path("reports/summary.md")), "\(text)")
    }

    /// Rebilly has one API: there is no option, job-file key or variable to choose another.
    @Test func thereIsNoAPIVersionToChoose() async throws {
        let dir = try TempDir()
        let batch = try writeBatch(dir, count: 1)
        let option = try await runCLI(["run", "--api-version", "2025-08", "--db", dir.path("ledger.sqlite"), batch])
        #expect(option.status == 64 && option.stderr.contains("Unknown option '--api-version'"), "\(option.stderr)")
        let job = try dir.write("job.yaml", "api-version: 2025-08\n")
        let fromFile = try await runCLI(["run", "--job", job, "--db", dir.path("ledger.sqlite"), batch])
        #expect(fromFile.status == 64 && fromFile.stderr.contains("api-version"), "\(fromFile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("ledger.sqlite")))
    }

    /// A deposit request the job sent twice (a lost POST and a blind resend, written into the
    /// ledger as an older job would have left it): `reconcile` finds it, exits 4, and every
    /// report's headline says so instead of "Clean run".
    @Test func aDuplicateFoundByReconcileLeadsTheReports() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let batch = try dir.write("b.csv", "websiteId,customerId,currency,balance,deposit.amounts\nweb_1,cus_dup,USD,1.00,10;20\n")
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: Self.env(sandbox))
        #expect(run.status == 0, "\(run.stderr)")
        let sentAt = DepositOwnership.sendTime(Date())
        let queue = try DatabaseQueue(path: dir.path("ledger.sqlite"))
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO attempt_log (row_id, run_id, operation, requested_ms, outcome)
                SELECT 1, 1, o.code, ?, u.code FROM attempt_operations o, attempt_outcomes u
                WHERE o.name = 'create_deposit_request' AND u.name = 'lost'
                """, arguments: [Int64((sentAt.timeIntervalSince1970 * 1000).rounded())])
        }
        try queue.close()
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: 1))
        var post = HTTPClientRequest(url: sandbox.baseURL + "/deposit-requests")
        post.method = .POST
        post.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        post.headers.add(name: "Content-Type", value: "application/json")
        post.body = .bytes(ByteBuffer(string: #"{"websiteId":"web_1","customerId":"cus_dup","currency":"USD","amounts":[10,20],"expirationTime":"\#(expiry)"}"#))
        let created = try await HTTPClient.shared.execute(post, timeout: .seconds(10))
        _ = try await created.body.collect(upTo: 1 << 20)
        #expect(created.status.code == 201)
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--report-dir", dir.path("reports")], environment: Self.env(sandbox))
        await sandbox.stop()
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        let firstLine = summary.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("❌ **cashier-batch run 1** (run) — exit 4,"), "\(summary)")
        #expect(summary.contains("Reconciliation found deposit requests that need a person: 1 customer holds more than one deposit request for one row \\(sent twice\\); every row sent or already done; 1 done"),
                "\(summary)")
        #expect(!summary.contains("Clean run"), "\(summary)")
        let json = try JSONParser.parse(String(contentsOfFile: dir.path("reports/report.json"), encoding: .utf8))
        #expect(json["verdict"]?["level"] == .string("failure"))
        #expect(json["verdict"]?["exitCode"] == .number("4"))
        #expect(json["verdict"]?["text"]?.stringValue?.hasPrefix("Reconciliation found deposit requests that need a person") == true)
        let html = try String(contentsOfFile: dir.path("reports/report.html"), encoding: .utf8)
        #expect(html.contains("<td>4 (the run exited 0; reconciliation found breaks after it)</td>"))
        #expect(html.contains("Reconciliation found deposit requests that need a person"))
    }
}
