import AsyncHTTPClient
import CashierModel
import Foundation
import Gateway
import GRDB
import Ledger
import NIOCore
import Sandbox
import Testing

/// `reconcile` lists a night's deposit requests per website over the night's createdTime
/// window, 1,000 a page, instead of once per customer, and finds exactly what the per-customer
/// listing finds: the same matched, missing, duplicated and foreign counts and the same breaks.
@Suite(.serialized) struct BulkReconcileCLITests {
    /// A deposit request another client makes (the sandbox-only endpoint), at `createdTime`.
    func seed(_ sandbox: RunningSandbox, website: String, customer: String, createdTime: Date,
              members: String) async throws -> String {
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/deposit-requests")
        request.method = .POST
        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        request.headers.add(name: "Content-Type", value: "application/json")
        let stamp = createdTime.formatted(Date.ISO8601FormatStyle())
        request.body = .bytes(ByteBuffer(string: #"{"websiteId":"\#(website)","customerId":"\#(customer)","currency":"USD",\#(members),"createdTime":"\#(stamp)"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let json = try JSONParser.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        guard response.status.code == 201, let id = json["id"]?.stringValue else { throw CLIError(message: "seeding failed: \(json)") }
        return id
    }

    static func count(_ stats: JSONValue, _ operation: String) -> Int {
        stats["requests"]?[operation]?["200"]?.numberText.flatMap(Int.init) ?? 0
    }

    /// What a reconciliation found: its log line, its deposit note in report.json, the deposit breaks
    /// it recorded, and the GETs it made.
    struct Found: Equatable {
        var line: String
        var note: String
        var breaks: [String]
        var listCalls: Int
        var cashierCalls: Int
    }

    func reconcile(_ sandbox: RunningSandbox, _ dir: TempDir, listing: String) async throws -> (Int32, Found) {
        let before = try await sandboxStats(sandbox)
        let result = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "100000/s",
                                       "--deposit-listing", listing, "--report-dir", dir.path("reports-" + listing)],
                                      environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let after = try await sandboxStats(sandbox)
        let line = result.stderr.split(separator: "\n").first { $0.contains("reconciled run=") }.map(String.init) ?? "none: \(result.stderr)"
        // report.json's reconciliationNotes: one string per note.
        let json = (try? String(contentsOfFile: dir.path("reports-" + listing) + "/report.json", encoding: .utf8)) ?? ""
        let note = json.components(separatedBy: "\"Deposit requests: ").dropFirst().first?.components(separatedBy: "\"").first ?? "none"
        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        // The deposit breaks (the cashiers' figures are this night's opening ones on 2026-07).
        let breaks = try ledger.breaks(runID: 1).filter { $0.field.isDepositRequest }.map { "\($0.websiteID) \($0.customerID) \($0.field.rawValue) \($0.lifecycle.rawValue) \($0.detail ?? "-")" }.sorted()
        // The line's time stamp is not the reconciliation's finding.
        let finding = line.components(separatedBy: "reconciled ").last ?? line
        return (result.status, Found(line: finding, note: note, breaks: breaks,
                                     listCalls: Self.count(after, "GetDepositRequestCollection") - Self.count(before, "GetDepositRequestCollection"),
                                     cashierCalls: Self.count(after, "GetCashier") - Self.count(before, "GetCashier")))
    }

    /// 2,500 rows over two websites (1,300 and 1,200), one customer each. After the night: another
    /// client's request inside one row's window (foreign), one for an upper-case spelling of a
    /// customer and website (another customer: listed by the case-blind filter, never the row's,
    /// not counted), one an
    /// hour before the night (outside every window), a job-made second request (a lost POST and
    /// a resend: duplicated) and a row whose recorded id is not the one Rebilly lists (missing).
    @Test func aNightOfTwoWebsitesIsListedInFourGETsWithTheSameFindingsAsPerCustomer() async throws {
        let dir = try TempDir()
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        var text = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
        for i in 0..<2_500 { text += "\(i < 1_300 ? "web_1" : "web_2"),cus_\(i),USD,\(i).25,1.50,10;20\n" }
        let batch = try dir.write("night.csv", text)
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let run = try await runCLI(["run", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "100000/s",
                                    "--concurrency", "16", "--report-dir", dir.path("reports"), batch], environment: env)
        #expect(run.status == 0, "\(run.stderr)")

        let ledger = try Ledger(path: dir.path("ledger.sqlite"))
        let rows = try ledger.rows(batchID: 1)
        #expect(rows.count == 2_500 && rows.allSatisfy { $0.state == .done })
        func row(_ customer: String) throws -> RowRecord { try #require(rows.first { $0.customerID == customer }) }
        func firstPost(_ customer: String) throws -> Date {
            try #require(try ledger.attempts(rowID: try row(customer).id).first { $0.operation == .createDepositRequest }?.requestedAt)
        }
        _ = try await seed(sandbox, website: "web_1", customer: "cus_5", createdTime: try firstPost("cus_5"), members: #""amounts":[50]"#)
        _ = try await seed(sandbox, website: "WEB_1", customer: "CUS_7", createdTime: try firstPost("cus_7"), members: #""amounts":[10,20]"#)
        _ = try await seed(sandbox, website: "web_1", customer: "cus_9", createdTime: try firstPost("cus_9").addingTimeInterval(-3_600),
                           members: #""amounts":[10,20]"#)
        // cus_1301 (web_2): a resend after a lost answer, recorded as the run would have, with its expiry.
        let dup = try row("cus_1301")
        let sentAt = DepositOwnership.sendTime(Date())
        let queue = try DatabaseQueue(path: dir.path("ledger.sqlite"))
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO attempt_log (row_id, run_id, operation, requested_ms, outcome)
                SELECT ?, 1, o.code, ?, u.code FROM attempt_operations o, attempt_outcomes u
                WHERE o.name = 'create_deposit_request' AND u.name = 'lost'
                """, arguments: [dup.id, Int64((sentAt.timeIntervalSince1970 * 1000).rounded())])
            try db.execute(sql: "UPDATE rows SET deposit_request_id = 'dep_req_not_listed' WHERE customer_id = 'cus_11'")
        }
        try queue.close()
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: dup.id))
        let resent = try await seed(sandbox, website: "web_2", customer: "cus_1301", createdTime: sentAt,
                                    members: #""amounts":[10,20],"expirationTime":"\#(expiry)""#)

        let (bulkStatus, bulk) = try await reconcile(sandbox, dir, listing: "bulk")
        let (perStatus, perCustomer) = try await reconcile(sandbox, dir, listing: "per-customer")
        await sandbox.stop()

        // web_1 lists 1,302 requests (its 1,300 and the two foreign ones): 2 pages; web_2 1,201: 2 pages.
        #expect(bulk.listCalls == 4)
        #expect(perCustomer.listCalls == 2_500)
        #expect(bulk.cashierCalls == 2_500 && perCustomer.cashierCalls == 2_500)
        #expect(bulkStatus == 4 && perStatus == 4, "open breaks: \(bulk.line)")
        #expect(bulk.line.contains("depositMissing=1 depositDuplicated=1 depositForeign=1"), "\(bulk.line)")
        #expect(bulk.note == "2500 rows checked, 2498 exactly one, 1 missing, 1 duplicated.", "\(bulk.note)")
        #expect(bulk.breaks.count == 2, "\(bulk.breaks)")
        #expect(bulk.breaks.contains { $0.hasPrefix("web_2 cus_1301 depositRequestDuplicate new") && $0.contains(resent) }, "\(bulk.breaks)")
        #expect(bulk.breaks.contains { $0.hasPrefix("web_1 cus_11 depositRequestMissing new expected deposit request dep_req_not_listed, Rebilly lists dep_req_") },
                "\(bulk.breaks)")
        #expect(bulk.line == perCustomer.line)
        #expect(bulk.note == perCustomer.note)
        #expect(bulk.breaks == perCustomer.breaks)
    }
}
