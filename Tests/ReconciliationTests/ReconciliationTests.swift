import BatchRun
import CashierModel
import Foundation
@testable import Gateway
import GRDB
@testable import Ledger
import RebillyClient
import Reconciliation
import Sandbox
import Testing
import Throttle

@Suite struct ReconciliationTests {
    /// Cashiers that already exist at Rebilly with other figures: the create answers 200 with
    /// the OLD figures, and the end of `run` finds every difference, exactly.
    @Test func exactBreaksTotalsAndNetVersusGross() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        // cus_new already holds the batch's figures at Rebilly: it is no break.
        let agreeing = Line(customer: "cus_new", balance: "7.25", bonus: "0.75", pending: "1.00")
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_up","websiteId":"web_1","currency":"USD","balance":110.00}
            {"customerId":"cus_down","websiteId":"web_1","currency":"USD","balance":90.00}
            {"customerId":"cus_ppt","websiteId":"web_1","currency":"USD","balance":50,"pendingPayoutTotal":5.00}
            {"customerId":"cus_same","websiteId":"web_1","currency":"USD","balance":20.00,"bonusBalance":1.50}
            """, holding: [agreeing])
        let file = try ws.batch("night.csv", [
            Line(customer: "cus_up", balance: "100.00"),
            Line(customer: "cus_down", balance: "100.00"),
            Line(customer: "cus_ppt", balance: "50.00"),
            Line(customer: "cus_same", balance: "20.00", bonus: "1.50"),
            agreeing,
        ])
        let result = try await runNight(ws, files: [file], sandbox: sandbox)
        await sandbox.stop()

        #expect(result.verdict == .reconciliationBreaks)
        let report = try #require(result.reconciliation)
        #expect(report.method == .ledger)
        #expect(report.breaks.count == 3)
        let up = try #require(report.onlyBreak("cus_up", .balance))
        #expect(up.expected == "100.00" && up.actual == "110.00" && up.difference == "10.00")
        #expect(up.expectedMinor == 10_000 && up.actualMinor == 11_000 && up.differenceMinor == 1_000)
        #expect(up.actualText == "110.00")
        #expect(up.lifecycle == .new && up.priority == .normal && up.timesSeen == 1 && up.firstSeenRunID == report.runID)
        let down = try #require(report.onlyBreak("cus_down", .balance))
        #expect(down.difference == "-10.00" && down.differenceMinor == -1_000)
        let ppt = try #require(report.onlyBreak("cus_ppt", .pendingPayoutTotal))
        #expect(ppt.expected == "0.00" && ppt.actual == "5.00" && ppt.difference == "5.00")
        #expect(ppt.priority == .high)
        #expect(report.breaks.first == ppt, "high priority first")
        #expect(report.breaks("cus_same").isEmpty && report.breaks("cus_new").isEmpty)

        let usd = try #require(report.totals("web_1", "USD"))
        #expect(usd.inputRows == 5 && usd.sentRows == 5 && usd.comparedCashiers == 5)
        let balance = usd[.balance]
        #expect(balance.input == "277.25" && balance.sent == "277.25" && balance.rebilly == "277.25")
        #expect(balance.netDifference == "0.00", "+10.00 and -10.00 net to zero")
        #expect(balance.grossDifference == "20.00", "but gross 20.00")
        #expect(balance.netDifferenceMinor == 0 && balance.grossDifferenceMinor == 2_000)
        let bonus = usd[.bonusBalance]
        #expect(bonus.input == "2.25" && bonus.rebilly == "2.25" && bonus.netDifference == "0.00" && bonus.grossDifference == "0.00")
        let pending = usd[.pendingPayoutTotal]
        #expect(pending.input == "1.00" && pending.rebilly == "6.00" && pending.netDifference == "5.00" && pending.grossDifference == "5.00")

        #expect(report.counts.newBreaks == 3 && report.counts.openBreaks == 3 && report.counts.highPriorityOpenBreaks == 1)
        #expect(report.counts.openBreaksByField == ["balance": 2, "pendingPayoutTotal": 1])
        #expect(report.counts.compared == 5 && report.counts.notCompared == 0)
        #expect(report.accountingHolds)

        // Recorded in the ledger with both figures, the field and the priority.
        let ledger = try ws.openLedger()
        let recorded = try ledger.breaks(runID: report.runID)
        #expect(recorded.count == 3)
        let recordedPPT = try #require(recorded.first { $0.customerID == "cus_ppt" })
        #expect(recordedPPT.field == .pendingPayoutTotal && recordedPPT.priority == .high)
        #expect(recordedPPT.expectedMinor == 0 && recordedPPT.actualMinor == 500 && recordedPPT.exponent == 2)
        #expect(recordedPPT.lifecycle == .new && recordedPPT.source == .create && recordedPPT.rechecked)
        #expect(recorded.filter { $0.priority == .high }.count == 1)
        // The whole reconciliation is recorded once, as it was returned.
        let whole = try #require(try ledger.reconciliation(runID: report.runID))
        #expect(whole.totals == report.totals && whole.counts == report.counts && whole.accounting == report.accounting)
        #expect(whole.method == .ledger && whole.depositChecks == nil && whole.unread.isEmpty && whole.baselineRunID == report.baselineRunID)
        #expect(whole.breaks.map { "\($0.customerID) \($0.field) \($0.expectedMinor ?? -1) \($0.actualMinor ?? -1)" }
                == report.breaks.map { "\($0.customerID) \($0.field) \($0.expectedMinor ?? -1) \($0.actualMinor ?? -1)" })
        // What Rebilly said is kept: one create answer per cashier, 200 for the preloaded ones.
        let figures = try ledger.remoteFigures(runID: report.runID)
        #expect(figures.count == 5 && figures.allSatisfy { $0.source == .create })
        let upFigures = try #require(figures.first { $0.figures.cashierID == up.cashierID })
        #expect(upFigures.figures.httpStatus == 200 && upFigures.figures.balanceMinor == 11_000 && upFigures.figures.balanceText == "110.00")
        // 0, was 1: a create no longer sets figures, so cus_new is preloaded too and answers 200.
        #expect(figures.filter { $0.figures.httpStatus == 201 }.count == 0)
    }

    @Test func zeroAndThreeDecimalCurrencies() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let agreeing = Line(customer: "cus_jpy2", currency: "JPY", balance: "300")
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_jpy","websiteId":"web_1","currency":"JPY","balance":1500}
            {"customerId":"cus_bhd","websiteId":"web_1","currency":"BHD","balance":1.250,"pendingPayoutTotal":0.001}
            {"customerId":"cus_bhd_low","websiteId":"web_1","currency":"BHD","balance":0.500}
            """, holding: [agreeing])
        let file = try ws.batch("fx.csv", [
            Line(customer: "cus_jpy", currency: "JPY", balance: "1000"),
            agreeing,
            Line(customer: "cus_bhd", currency: "BHD", balance: "1.005"),
            Line(customer: "cus_bhd_low", currency: "BHD", balance: "0.745"),
        ])
        let result = try await runNight(ws, files: [file], sandbox: sandbox)
        await sandbox.stop()
        let report = try #require(result.reconciliation)

        let jpy = try #require(report.onlyBreak("cus_jpy", .balance))
        #expect(jpy.exponent == 0 && jpy.expected == "1000" && jpy.actual == "1500" && jpy.difference == "500")
        #expect(jpy.differenceMinor == 500)
        let bhd = try #require(report.onlyBreak("cus_bhd", .balance))
        #expect(bhd.exponent == 3 && bhd.expected == "1.005" && bhd.actual == "1.250" && bhd.difference == "0.245")
        #expect(bhd.differenceMinor == 245)
        let bhdPending = try #require(report.onlyBreak("cus_bhd", .pendingPayoutTotal))
        #expect(bhdPending.expected == "0.000" && bhdPending.actual == "0.001" && bhdPending.difference == "0.001")
        #expect(bhdPending.priority == .high)
        let low = try #require(report.onlyBreak("cus_bhd_low", .balance))
        #expect(low.difference == "-0.245")
        #expect(report.breaks.count == 4)

        let jpyTotals = try #require(report.totals("web_1", "JPY")?[.balance])
        #expect(jpyTotals.input == "1300" && jpyTotals.sent == "1300" && jpyTotals.rebilly == "1800")
        #expect(jpyTotals.netDifference == "500" && jpyTotals.grossDifference == "500")
        let bhdTotals = try #require(report.totals("web_1", "BHD")?[.balance])
        #expect(bhdTotals.input == "1.750" && bhdTotals.rebilly == "1.750")
        #expect(bhdTotals.netDifference == "0.000" && bhdTotals.grossDifference == "0.490")
        #expect(report.totals("web_1", "BHD")?[.pendingPayoutTotal].netDifference == "0.001")
        #expect(report.totals("web_1", "BHD")?.exponent == 3 && report.totals("web_1", "JPY")?.exponent == 0)
    }

    /// new → persisting → resolved over three nights on one ledger.
    @Test func lifecycleOverThreeRuns() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let agreeing = Line(customer: "cus_z", balance: "1.00")
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_l","websiteId":"web_1","currency":"USD","balance":50.00}
            {"customerId":"cus_k","websiteId":"web_1","currency":"USD","pendingPayoutTotal":3.00}
            """, holding: [agreeing])
        let night1 = try ws.batch("n1.csv", [Line(customer: "cus_l", balance: "40.00"), Line(customer: "cus_k")])
        let night2 = try ws.batch("n2.csv", [Line(customer: "cus_l", balance: "40.00"), Line(customer: "cus_k"), agreeing])
        let night3 = try ws.batch("n3.csv", [Line(customer: "cus_l", balance: "50.00"), Line(customer: "cus_k", pending: "3.00")])

        let r1 = try await runNight(ws, files: [night1], sandbox: sandbox)
        let r2 = try await runNight(ws, files: [night2], sandbox: sandbox)
        let r3 = try await runNight(ws, files: [night3], sandbox: sandbox)
        await sandbox.stop()
        let (first, second, third) = (try #require(r1.reconciliation), try #require(r2.reconciliation), try #require(r3.reconciliation))
        let run1 = try #require(r1.runID)

        #expect(r1.verdict == .reconciliationBreaks)
        #expect(first.breaks.map(\.lifecycle) == [.new, .new])
        #expect(first.baselineRunID == nil)
        let firstSeen = try #require(first.onlyBreak("cus_l", .balance)).firstSeenAt

        #expect(r2.verdict == .reconciliationBreaks)
        #expect(second.baselineRunID == run1)
        #expect(second.breaks.count == 2 && second.breaks.allSatisfy { $0.lifecycle == .persisting })
        let l2 = try #require(second.onlyBreak("cus_l", .balance))
        #expect(l2.firstSeenRunID == run1 && l2.timesSeen == 2 && l2.rechecked)
        #expect(abs(l2.firstSeenAt.timeIntervalSince(firstSeen)) < 0.001, "first seen kept (ledger timestamps are milliseconds)")
        #expect(l2.difference == "10.00" && l2.nightsOpen(at: second.reconciledAt) == 0)
        #expect(second.onlyBreak("cus_k", .pendingPayoutTotal)?.firstSeenRunID == run1)
        #expect(second.counts.persistingBreaks == 2 && second.counts.newBreaks == 0)

        #expect(r3.verdict == .clean, "resolved breaks are not open")
        #expect(third.counts.resolvedBreaks == 2 && third.counts.openBreaks == 0 && !third.hasOpenBreaks)
        let l3 = try #require(third.onlyBreak("cus_l", .balance))
        #expect(l3.lifecycle == .resolved && l3.firstSeenRunID == run1 && l3.difference == "10.00", "shows what it was")
        #expect(third.onlyBreak("cus_k", .pendingPayoutTotal)?.lifecycle == .resolved)

        // The ledger holds the lifecycle of every night; a fourth look finds nothing open.
        let ledger = try ws.openLedger()
        #expect(try ledger.breaks(runID: run1).map(\.lifecycle) == [.new, .new])
        #expect(try ledger.breaks(runID: try #require(r2.runID)).allSatisfy { $0.lifecycle == .persisting && $0.timesSeen == 2 })
        #expect(try ledger.breaks(runID: try #require(r3.runID)).allSatisfy { $0.lifecycle == .resolved && $0.firstSeenRunID == run1 })
        let again = try Reconciler(ledger: ledger).reconcileFromLedger(runID: try #require(r3.runID), record: false)
        #expect(again.counts.resolvedBreaks == 2, "recomputing a run gives the same answer")

        // Nights open: whole UTC days since first seen.
        let later = Reconciler(ledger: ledger, clock: { firstSeen.addingTimeInterval(3 * 86_400) })
        let replay = try later.reconcileFromLedger(runID: try #require(r2.runID), record: false)
        #expect(replay.onlyBreak("cus_l", .balance)?.nightsOpen(at: replay.reconciledAt) == 3)
    }

    /// `reconcile`: read-back of every cashier, and exactly one deposit request per done row.
    @Test func readBackFindsDuplicatedAndMissingDepositRequests() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let lines = [Line(customer: "cus_a", balance: "10.00"), Line(customer: "cus_b", balance: "10.00"),
                     Line(customer: "cus_dup", balance: "10.00")]
        let sandbox = try await startSandbox(holding: lines)
        let file = try ws.batch("dep.csv", lines)
        let result = try await runNight(ws, files: [file], sandbox: sandbox)
        #expect(result.verdict == .clean)
        let runID = try #require(result.runID)

        // A second deposit request for cus_dup made by the job (what a lost answer + blind resend
        // would make: a POST of its own, recorded, with the expirationTime its send time sets)…
        // The site's request below falls in cus_a's window (the default clock tolerance, 15 minutes).
        let gateway = try makeGateway(sandbox)
        let client = gateway.client
        let ledger = try ws.openLedger()
        let dupRow = try #require(try ledger.rows(batchID: 1).first { $0.customerID == "cus_dup" })
        // The row is done, so the ledger refuses a new deposit intent for it: the earlier resend is
        // written as it would have been recorded, a lost POST of the night's run.
        let sentAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        let queue = try DatabaseQueue(path: ws.ledgerPath)
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO attempt_log (row_id, run_id, operation, requested_ms, outcome)
                SELECT ?, ?, o.code, ?, u.code FROM attempt_operations o, attempt_outcomes u
                WHERE o.name = 'create_deposit_request' AND u.name = 'lost'
                """, arguments: [dupRow.id, runID, Int64((sentAt.timeIntervalSince1970 * 1000).rounded())])
        }
        try queue.close()
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: dupRow.id))
        let extra = try await client.createDepositRequest(
            body: #"{"websiteId":"web_1","customerId":"cus_dup","currency":"USD","amounts":[10,20],"expirationTime":"\#(expiry)"}"#)
        // …and one the operator's own site made for cus_a inside its window: foreign, not a duplicate.
        _ = try await client.createDepositRequest(body: #"{"websiteId":"web_1","customerId":"cus_a","currency":"USD","amounts":[10]}"#)
        let report = try await Reconciler(ledger: ledger).reconcileWithReadBack(runID: runID, gateway: gateway)
        await gateway.shutdown()
        await sandbox.stop()

        #expect(report.method == .readBack)
        #expect(report.counts.readBackRequests == 3 && report.counts.compared == 3 && report.counts.readBackFailures == 0)
        let checks = try #require(report.depositChecks)
        #expect(checks.checkedRows == 3 && checks.matched == 2 && checks.duplicated == 1 && checks.missing == 0)
        #expect(checks.foreign == 1)
        #expect(report.breaks.count == 1)
        let dup = try #require(report.onlyBreak("cus_dup", .depositRequestDuplicate))
        #expect(dup.expected == "1" && dup.actual == "2" && dup.difference == "1" && dup.lifecycle == .new)
        #expect(dup.detail?.contains(extra.id) == true)
        #expect(try ledger.remoteFigures(runID: runID).filter { $0.source == .readBack }.count == 3)

        // The same cashiers at a Rebilly that has no deposit requests, and another balance for cus_a.
        let rows = try ledger.rows(batchID: try #require(result.batchIDs.first))
        let preload = rows.map { (row: RowRecord) -> String in
            let balance = row.customerID == "cus_a" ? "12.00" : "10.00"
            return #"{"id":"\#(row.cashierID!)","customerId":"\#(row.customerID!)","websiteId":"web_1","currency":"USD","balance":\#(balance)}"#
        }.joined(separator: "\n")
        let other = try await startSandbox(preload: preload)
        let otherGateway = try makeGateway(other)
        let second = try await Reconciler(ledger: ledger).reconcileWithReadBack(runID: runID, gateway: otherGateway)
        await otherGateway.shutdown()
        await other.stop()

        #expect(second.depositChecks?.missing == 3 && second.depositChecks?.duplicated == 0)
        #expect(second.breaks.filter { $0.field == .depositRequestMissing }.count == 3)
        let missing = try #require(second.onlyBreak("cus_b", .depositRequestMissing))
        #expect(missing.expected == "1" && missing.actual == "0" && missing.difference == "-1")
        let readBack = try #require(second.onlyBreak("cus_a", .balance))
        #expect(readBack.source == .readBack && readBack.expected == "10.00" && readBack.actual == "12.00" && readBack.difference == "2.00")
        // A repeated reconciliation of a run replaces what it recorded before.
        let recorded = try ledger.breaks(runID: runID)
        #expect(recorded.count == 4 && !recorded.contains { $0.field == .depositRequestDuplicate })
        #expect(recorded.first { $0.field == .balance }?.source == .readBack)
        let whole = try #require(try ledger.reconciliation(runID: runID))
        #expect(whole.method == .readBack && whole.depositChecks == second.depositChecks && whole.counts == second.counts)
    }

    @Test func accountingIdentityPerBatch() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let lines = [Line(customer: "cus_1", balance: "1.00"), Line(customer: "cus_2", balance: "2.00")]
        let sandbox = try await startSandbox(holding: lines)
        let file = try ws.batch("acc.csv", lines, extraLines: ["web_1,cus_bad,XXX,1.00,,,10;20"])
        let r1 = try await runNight(ws, files: [file], sandbox: sandbox)
        let r2 = try await runNight(ws, files: [file], sandbox: sandbox)
        await sandbox.stop()

        #expect(r1.verdict == .rowsRejectedOrFailed)
        let a1 = try #require(r1.reconciliation?.accounting.first)
        #expect(a1.read == 3 && a1.rows == RowCounts(read: 3, done: 2, rejected: 1))
        #expect(a1.holds && a1.problems.isEmpty)
        let a2 = try #require(r2.reconciliation?.accounting.first)
        #expect(a2.read == 3 && a2.rows == RowCounts(read: 3, skipped: 2, rejected: 1) && a2.holds)
        #expect(r2.reconciliation?.breaks.isEmpty == true, "skipped rows are compared with the figures already recorded")
        #expect(r2.reconciliation?.totals("web_1", "USD")?[.balance].sent == "3.00")

        // A batch whose rows were never sent and whose file had one more record: named, not hidden.
        let ledger = try ws.openLedger()
        let runID = try ledger.beginRun(command: "run")
        let (batch, _) = try ledger.upsertBatch(NewBatch(sha256: String(repeating: "ab", count: 32), path: "cut.csv", format: .csv), runID: runID)
        try ledger.stageRows(batchID: batch.id, rows: [try stagedRow(line: 2, customer: "cus_x"), try stagedRow(line: 3, customer: "cus_y")])
        try ledger.finishStaging(batchID: batch.id, rowCount: 3, valid: 3, rejected: 0, controlVerdict: .absent, controlDetail: nil)
        let report = try Reconciler(ledger: ledger).reconcileFromLedger(runID: runID, record: false)
        let check = try #require(report.accounting.first)
        #expect(!check.holds && !report.accountingHolds)
        #expect(check.read == 3 && check.rows == RowCounts(read: 2, unfinished: 2))
        #expect(check.problems == ["3 records read from the file but 2 rows in the ledger",
                                   "2 rows unfinished (pending or cashier_created)"])
        #expect(report.counts.cashiers == 0 && report.breaks.isEmpty)
        #expect(report.totals("web_1", "USD")?.inputRows == 2 && report.totals("web_1", "USD")?.sentRows == 0)
    }

    /// The rows are read a page at a time: a page of two rows finds what one page of everything
    /// finds, and a customer in two batches of the night is one cashier, judged on its later row.
    @Test func pagesOfTwoRowsFindWhatOnePageFinds() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let agreeing = [Line(customer: "cus_1", balance: "1.00"), Line(customer: "cus_2", balance: "2.00"),
                        Line(customer: "cus_3", balance: "3.00"), Line(customer: "cus_4", balance: "4.00")]
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_up","websiteId":"web_1","currency":"USD","balance":110.00}
            {"customerId":"cus_twice","websiteId":"web_1","currency":"USD","balance":10.00}
            """, holding: agreeing)
        let a = try ws.batch("a.csv", [
            Line(customer: "cus_up", balance: "100.00"), Line(customer: "cus_twice", balance: "10.00"),
            agreeing[0], agreeing[1], agreeing[2],
        ])
        let b = try ws.batch("b.csv", [Line(customer: "cus_twice", balance: "12.00"), agreeing[3]])
        let night = try await runNight(ws, files: [a, b], sandbox: sandbox)
        let ledger = try ws.openLedger()
        // A tolerance of an hour reaches cus_twice's other request whatever the machine's load.
        let gateway = try makeGateway(sandbox, clockTolerance: 3_600)
        var whole = Reconciler(ledger: ledger, clock: { Date(timeIntervalSince1970: 1_795_000_000) })
        whole.pageSize = 1_000
        var paged = whole
        paged.pageSize = 2
        let runID = try #require(night.runID)
        let fromLedger = try whole.reconcileFromLedger(runID: runID, record: false)
        let fromLedgerPaged = try paged.reconcileFromLedger(runID: runID, record: false)
        let readBack = try await whole.reconcileWithReadBack(runID: runID, gateway: gateway, record: false)
        let readBackPaged = try await paged.reconcileWithReadBack(runID: runID, gateway: gateway, record: false)
        await gateway.shutdown()
        await sandbox.stop()

        for (one, pages) in [(fromLedger, fromLedgerPaged), (readBack, readBackPaged)] {
            #expect(pages.breaks == one.breaks)
            #expect(pages.totals == one.totals)
            #expect(pages.counts == one.counts)
            #expect(pages.accounting == one.accounting)
            #expect(pages.depositChecks == one.depositChecks)
        }
        #expect(fromLedger.counts.cashiers == 6 && fromLedger.counts.compared == 6 && fromLedger.counts.inputRows == 7)
        #expect(readBack.depositChecks?.checkedRows == 7 && readBack.depositChecks?.matched == 7)
        // Each of cus_twice's rows sees the other's request, which differs in its expirationTime.
        #expect(readBack.depositChecks?.foreign == 2)
        #expect(!FileManager.default.fileExists(atPath: ledger.path + ".listing"), "the night's listing is removed after the check")
        // cus_twice: its later row asks 12.00; Rebilly kept 10.00 (the cashier existed, the create answered 200).
        let twice = try #require(fromLedger.onlyBreak("cus_twice", .balance))
        let later = try #require(try ledger.rows(batchID: night.batchIDs[1]).first { $0.customerID == "cus_twice" })
        #expect(twice.expected == "12.00" && twice.actual == "10.00" && twice.rowID == later.id)
        #expect(fromLedger.breaks.map(\.customerID).sorted() == ["cus_twice", "cus_up"])
        #expect(fromLedger.totals("web_1", "USD")?.inputRows == 7 && fromLedger.totals("web_1", "USD")?.comparedCashiers == 6)
        #expect(fromLedger.totals("web_1", "USD")?[.balance].input == "132.00")
    }
}

func stagedRow(line: Int, customer: String) throws -> StagedRow {
    var raw = RawRecord(line: line)
    raw[.websiteId] = .text("web_1")
    raw[.customerId] = .text(customer)
    raw[.currency] = .text("USD")
    raw[.balance] = .text("5.00")
    raw[.depositAmounts] = .text("10;20")
    let verdict = RowValidator().validate(raw)
    guard case .valid = verdict else { throw CancellationError() }
    return StagedRow(raw, verdict)
}

@Suite struct RetryReconciliationTests {
    /// `retry` ends like `run`: with the batches' figures against Rebilly's answers. A retry
    /// after a night with breaks must not call the night clean: exit 4, the breaks persisting.
    @Test func aRetryKeepsOpenBreaksAndExitsFour() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let agreeing = Line(customer: "cus_ok", balance: "5.00")
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_up","websiteId":"web_1","currency":"USD","balance":110.00}
            """, holding: [agreeing])
        let file = try ws.batch("night.csv", [
            Line(customer: "cus_up", balance: "100.00"),
            agreeing,
        ])
        let first = try await runNight(ws, files: [file], sandbox: sandbox)
        let gateway = try makeGateway(sandbox)
        let settings = RunSettings(ledgerPath: ws.ledgerPath, command: "retry", optionsJSON: "{}", policy: fastPolicy(), dryRun: false)
        let retry = try await NightlyRun(settings: settings, log: { _ in }).retry(runID: first.runID, gateway: gateway)
        await gateway.shutdown()
        await sandbox.stop()

        #expect(first.verdict == .reconciliationBreaks)
        #expect(retry.verdict == .reconciliationBreaks)
        #expect(retry.tally == RowCounts(), "nothing was left to send")
        let report = try #require(retry.reconciliation)
        #expect(report.runID == retry.runID)
        let up = try #require(report.onlyBreak("cus_up", .balance))
        #expect(up.lifecycle == .persisting && up.firstSeenRunID == first.runID)
        #expect(up.expected == "100.00" && up.actual == "110.00")
        #expect(report.counts.openBreaks == 1)
        let ledger = try Ledger(path: ws.ledgerPath)
        #expect(try ledger.run(id: try #require(retry.runID))?.exitCode == 4)
    }
}

