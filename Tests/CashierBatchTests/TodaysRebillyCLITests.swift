import AsyncHTTPClient
import CashierModel
import Foundation
@testable import Ledger
import NIOCore
import Sandbox
import Testing

/// Today's Rebilly, over sockets against the sandbox: the job sends no cashier figures (they are
/// Rebilly's, read-only), reads Rebilly's back with canWithdraw, tells a cashier's first night from
/// drift, never adopts another client's deposit request, and names a customer Rebilly lacks.
@Suite(.serialized) struct TodaysRebillyCLITests {
    static func env(_ sandbox: RunningSandbox) -> [String: String] { ["REBILLY_API_KEY": sandbox.apiKey] }

    static func reportJSON(_ dir: TempDir) throws -> JSONValue {
        try JSONParser.parse(String(contentsOfFile: dir.path("reports/report.json"), encoding: .utf8))
    }

    /// report.json's `attention.openingDifferences` holding one website and currency: its opening
    /// cashiers, their differences and the sums (Rebilly − batch) of balance, bonusBalance, pendingPayoutTotal.
    static func openingSums(_ website: String, _ currency: String, cashiers: Int, differences: Int, _ sums: [String]) -> JSONValue {
        .array([.object([JSONMember("websiteId", .string(website)), JSONMember("currency", .string(currency)),
                         JSONMember("cashiers", .number("\(cashiers)")), JSONMember("differences", .number("\(differences)"))]
                        + zip(["balance", "bonusBalance", "pendingPayoutTotal"], sums).map { JSONMember($0, .string($1)) })])
    }

    /// Moves a cashier's figures on Rebilly's side (the sandbox's figures endpoint).
    static func setFigures(_ sandbox: RunningSandbox, cashier: String, _ body: String) async throws {
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/cashiers/\(cashier)/figures")
        request.method = .POST
        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else { throw CLIError(message: "figures: HTTP \(response.status.code)") }
    }

    static func sandboxState(_ sandbox: RunningSandbox) async throws -> JSONValue {
        var request = HTTPClientRequest(url: sandbox.baseURL + "/_sandbox/cashiers")
        request.headers.add(name: "REB-APIKEY", value: sandbox.apiKey)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return try JSONParser.parse(Array(try await response.body.collect(upTo: 64 << 20).readableBytesView))
    }

