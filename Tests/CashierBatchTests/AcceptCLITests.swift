import CashierModel
import Foundation
import GRDB
import Sandbox
import Testing

/// A night with 3 established cashiers that drifted and 60 new ones, over sockets against the
/// sandbox: the reports and the log lead with the 3 breaks (opening differences summed per website
/// and currency), `report --run` of a reconcile run shows what it found, `accept` takes each drift
/// break with a reason so that the next `reconcile` exits 0, and a figure that moves reopens it.
@Suite(.serialized) struct AcceptCLITests {
    typealias Night = PruneKeepsBreaksCLITests.Nights

    /// The night: 3 drifted established cashiers (USD balance +20.00, JPY pendingPayoutTotal +300,
    /// EUR bonusBalance -2.50) and 60 new ones (30 USD on web_1, 30 EUR on web_2).
    static func night() async throws -> (Night, CLIResult) {
        let dir = try TempDir()
        let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400))
        var config = SandboxConfiguration()
        config.preload = try PreloadedCashier.load(jsonLines: """
            {"id":"cashier_old1","customerId":"cus_old1","websiteId":"web_1","currency":"USD","balance":120.00,"createdTime":"\(yesterday)"}
            {"id":"cashier_old2","customerId":"cus_old2","websiteId":"web_1","currency":"JPY","balance":5000,"pendingPayoutTotal":300,"createdTime":"\(yesterday)"}
            {"id":"cashier_old3","customerId":"cus_old3","websiteId":"web_2","currency":"EUR","balance":10.00,"bonusBalance":5.00,"createdTime":"\(yesterday)"}
            """)
        let sandbox = try await SandboxServer.start(config)
        var csv = "websiteId,customerId,currency,balance,bonusBalance,pendingPayoutTotal,deposit.amounts\n"
        csv += "web_1,cus_old1,USD,100.00,,,10\nweb_1,cus_old2,JPY,5000,,0,1000\nweb_2,cus_old3,EUR,10.00,7.50,,10\n"
        for i in 1...30 { csv += "web_1,cus_new\(i),USD,\(i).50,,1.00,10\n" }
        for i in 1...30 { csv += "web_2,cus_neweur\(i),EUR,\(i).00,,,10\n" }
        let batch = try dir.write("night.csv", csv)
        let n = Night(dir: dir, sandbox: sandbox)
        return (n, try await runCLI(runArgs(sandbox, dir, [batch]), environment: n.env))
    }

    static let driftLines = [
        "- **HIGH** cus\\_old2 · web\\_1 · JPY · pendingPayoutTotal · difference +300 (batch 0, Rebilly 300) · new · id 1",
        "- cus\\_old3 · web\\_2 · EUR · bonusBalance · difference -2.50 (batch 7.50, Rebilly 5.00) · new · id 2",
        "- cus\\_old1 · web\\_1 · USD · balance · difference +20.00 (batch 100.00, Rebilly 120.00) · new · id 3",
    ]

    static func lines(_ stderr: String, _ marker: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains(marker) }
            .map { String($0.drop { $0 != " " }.dropFirst()) }  // without the timestamp
    }

    @Test func theNightLeadsWithItsThreeDriftsAndAcceptedOnesPassUntilTheyMove() async throws {
        let (n, run) = try await Self.night()
        do { try await Self.check(n, run) } catch {
            await n.sandbox.stop()
            throw error
        }
        await n.sandbox.stop()
    }

    static func check(_ n: Night, _ run: CLIResult) async throws {
        #expect(run.status == 4, "\(run.stderr)")

        // summary.md: the three drifts within its first 25 lines, high priority first, then per
        // currency the largest difference first; the opening ones as one line per website and currency.
        let summary = try String(contentsOfFile: n.dir.path("reports/summary.md"), encoding: .utf8)
        let first25 = summary.split(separator: "\n", omittingEmptySubsequences: false).prefix(25).map(String.init)
        #expect(first25[4] == "**Needs a person: 3 breaks** (high priority first, then per currency the largest difference first)", "\(summary)")
        #expect(Array(first25[5...7]) == Self.driftLines, "\(summary)")
        #expect(summary.contains("""
            Opening: 90 differences on 60 new cashiers (their first night: Rebilly holds no history for them yet), apart from drift
            - web\\_1 USD: 60 differences on 30 cashiers · balance -480.00 · bonusBalance 0.00 · pendingPayoutTotal -30.00
            - web\\_2 EUR: 30 differences on 30 cashiers · balance -465.00 · bonusBalance 0.00 · pendingPayoutTotal 0.00
            """), "\(summary)")

        // The log: one WARNING line per drift break, one line per website and currency for the opening ones.
        let runBreaks = Self.lines(run.stderr, " break ")
        #expect(runBreaks == [
            "WARNING break lifecycle=new priority=high websiteId=web_1 customerId=cus_old2 currency=JPY field=pendingPayoutTotal expected=0 actual=300 difference=300 firstSeenRun=1 nightsOpen=0 id=1",
            "WARNING break lifecycle=new priority=normal websiteId=web_2 customerId=cus_old3 currency=EUR field=bonusBalance expected=7.50 actual=5.00 difference=-2.50 firstSeenRun=1 nightsOpen=0 id=2",
            "WARNING break lifecycle=new priority=normal websiteId=web_1 customerId=cus_old1 currency=USD field=balance expected=100.00 actual=120.00 difference=20.00 firstSeenRun=1 nightsOpen=0 id=3",
        ], "\(run.stderr)")
        #expect(Self.lines(run.stderr, "opening differences") == [
            "INFO opening differences websiteId=web_1 currency=USD cashiers=30 differences=60 balance=-480.00 bonusBalance=0.00 pendingPayoutTotal=-30.00",
            "INFO opening differences websiteId=web_2 currency=EUR cashiers=30 differences=30 balance=-465.00 bonusBalance=0.00 pendingPayoutTotal=0.00",
        ], "\(run.stderr)")

        // report.json: every break carries its ledger id; the three lead, in the same order.
        let json = try JSONParser.parse(String(contentsOfFile: n.dir.path("reports/report.json"), encoding: .utf8))
        let breaks = json["breaks"]?.arrayValue ?? []
        #expect(breaks.count == 3 && breaks.allSatisfy { $0["id"]?.numberText != nil }, "\(breaks.count)")
        #expect(Night.attention(json) == ["1", "2", "3"])
        #expect(breaks.prefix(3).map { $0["customerId"]?.stringValue ?? "" } == ["cus_old2", "cus_old3", "cus_old1"])
        let html = try String(contentsOfFile: n.dir.path("reports/report.html"), encoding: .utf8)
        #expect(html.contains("<h2>Needs a person</h2>") && html.contains("<h3>Opening differences (90)</h3>") && html.contains("<details><summary>Per website and currency (2)</summary>"))
        #expect(html.range(of: "<h2>Needs a person</h2>")!.lowerBound < html.range(of: "<h2>Run</h2>")!.lowerBound)

        // reconcile (run 2) logs the same three, and its own report says what it found.
        let first = try await n.reconcile()
        #expect(first.status == 4, "\(first.stderr)")
        #expect(Self.lines(first.stderr, " break ").count == 3 && Self.lines(first.stderr, "opening differences").count == 2, "\(first.stderr)")
        let two = try await n.report(run: 2, out: "run2")
        #expect(two.summary.hasPrefix("⚠️ **cashier-batch run 2** (reconcile) — exit 4, "), "\(two.summary)")
        #expect(two.summary.contains("63 done, 0 skipped, 0 rejected, 0 failed, 0 in doubt of 63 read; 3 open breaks \\(1 high priority: pendingPayoutTotal\\)."), "\(two.summary)")
        #expect(two.summary.contains("vs the previous reconciliation: no change\nFound: open breaks 3, high priority 1, new 3, opening 90, compared cashiers 63\n"), "\(two.summary)")
        let ids2 = Night.attention(two.json)
        #expect(ids2.count == 3 && two.json["reconciliation"]?["reconciledRunId"] == .number("1")
            && two.json["reconciliation"]?["previousMadeByRunId"] == .number("1"), "\(two.json)")
        #expect((two.json["breaks"]?.arrayValue ?? []).prefix(3).map { $0["customerId"]?.stringValue ?? "" } == ["cus_old2", "cus_old3", "cus_old1"])

        // Refusals: usage 64, one line each.
        let noReason = try await n.accept(["--break", ids2[0]])
        #expect(noReason.status == 64 && noReason.stderr.contains("Error: --reason TEXT is required: say why the difference is known"), "\(noReason.stderr)")
        // Opening differences are counted and summed, not breaks: none has an id to accept.
        #expect((two.json["breaks"]?.arrayValue ?? []).allSatisfy { $0["opening"] == .bool(false) })
        // reconcile replaced run 1's breaks: the ids of the run's first report are gone.
        let old = try await n.accept(["--break", "1", "--reason", "x"])
        #expect(old.status == 64 && old.stderr == "error: there is no break 1 in this ledger: take the id from report.json (`id`) or summary.md\n", "\(old.stderr)")

        // Each drift break accepted with a reason; the next reconcile exits 0 and lists them apart.
        let a1 = try await n.accept(["--break", ids2[0], "--reason", "pending payout booked on the platform only, FIN-12", "--by", "alice"])
        #expect(a1.status == 0, "\(a1.stderr)")
        #expect(a1.stdout == "break \(ids2[0]) (web_1 cus_old2 JPY pendingPayoutTotal) accepted as acceptance 1 by alice for a difference of 300: "
            + "from the next reconciliation on, it is listed as accepted and fails the night no more while the difference stays 300\n")
        let again = try await n.accept(["--break", ids2[0], "--reason", "twice"])
        #expect(again.status == 64 && again.stderr.contains("is accepted already (acceptance 1 by alice on "), "\(again.stderr)")
        let rest = try await n.accept(["--run", "1", "--all", "--reason", "imported balances, agreed with finance"])
        #expect(rest.status == 0, "\(rest.stderr)")
        let me = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        #expect(rest.stdout.hasSuffix("run 1: 2 breaks accepted; 1 accepted already\n") && rest.stdout.contains("accepted as acceptance 2 by \(me) for a difference of -2.50"), "\(rest.stdout)")
        #expect(try n.table("SELECT customer_id, field, difference_minor, accepted_by, reason, ended_how FROM acceptances ORDER BY id") == [
            ["cus_old2", "pendingPayoutTotal", "300", "alice", "pending payout booked on the platform only, FIN-12", "NULL"],
            ["cus_old3", "bonusBalance", "-250", me, "imported balances, agreed with finance", "NULL"],
            ["cus_old1", "balance", "2000", me, "imported balances, agreed with finance", "NULL"],
        ])

        let clean = try await n.reconcile()
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(Self.lines(clean.stderr, " break ").isEmpty, "\(clean.stderr)")
        #expect(Self.lines(clean.stderr, "accepted differences").count == 3, "\(clean.stderr)")
        let three = try await n.report(run: 3, out: "run3")
        #expect(three.summary.contains("vs the previous reconciliation: open breaks 3 → 0, high priority 1 → 0, new 3 → 0, accepted 0 → 3\n"), "\(three.summary)")
        #expect(three.summary.contains("Accepted differences (known and agreed; no reason for exit 4 while the difference stays the same): 3\n- cus\\_old2 · web\\_1 · JPY · pendingPayoutTotal · difference +300 (batch 0, Rebilly 300) · new · accepted by alice on "),
                "\(three.summary)")
        let accepted = (three.json["breaks"]?.arrayValue ?? []).filter { $0["accepted"] != nil }
        #expect(accepted.map { $0["accepted"]?["reason"]?.stringValue ?? "" } == [
            "pending payout booked on the platform only, FIN-12", "imported balances, agreed with finance", "imported balances, agreed with finance",
        ])
        #expect(three.json["verdict"]?["exitCode"] == .number("0"), "\(three.json["verdict"] ?? .null)")

        // Rebilly's figure moves: the acceptance ends and the break is open again, saying what was accepted.
        try await TodaysRebillyCLITests.setFigures(n.sandbox, cashier: "cashier_old1", #"{"balance":125.00}"#)
        let moved = try await n.reconcile()
        #expect(moved.status == 4, "\(moved.stderr)")
        let reopened = Self.lines(moved.stderr, " break ")
        #expect(reopened.count == 1 && reopened[0].hasPrefix("WARNING break lifecycle=new priority=normal websiteId=web_1 customerId=cus_old1 currency=USD field=balance expected=100.00 actual=125.00 difference=25.00 firstSeenRun=1 nightsOpen=0 id="), "\(moved.stderr)")
        #expect(reopened.first?.contains("detail=\"accepted by \(me) on ") == true
            && reopened.first?.hasSuffix("for a difference of 20.00 (imported balances, agreed with finance); the difference is now 25.00, so it is open again\"") == true, "\(reopened)")
        #expect(try n.table("SELECT id, ended_how, ended_by, ended_run_id FROM acceptances WHERE ended_at IS NOT NULL") == [["3", "changed", "reconciliation", "4"]])

        // Revoked (by its acceptance id, which outlives the break ids): the JPY difference fails the night again.
        let revoke = try await n.accept(["--revoke", "1", "--by", "bob"])
        #expect(revoke.status == 0 && revoke.stdout == "acceptance 1 of break \(ids2[0]) (web_1 cus_old2 JPY pendingPayoutTotal) revoked by bob: from the next reconciliation on, its difference fails the night again\n",
                "\(revoke.stdout) \(revoke.stderr)")
        let none = try await n.accept(["--revoke", "1"])
        #expect(none.status == 64 && none.stderr.hasPrefix("error: acceptance 1 ended already (revoked on "), "\(none.stderr)")
        let unknown = try await n.accept(["--revoke", "9"])
        #expect(unknown.status == 64 && unknown.stderr == "error: there is no acceptance 9 in this ledger: take the id `accept` printed, or `acceptanceId` in report.json\n", "\(unknown.stderr)")
        let afterRevoke = try await n.reconcile()
        #expect(afterRevoke.status == 4 && Self.lines(afterRevoke.stderr, " break ").count == 2, "\(afterRevoke.stderr)")
        #expect(try n.table("SELECT id, ended_how, ended_by FROM acceptances WHERE ended_at IS NOT NULL ORDER BY id") == [["1", "revoked", "bob"], ["3", "changed", "reconciliation"]])

        // Run 2's reconciliation was replaced since: its report keeps its own counts and says by whom.
        let replaced = try await n.report(run: 2, out: "run2-later")
        #expect(replaced.json["reconciliation"]?["replacedByRunId"] == .number("5") && replaced.json["breaks"]?.arrayValue?.isEmpty == true, "\(replaced.json)")
        #expect(replaced.summary.contains("its breaks were replaced by run 5's reconciliation"), "\(replaced.summary)")
        #expect(replaced.summary.contains("Found: open breaks 3, high priority 1, new 3, opening 90, compared cashiers 63\n"), "\(replaced.summary)")
    }
}

extension PruneKeepsBreaksCLITests.Nights {
    func accept(_ arguments: [String]) async throws -> CLIResult {
        try await runCLI(["accept", "--db", ledger] + arguments)
    }

    /// `report --run` into `out`: its summary.md and report.json.
    func report(run: Int, out: String) async throws -> (summary: String, json: JSONValue) {
        let result = try await runCLI(["report", "--db", ledger, "--run", String(run), "--out", dir.path(out)])
        guard result.status == 0 else { throw CLIError(message: "report --run \(run): \(result.status) \(result.stderr)") }
        return (try String(contentsOfFile: dir.path(out + "/summary.md"), encoding: .utf8),
                try JSONParser.parse(String(contentsOfFile: dir.path(out + "/report.json"), encoding: .utf8)))
    }

    /// Every row `sql` returns, each value as text ("NULL" for NULL).
    func table(_ sql: String) throws -> [[String]] {
        let queue = try DatabaseQueue(path: ledger)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { $0.isNull ? "NULL" : "\($0.storage.value ?? "")" } }
        }
    }

    /// The break ids of `json` that need a person, in the order shown.
    static func attention(_ json: JSONValue) -> [String] {
        json["attention"]?["breakIds"]?.arrayValue?.compactMap(\.numberText) ?? []
    }
}
