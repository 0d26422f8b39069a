import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Gateway
import Ledger
import RebillyClient
import Reconciliation

/// `cashier-batch reconcile [--run ID]`: read every cashier of a run back from the API,
/// compare its figures exactly with the batch, check the deposit requests, record the breaks.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Read a run's cashiers back from the API (GET /cashiers/{id}), compare with the batch, record breaks.",
        discussion: """
            Compares balance, bonusBalance and pendingPayoutTotal exactly (minor units) with what \
            Rebilly holds now, and checks that every done row has exactly one deposit request. The \
            breaks replace the ones recorded for that run (new / persisting / resolved against the \
            previous run's), and the run's reports are written again to --report-dir with them. The \
            reconciliation is a run of its own in the ledger (`runs` lists it; `report --run` of it shows \
            what it found against the previous one). Open drift breaks are logged first, one line \
            each; opening and accepted differences one line per website and currency. Exit codes: 0 \
            no open drift break (opening and accepted differences never count), 4 open breaks, 64 usage, 66 no ledger, 69 API unavailable or cashiers not read back, \
            70 internal error, 74 the ledger or the reports cannot be used, 75 ledger locked by a run, \
            77 credentials refused. A run whose rows `prune` removed is refused (64) before anything is written.
            """
    )

    @Option(help: "The run to reconcile (see `runs`); default the last run or retry.")
    var run: Int64?

    @Option(help: "How deposit requests are listed: bulk (per website, the night's createdTime window, 1,000 a page) or per-customer (one listing per customer, as before).")
    var depositListing: Reconciler.DepositListingMode = .bulk

    @OptionGroup var options: CommandOptions

    /// What the reconciliation's session returns.
    struct Reconciled: Sendable {
        var target: Int64?
        var report: ReconciliationReport?
        var verdict: RunVerdict
    }

    func run() async throws {
        let log = RunLog(format: options.logFormat)
        guard FileManager.default.fileExists(atPath: options.db) else {
            log(RunEvent(.error, "no ledger at \(options.db): give --db the ledger of the run to reconcile"))
            throw RunVerdict.noInput.exitCode
        }
        let json = optionsJSON(command: "reconcile") { w in
            options.writeJSON(into: &w)
            if let run { w.int("run", Int(run)) }
            w.string("depositListing", depositListing.rawValue)
        }
        // A night whose rows were pruned has nothing left to compare: refused before the session
        // records a run or anything else.
        if let refusal = Self.prunedRefusal(ledgerPath: options.db, target: run) {
            log(RunEvent(.error, refusal))
            throw RunVerdict.usage.exitCode
        }
        let target = run
        let listing = depositListing
        let concurrency = options.readConcurrency
        try await CommandWiring(options: options).perform(command: "reconcile") { gateway, _, log in
            let session = CommandSession(ledgerPath: options.db, command: "reconcile", optionsJSON: json, log: { log($0) })
            let end = try await session.perform(control: gateway.control, { ledger, runID in
                try await Self.reconcile(ledger: ledger, runID: runID, target: target, gateway: gateway,
                                         concurrency: concurrency, depositListing: listing, log: { log($0) })
            }, verdict: \.verdict)
            switch end {
            case let .completed(runID, value): return Self.outcome(runID: runID, value)
            case let .failed(runID, verdict):
                return CommandOutcome(runID: runID, verdict: verdict, reportRunID: nil,
                                      fields: [("exitCode", .int(verdict.rawValue))], summary: "")
            }
        }
    }

    static func reconcile(ledger: Ledger, runID: Int64, target: Int64?, gateway: RebillyGateway, concurrency: Int,
                          depositListing: Reconciler.DepositListingMode = .bulk,
                          log: @escaping @Sendable (RunEvent) -> Void) async throws -> Reconciled {
        let found = try target.map { try ledger.run(id: $0) } ?? ledger.lastRun(of: RunRecord.nightCommands, before: runID)
        guard let found, RunRecord.nightCommands.contains(found.command) else {
            let what = target.map { "run \($0) is not a run or retry of" } ?? "no run or retry in"
            log(RunEvent(.error, "\(what) \(ledger.path) to reconcile: give --run one of the runs listed by `cashier-batch runs`"))
            return Reconciled(target: nil, report: nil, verdict: .usage)
        }
        // Pruned since the check before the session: the run's record is left as it was.
        if let refusal = try prunedRefusal(ledger: ledger, run: found) {
            log(RunEvent(.error, refusal))
            return Reconciled(target: nil, report: nil, verdict: .usage)
        }
        var reconciler = Reconciler(ledger: ledger)
        reconciler.readBackConcurrency = concurrency
        reconciler.depositListing = depositListing
        let report: ReconciliationReport
        do {
            report = try await reconciler.reconcileWithReadBack(runID: found.id, gateway: gateway, madeBy: runID)
        } catch let stopped as ReconciliationStopped {
            switch stopped.reason {
            case .credentialsRefused: return Reconciled(target: found.id, report: nil, verdict: .credentialsRefused)
            case let .signal(number): return Reconciled(target: found.id, report: nil, verdict: number == 15 ? .terminated : .interrupted)
            case .ledgerFailed: return Reconciled(target: found.id, report: nil, verdict: .ledgerUnusable)
            case .apiUnreachable: return Reconciled(target: found.id, report: nil, verdict: .apiUnavailable)
            }
        }
        for event in report.breakEvents { log(event) }
        for u in report.unread {
            log(RunEvent(.warning, "not read back: neither matched nor broken", [
                ("websiteId", .string(u.websiteID)), ("customerId", .string(u.customerID)), ("currency", .string(u.currency)),
                ("cashierId", .string(u.cashierID ?? "-")), ("reason", .string(u.reason)),
            ]))
        }
        for check in report.accounting where !check.holds {
            log(RunEvent(.warning, "row accounting does not close (a bug, or a ledger edited by hand): see docs/ledger.md, Row states, and check the batch's rows with sqlite3", [("batch", .int(check.batchID)), ("file", .string(check.path)),
                                                                    ("problems", .string(check.problems.joined(separator: "; ")))]))
        }
        let c = report.counts
        let d = report.depositChecks
        log(RunEvent(c.openBreaks > 0 ? .warning : .info, "reconciled", [
            ("run", .int(found.id)), ("cashiers", .int(c.cashiers)), ("readBack", .int(c.compared)),
            ("readBackFailures", .int(c.readBackFailures)), ("unread", .int(report.unread.count)), ("newBreaks", .int(c.newBreaks)),
            ("persistingBreaks", .int(c.persistingBreaks)), ("resolvedBreaks", .int(c.resolvedBreaks)),
            ("highPriority", .int(c.highPriorityOpenBreaks)), ("accepted", .int(report.breaks.accepted.count)),
            ("opening", .int(c.openingBreaks)), ("depositMissing", "\(d?.missing ?? 0)"),
            ("depositDuplicated", "\(d?.duplicated ?? 0)"), ("depositForeign", "\(d?.foreign ?? 0)"), ("accounting", report.accountingHolds ? "holds" : "off"),
        ]))
        var verdict = RunVerdict.clean
        if report.hasOpenBreaks { verdict = .reconciliationBreaks }
        if !report.unread.isEmpty {
            log(RunEvent(.error, "\(report.unread.count) of \(c.cashiers) cashiers could not be read back, so the night is not reconciled: run `cashier-batch reconcile` again when the API answers"))
            verdict = max(verdict, .apiUnavailable)
        }
        return Reconciled(target: found.id, report: report, verdict: verdict)
    }

    /// Why run `target` (default: the last run or retry) cannot be reconciled, when `prune`
    /// removed the rows of one of its batches; nil when it can, or when the ledger cannot be
    /// read here (the session then says what is wrong with it).
    static func prunedRefusal(ledgerPath: String, target: Int64?) -> String? {
        guard let ledger = try? Ledger(path: ledgerPath, access: .read) else { return nil }
        defer { try? ledger.close() }
        guard let run = try? target.map({ try ledger.run(id: $0) }) ?? ledger.lastRun(of: RunRecord.nightCommands) else { return nil }
        return try? prunedRefusal(ledger: ledger, run: run)
    }

    /// The one line refusing `run` when one of its batches was pruned, naming the batch and when.
    static func prunedRefusal(ledger: Ledger, run: RunRecord) throws -> String? {
        guard RunRecord.nightCommands.contains(run.command) else { return nil }
        let pruned = try ledger.batches(runID: run.id).filter { $0.prunedAt != nil }
        guard let batch = pruned.first, let at = batch.prunedAt else { return nil }
        let more = pruned.count > 1 ? " (and \(pruned.count - 1) more of its batches)" : ""
        return "run \(run.id) cannot be reconciled: its batch \(batch.id) (\(batch.path)) was pruned from the ledger on \(RFC3339.string(at))\(more), "
            + "so its rows are gone and there is nothing to compare; its recorded reconciliation is left as it was"
    }

    static func outcome(runID: Int64, _ value: Reconciled) -> CommandOutcome {
        guard let report = value.report else {
            return CommandOutcome(runID: runID, verdict: value.verdict, reportRunID: nil,
                                  fields: [("run", .int(runID)), ("exitCode", .int(value.verdict.rawValue))], summary: "")
        }
        let c = report.counts
        return CommandOutcome(
            runID: runID, verdict: value.verdict, reportRunID: value.target,
            fields: [("run", .int(runID)), ("reconciledRun", .int(value.target ?? 0)), ("exitCode", .int(value.verdict.rawValue))],
            summary: "run \(value.target.map(String.init) ?? "-"): cashiers \(c.cashiers), read back \(c.compared), not read \(report.unread.count), "
                + "open breaks \(c.openBreaks) (\(c.highPriorityOpenBreaks) high priority), resolved \(c.resolvedBreaks)")
    }
}

extension Reconciler.DepositListingMode: ExpressibleByArgument {}