    /// Preload lines (JSON Lines) for cashiers created yesterday that hold exactly the figures of
    /// the rows of these CSV batches (an empty cell: none), a cashier's first row winning, leaving
    /// out the customers in `except`. A create sets no figures: a cashier a night should find in
    /// agreement with its batch must already hold them at Rebilly.
    static func established(_ batches: [String], except: Set<String> = []) throws -> String {
        let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))
        var lines: [String] = []
        var seen = Set<[String]>()
        for path in batches {
            let records = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            guard let header = records.first else { continue }
            for cells in records.dropFirst() where cells.count == header.count {
                let row = Dictionary(zip(header, cells), uniquingKeysWith: { first, _ in first })
                let key = ["customerId", "websiteId", "currency"].map { row[$0] ?? "" }
                guard !except.contains(key[0]), seen.insert(key).inserted else { continue }
                var members = zip(["customerId", "websiteId", "currency"], key).map { #""\#($0)":"\#($1)""# }
                for figure in ["balance", "bonusBalance", "pendingPayoutTotal"] {
                    if let value = row[figure], !value.isEmpty { members.append(#""\#(figure)":\#(value)"#) }
                }
                members.append(#""createdTime":"\#(yesterday)""#)
                lines.append("{" + members.joined(separator: ",") + "}")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Today's sandbox holding `preload` and the cashiers of `batches` as ``established(_:except:)`` gives them.
    static func sandbox(preload: String = "", holding batches: [String], except: Set<String> = []) async throws -> RunningSandbox {
        var config = SandboxConfiguration()
        config.preload = try PreloadedCashier.load(jsonLines: preload + "\n" + established(batches, except: except))
        return try await SandboxServer.start(config)
    }

    @Test func aFirstNightSendsNoFiguresAndItsDifferencesAreOpening() async throws {
        let dir = try TempDir()
        var strict = SandboxConfiguration()
        strict.readonlyFields = .reject  // a create carrying balance, bonusBalance or pendingPayoutTotal answers 422
        let sandbox = try await SandboxServer.start(strict)
        let batch = try writeBatch(dir, count: 5)
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        let state = try await Self.sandboxState(sandbox)
        await sandbox.stop()

        #expect(run.status == 0, "opening differences are not a reason for exit 4: \(run.stderr)")
        #expect(stats["requests"]?["PostCashier"] == .object([JSONMember("201", .number("5"))]), "no create answered 422: no figures were sent")
        let held = state["cashiers"]?.arrayValue?.map { c in ["balance", "bonusBalance", "pendingPayoutTotal"].map { c[$0]?.numberText ?? "-" } }
        #expect(held == Array(repeating: ["0", "0", "0"], count: 5), "the creates set no figures: \(String(describing: held))")
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let figures = try ledger.remoteFigures(runID: 1)
        #expect(figures.count == 5 && figures.allSatisfy { $0.figures.canWithdraw == false }, "\(figures.map(\.figures.canWithdraw))")

        let report = try Self.reportJSON(dir)
        // Every row's balance (i.25) and pendingPayoutTotal (1.50) against Rebilly's zeros: counted
        // and summed per website and currency, not a break each (0.25 + 1.25 + … + 4.25 = 11.25).
        let sums = Self.openingSums("web_1", "USD", cashiers: 5, differences: 10, ["-11.25", "0.00", "-7.50"])
        #expect(report["breaks"] == .array([]))
        #expect(report["attention"]?["openingDifferences"] == sums, "\(String(describing: report["attention"]))")
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        #expect(summary.contains("Opening: 10 differences on 5 new cashiers"), "\(summary)")
        #expect(summary.contains("- web\\_1 USD: 10 differences on 5 cashiers · balance -11.25 · bonusBalance 0.00 · pendingPayoutTotal -7.50\n"), "\(summary)")
        let html = try String(contentsOfFile: dir.path("reports/report.html"), encoding: .utf8)
        #expect(html.contains("<h3>Opening differences (10)</h3><p class=muted>On 5 cashiers created this night:") && !html.contains("· opening"))
        // The ledger holds no break for them, and the totals count them.
        let recorded = try #require(try ledger.reconciliation(runID: 1))
        #expect(try ledger.breaks(runID: 1).isEmpty && recorded.counts.openingBreaks == 10 && recorded.counts.cannotWithdraw == 5)
        #expect(recorded.totals.map { t in [t.openingCashiers] + t.figures.map(\.openingDifferences) } == [[5, 5, 0, 5]])

        // The same run's report written again from the ledger says the same.
        let again = try await runCLI(["report", "--db", dir.path("ledger.sqlite"), "--run", "1", "--out", dir.path("again")])
        #expect(again.status == 0, "\(again.stderr)")
        let rewritten = try JSONParser.parse(String(contentsOfFile: dir.path("again/report.json"), encoding: .utf8))
        #expect(rewritten["breaks"] == .array([]) && rewritten["attention"]?["openingDifferences"] == sums)

        // A Rebilly that drops read-only figures instead of refusing them changes nothing: the job
        // sends none, so the creates pass and the night's differences are every new cashier's opening ones.
        var ignoring = SandboxConfiguration()
        ignoring.readonlyFields = .ignore
        let lenient = try await SandboxServer.start(ignoring)
        let dir2 = try TempDir()
        let batch2 = try writeBatch(dir2, count: 3)
        let quiet = try await runCLI(runArgs(lenient, dir2, [batch2]), environment: Self.env(lenient))
        let lenientStats = try await sandboxStats(lenient)
        await lenient.stop()
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(lenientStats["requests"]?["PostCashier"] == .object([JSONMember("201", .number("3"))]))
        let opening = try Self.reportJSON(dir2)
        #expect(opening["breaks"] == .array([]))
        #expect(opening["attention"]?["openingDifferences"] == Self.openingSums("web_1", "USD", cashiers: 3, differences: 6, ["-3.75", "0.00", "-4.50"]))
    }

    @Test func driftOnAnEstablishedCashierBreaksUntilRebillysFiguresAgree() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))
        config.preload = try PreloadedCashier.load(jsonLines: """
            {"id":"cashier_held0","customerId":"cus_0","websiteId":"web_1","currency":"USD","balance":0.25,"pendingPayoutTotal":1.50,"createdTime":"\(yesterday)"}
            {"id":"cashier_held1","customerId":"cus_1","websiteId":"web_1","currency":"USD","balance":5.00,"pendingPayoutTotal":1.50,"canWithdraw":false,"createdTime":"\(yesterday)"}
            """)
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 3)  // cus_2 is new tonight
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: Self.env(sandbox))
        #expect(run.status == 4, "\(run.stderr)")
        let breaks = try Self.reportJSON(dir)["breaks"]?.arrayValue ?? []
        #expect(breaks.count == 1, "the drift only: \(breaks)")
        let cus2 = Self.openingSums("web_1", "USD", cashiers: 1, differences: 2, ["-2.25", "0.00", "-1.50"])
        #expect(try Self.reportJSON(dir)["attention"]?["openingDifferences"] == cus2)
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        #expect(summary.contains("Breaks (as recorded on ") && summary.contains("): 1 open (1 new, 0 persisting), 0 resolved"), "\(summary)")
        #expect(summary.contains("Opening: 2 differences on 1 new cashier "), "\(summary)")
        let drift = try #require(breaks.first { $0["opening"] == .bool(false) })
        #expect(drift["customerId"] == .string("cus_1") && drift["field"] == .string("balance") && drift["expected"] == .string("1.25")
            && drift["actual"] == .string("5.00") && drift["difference"] == .string("3.75"))
        #expect(drift["opening"] == .bool(false) && drift["canWithdraw"] == .bool(false))

        // The day's activity on Rebilly's side brings cus_1 to what the operator says.
        try await Self.setFigures(sandbox, cashier: "cashier_held1", #"{"balance":1.25}"#)
        let reconcile = try await runCLI(["reconcile", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                          "--report-dir", dir.path("reports")], environment: Self.env(sandbox))
        await sandbox.stop()
        #expect(reconcile.status == 0, "\(reconcile.stderr)")
        // reconcile re-judges run 1 and its breaks replace the run's: only cus_2's opening differences are left.
        let after = try Self.reportJSON(dir)
        #expect(after["breaks"] == .array([]) && after["attention"]?["openingDifferences"] == cus2, "\(after)")
    }

    /// Another client (the operator's site) makes deposit requests for the same customers during
    /// the night, half of them identical in every field to the job's, while a third of the job's
    /// deposit POSTs lose their answer. No other client's request is adopted, the job makes no
    /// second request for any row, and a row it cannot tell apart waits for review.
    @Test func foreignDepositRequestsAreNeverAdoptedAndNothingIsSentTwice() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.foreignDepositRate = 0.5
        config.dropRate = 0.3
        config.faultOperations = ["PostDepositRequest"]
        config.seed = 2026
        let sandbox = try await SandboxServer.start(config)
        let rows = 80
        let batch = try writeBatch(dir, count: rows)
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--in-doubt-settle", "0.3"]), environment: Self.env(sandbox))
        let stats = try await sandboxStats(sandbox)
        let state = try await Self.sandboxState(sandbox)
        await sandbox.stop()

        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let counts = try ledger.countsByState(batchID: 1)
        let review = counts[.needsReview, default: 0]
        #expect(counts[.done, default: 0] + review == rows, "\(counts)")
        #expect(run.status == (review > 0 ? 3 : 0), "\(run.stderr.suffix(1500))")
        #expect(stats["depositRequests"] == .number(String(rows)), "one request of the job's per row, none twice")
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        #expect((stats["foreignDepositRequests"]?.numberText.flatMap { Int($0) } ?? 0) > 0)

        let requests = state["depositRequests"]?.arrayValue ?? []
        let foreignIDs = Set(requests.filter { $0["foreign"] == .bool(true) }.compactMap { $0["id"]?.stringValue })
        let rowsNow = try ledger.rows(batchID: 1)
        for row in rowsNow where row.state == .done {
            let id = try #require(row.depositRequestID)
            #expect(!foreignIDs.contains(id), "row \(row.id) adopted another client's request \(id)")
        }
        // A row waits for review only when another client's request matches every field of its own.
        for row in rowsNow where row.state == .needsReview {
            let mine = requests.filter { $0["customerId"]?.stringValue == row.customerID }
            let own = try #require(mine.first { $0["foreign"] == .bool(false) })
            #expect(mine.contains { $0["foreign"] == .bool(true) && $0["expirationTime"] == own["expirationTime"] && $0["amounts"] == own["amounts"] },
                    "row \(row.id): \(mine)")
        }
    }

    @Test func aCustomerRebillyDoesNotHoldIsRejectedSayingSo() async throws {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.requiredCustomers = ["cus_0", "cus_1", "cus_3"]
        let sandbox = try await SandboxServer.start(config)
        let batch = try writeBatch(dir, count: 4)
        let run = try await runCLI(runArgs(sandbox, dir, [batch]), environment: Self.env(sandbox))
        await sandbox.stop()
        #expect(run.status == 3, "\(run.stderr)")
        let counts = try Ledger(path: dir.path("ledger.sqlite"), access: .read).countsByState(batchID: 1)
        #expect(counts[.done] == 3 && counts[.rejected] == 1, "\(counts)")
        let rejects = try String(contentsOfFile: dir.path("reports/rejects.csv"), encoding: .utf8)
        // A row Rebilly refused was valid: its cells are its request, money at the currency's exponent.
        #expect(rejects.contains("web_1,cus_2,USD,2.25,1.50,10.00;20.00,customerId: customer cus_2 does not exist in Rebilly (create it first),1"),
                "\(rejects)")
    }
}
