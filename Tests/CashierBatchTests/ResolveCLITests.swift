import AsyncHTTPClient
import CashierModel
import Foundation
import Gateway
@testable import Ledger
import NIOCore
import Sandbox
import Testing

/// A row whose deposit request cannot be told apart from another client's enters
/// `needs_review`: it shows in every report, nothing is sent for it, and `resolve` closes it.
@Suite(.serialized) struct ResolveCLITests {
    /// One row, every deposit POST failing, and the operator's site's request for the same
    /// customer with the row's amounts (a near miss: only its expirationTime differs).
    func nightNeedingReview() async throws -> (TempDir, RunningSandbox, foreign: String) {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.failRate = 1
        config.faultOperations = ["PostDepositRequest"]
        let sandbox = try await SandboxServer.start(config)
        let batch = try dir.write("b.csv", "websiteId,customerId,currency,balance,deposit.amounts\nweb_1,cus_1,USD,1.00,10;20\n")
        let foreign = try await seedForeignDepositRequest(sandbox, customer: "cus_1", createdTime: Date().addingTimeInterval(1))
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--max-attempts", "2", "--in-doubt-settle", "0.3"]),
                                   environment: ["REBILLY_API_KEY": sandbox.apiKey])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("run finished run=1 exitCode=3 done=0 invalid=0 rejected=0 failed=0 inDoubt=0 needsReview=1 notTaken=0"),
                "\(run.stderr)")
        #expect(!run.stderr.contains("accounting does not close"), "\(run.stderr)")
        return (dir, sandbox, foreign)
    }

    func resolve(_ dir: TempDir, _ extra: [String]) async throws -> CLIResult {
        try await runCLI(["resolve", "--db", dir.path("ledger.sqlite")] + extra)
    }

    @Test func everyReportShowsTheRowAndNothingIsSentForIt() async throws {
        let (dir, sandbox, foreign) = try await nightNeedingReview()
        let stats = try await sandboxStats(sandbox)
        // A retry sends nothing for the row: it is not open.
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--report-dir", dir.path("reports")], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let after = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(retry.status == 3, "\(retry.stderr)")
        #expect(after["requestsTotal"] == stats["requestsTotal"], "nothing sent")
        let summary = try String(contentsOfFile: dir.path("reports/summary.md"), encoding: .utf8)
        #expect(summary.contains("· needs review 1"), "\(summary)")
        #expect(summary.contains("Finished with rows that need review"), "\(summary)")
        #expect(summary.contains("- row 1 (\(dir.path("b.csv")) line 2, cus\\_1): a deposit request differs from what the job sent in one field: \(foreign.replacingOccurrences(of: "_", with: "\\_")) \\(expirationTime differs\\)"),
                "\(summary)")
        #expect(summary.contains("`cashier-batch resolve --run 2 --row ROW --adopt ID | --resend`"), "\(summary)")
        let json = try String(contentsOfFile: dir.path("reports/report.json"), encoding: .utf8)
        #expect(json.contains(#""needsReview":1"#) && json.contains(#""rowId":1"#), "\(json)")
        let html = try String(contentsOfFile: dir.path("reports/report.html"), encoding: .utf8)
        #expect(html.contains("<h2>Needs review (1)</h2>"))
        let prom = try String(contentsOfFile: dir.path("reports/metrics.prom"), encoding: .utf8)
        #expect(prom.contains(#"cashier_batch_rows{state="needs_review"} 1"#), "\(prom)")
        let rejects = try String(contentsOfFile: dir.path("reports/rejects.csv"), encoding: .utf8)
        #expect(!rejects.contains("cus_1"), "a needs_review row is never fed back as a new batch")
    }

    @Test func adoptClosesTheRowWithTheNamedRequest() async throws {
        let (dir, sandbox, foreign) = try await nightNeedingReview()
        await sandbox.stop()
        let adopted = try await resolve(dir, ["--run", "1", "--row", "1", "--adopt", foreign])
        #expect(adopted.status == 0, "\(adopted.stderr)")
        #expect(adopted.stdout == "row 1 of run 1 is done with deposit request \(foreign), recorded as resolution 1\n")
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        let row = try #require(try ledger.row(id: 1))
        #expect(row.state == .done && row.depositRequestID == foreign && row.reasonsJSON == "[]")
        #expect(try ledger.resolutions(rowID: 1).map(\.action) == [.adopt])
        // Once closed, there is nothing left to resolve.
        let again = try await resolve(dir, ["--run", "1", "--row", "1", "--resend"])
        #expect(again.status == 64)
        #expect(again.stderr == "error: row 1 is done, not needs_review: there is nothing to resolve\n")
    }

    @Test func resendLetsTheNextRetrySendOne() async throws {
        let (dir, first, _) = try await nightNeedingReview()
        await first.stop()
        let resent = try await resolve(dir, ["--run", "1", "--row", "1", "--resend"])
        #expect(resent.status == 0, "\(resent.stderr)")
        #expect(resent.stdout == "row 1 of run 1 will get a new deposit request from the next `cashier-batch retry`, recorded as resolution 1\n")
        // The next night's Rebilly answers deposit POSTs again.
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let retry = try await runCLI(["retry", "--api-url", sandbox.baseURL, "--db", dir.path("ledger.sqlite"), "--rate", "1000/s",
                                      "--report-dir", dir.path("reports")], environment: ["REBILLY_API_KEY": sandbox.apiKey])
        let stats = try await sandboxStats(sandbox)
        await sandbox.stop()
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(stats["depositRequests"] == .number("1"))
        let row = try #require(try Ledger(path: dir.path("ledger.sqlite"), access: .read).row(id: 1))
        #expect(row.state == .done && row.depositRequestID != nil)
    }

    @Test func refusalsSayWhyAndWriteNothing() async throws {
        let (dir, sandbox, foreign) = try await nightNeedingReview()
        await sandbox.stop()
        let both = try await resolve(dir, ["--run", "1", "--row", "1", "--adopt", foreign, "--resend"])
        #expect(both.status == 64 && both.stderr.contains("give exactly one of --adopt ID and --resend"), "\(both.stderr)")
        let filter = try await resolve(dir, ["--run", "1", "--row", "1", "--adopt", "dep_1,dep_2"])
        #expect(filter.status == 64 && filter.stderr.contains("--adopt dep_1,dep_2 must match Rebilly's id pattern"), "\(filter.stderr)")
        let otherRun = try await resolve(dir, ["--run", "7", "--row", "1", "--resend"])
        #expect(otherRun.status == 64 && otherRun.stderr == "error: there is no run 7 in this ledger\n", "\(otherRun.stderr)")
        let noLedger = try await runCLI(["resolve", "--db", dir.path("none.sqlite"), "--run", "1", "--row", "1", "--resend"])
        #expect(noLedger.status == 66 && noLedger.stderr == "error: there is no ledger at \(dir.path("none.sqlite")); give the night's --db\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("none.sqlite")))
        let row = try #require(try Ledger(path: dir.path("ledger.sqlite"), access: .read).row(id: 1))
        #expect(row.state == .needsReview)
        #expect(try Ledger(path: dir.path("ledger.sqlite"), access: .read).resolutions(rowID: 1).isEmpty)
    }

    /// Two rows (cus_1, cus_2), every deposit POST failing, each with another client's near miss.
    func twoRowsNeedingReview() async throws -> (TempDir, RunningSandbox, [String]) {
        let dir = try TempDir()
        var config = SandboxConfiguration()
        config.failRate = 1
        config.faultOperations = ["PostDepositRequest"]
        let sandbox = try await SandboxServer.start(config)
        let batch = try dir.write("b.csv", "websiteId,customerId,currency,balance,deposit.amounts\nweb_1,cus_1,USD,1.00,10;20\nweb_1,cus_2,USD,1.00,10;20\n")
        var foreign: [String] = []
        for customer in ["cus_1", "cus_2"] {
            foreign.append(try await seedForeignDepositRequest(sandbox, customer: customer, createdTime: Date().addingTimeInterval(1)))
        }
        let run = try await runCLI(runArgs(sandbox, dir, [batch, "--max-attempts", "2", "--in-doubt-settle", "0.3"]),
                                   environment: ["REBILLY_API_KEY": sandbox.apiKey])
        #expect(run.status == 3 && run.stderr.contains("needsReview=2"), "\(run.stderr)")
        return (dir, sandbox, foreign)
    }

    /// `--adopt` takes the row's recorded candidate, or a request Rebilly shows with the row's exact
    /// fields; a made-up id, another customer's candidate and a request another row holds are
    /// refused with 64, and the row stays in review.
    @Test func adoptTakesOnlyWhatCanBeTheRows() async throws {
        let (dir, sandbox, foreign) = try await twoRowsNeedingReview()
        let api = ["--api-url", sandbox.baseURL]
        let env = ["REBILLY_API_KEY": sandbox.apiKey]
        let ledger = try Ledger(path: dir.path("ledger.sqlite"), access: .read)
        #expect(try ledger.reviewCase(rowID: 1, runID: 1, adopting: nil).candidates == [foreign[0]])

        let madeUp = try await runCLI(["resolve", "--db", dir.path("ledger.sqlite"), "--run", "1", "--row", "1", "--adopt", "dep_madeup"] + api,
                                      environment: env)
        #expect(madeUp.status == 64 && madeUp.stderr == "error: Rebilly has no deposit request dep_madeup\n", "\(madeUp.stderr)")
        let others = try await runCLI(["resolve", "--db", dir.path("ledger.sqlite"), "--run", "1", "--row", "1", "--adopt", foreign[1]] + api,
                                      environment: env)
        #expect(others.status == 64, "\(others.stderr)")
        #expect(others.stderr == "error: deposit request \(foreign[1]) is not row 1's: its customerId, expirationTime differ from what the job sent\n")
        let noKey = try await runCLI(["resolve", "--db", dir.path("ledger.sqlite"), "--run", "1", "--row", "1", "--adopt", foreign[1]] + api,
                                     environment: ["REBILLY_API_KEY": ""])
        #expect(noKey.status == 64 && noKey.stderr.hasPrefix("error: deposit request \(foreign[1]) is not one of row 1's candidates (\(foreign[0])), and Rebilly cannot be asked about it: "),
                "\(noKey.stderr)")
        #expect(try ledger.row(id: 1)?.state == .needsReview)

        let own = try await resolve(dir, ["--run", "1", "--row", "1", "--adopt", foreign[0]])
        #expect(own.status == 0, "a recorded candidate needs no API: \(own.stderr)")
        let twice = try await runCLI(["resolve", "--db", dir.path("ledger.sqlite"), "--run", "1", "--row", "2", "--adopt", foreign[0]] + api,
                                     environment: env)
        #expect(twice.status == 64 && twice.stderr == "error: deposit request \(foreign[0]) is row 1's already: one deposit request closes one row\n",
                "\(twice.stderr)")
        #expect(try ledger.row(id: 2)?.state == .needsReview)

        // A request that is row 2's in every field the job sent, though not listed when it was reviewed.
        let post = try #require(try ledger.attempts(rowID: 2).last { $0.operation == .createDepositRequest })
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: post.requestedAt, rowID: 2))
        let exact = try await seedForeignDepositRequest(sandbox, customer: "cus_2", createdTime: Date(),
                                                        members: #""amounts":[10,20],"expirationTime":"\#(expiry)""#)
        let checked = try await runCLI(["resolve", "--db", dir.path("ledger.sqlite"), "--run", "1", "--row", "2", "--adopt", exact] + api,
                                       environment: env)
        await sandbox.stop()
        #expect(checked.status == 0, "\(checked.stderr)")
        let row2 = try #require(try ledger.row(id: 2))
        #expect(row2.state == .done && row2.depositRequestID == exact)
        #expect(try ledger.resolutions(rowID: 2).map(\.depositRequestID) == [exact])
    }
}