@Suite struct CarriedBreakTests {
    /// A break whose customer is not in the next nights' batches is carried forward, and its
    /// detail keeps what was found once, however many nights it is carried.
    @Test func aBreakCarriedForwardTwiceKeepsOneDetail() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let (b, c) = (Line(customer: "cus_b", balance: "1.00"), Line(customer: "cus_c", balance: "2.00"))
        let sandbox = try await startSandbox(preload: """
            {"customerId":"cus_up","websiteId":"web_1","currency":"USD","balance":110.00}
            """, holding: [b, c])
        let night1 = try ws.batch("night1.csv", [Line(customer: "cus_up", balance: "100.00")])
        let night2 = try ws.batch("night2.csv", [b])
        let night3 = try ws.batch("night3.csv", [c])
        let first = try await runNight(ws, files: [night1], sandbox: sandbox)
        _ = try await runNight(ws, files: [night2], sandbox: sandbox)
        let third = try await runNight(ws, files: [night3], sandbox: sandbox)
        await sandbox.stop()

        let ledger = try Ledger(path: ws.ledgerPath)
        let firstRun = try #require(first.runID), thirdRun = try #require(third.runID)
        let original = try #require(ledger.breaks(runID: firstRun).first { $0.customerID == "cus_up" })
        let carried = try #require(ledger.breaks(runID: thirdRun).first { $0.customerID == "cus_up" })
        #expect(carried.lifecycle == .persisting && carried.firstSeenRunID == first.runID)
        #expect(carried.detail == "carried forward: not checked again by this run" + (original.detail.map { "; was: \($0)" } ?? ""))
        #expect(carried.detail?.components(separatedBy: "carried forward").count == 2, "once: \(carried.detail ?? "-")")
        #expect(third.verdict == .reconciliationBreaks)
    }
}

@Suite struct RecurringCustomerTests {
    /// The same customer in the next night's batch gets a second deposit request. Reconciling
    /// the OLD night afterwards must count only that night's deposit request for its row.
    @Test func anOldRunReconciledAfterANewerOneCountsOnlyItsOwnDepositRequest() async throws {
        let ws = try Workspace()
        defer { ws.cleanup() }
        let (cusDaily, cusNew) = (Line(customer: "cus_daily", balance: "10.00"), Line(customer: "cus_new", balance: "1.00"))
        let sandbox = try await startSandbox(holding: [cusDaily, cusNew])
        let night1 = try ws.batch("night1.csv", [cusDaily])
        let night2 = try ws.batch("night2.csv", [cusDaily, cusNew])
        let first = try await runNight(ws, files: [night1], sandbox: sandbox)
        try await Task.sleep(for: .milliseconds(2_500))
        let second = try await runNight(ws, files: [night2], sandbox: sandbox)

        let ledger = try Ledger(path: ws.ledgerPath)
        let client = RebillyClient(configuration: try RebillyConfiguration(baseURL: sandbox.baseURL, apiKey: try APIKey(sandbox.apiKey)))
        var settings = GatewaySettings(rate: try RateSpec(parsing: "100000/s"))
        settings.clockToleranceSeconds = 1  // the two nights are 2.5 s apart here, not a day
        let gateway = RebillyGateway(client: client, settings: settings, control: RunControl())
        let reconciler = Reconciler(ledger: ledger)
        let old = try await reconciler.reconcileWithReadBack(runID: try #require(first.runID), gateway: gateway)
        let new = try await reconciler.reconcileWithReadBack(runID: try #require(second.runID), gateway: gateway)
        let daily = try await client.listDepositRequests(customerId: "cus_daily", websiteId: "web_1")
        await gateway.shutdown()
        await sandbox.stop()

        #expect(first.verdict == .clean && second.verdict == .clean)
        #expect(daily.items.count == 2, "cus_daily has one deposit request per night")
        let oldChecks = try #require(old.depositChecks)
        #expect(oldChecks.matched == 1 && oldChecks.duplicated == 0 && oldChecks.missing == 0, "\(oldChecks)")
        let newChecks = try #require(new.depositChecks)
        #expect(newChecks.matched == 2 && newChecks.duplicated == 0 && newChecks.missing == 0, "\(newChecks)")
        #expect(!old.hasOpenBreaks && !new.hasOpenBreaks)
    }
}
