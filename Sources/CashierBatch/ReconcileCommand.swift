import ArgumentParser
import BatchRun
import Foundation
import Ledger
import RebillyClient
import Reconciliation
import Throttle

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
            previous run's), and the run's reports are written again to --report-dir with them. Exit codes: 0 no open break, 4 open breaks, 64 usage, 69 API unavailable, \
            70 internal error, 75 ledger locked by a run, 77 credentials refused.
            """
    )

    @Option(help: "The run to reconcile (see `runs`); default the last run or retry.")
    var run: Int64?

    @OptionGroup var options: SendingOptions

    func run() async throws {
        let log = RunLog(format: options.logFormat)
        try await withHealthPing(options.healthPing, command: "reconcile", log: log) { summary in
            try await reconcile(log: log, summary: &summary)
        }
    }

    private func reconcile(log: RunLog, summary: inout String) async throws {
        guard FileManager.default.fileExists(atPath: options.db) else {
            log(RunEvent(.error, "no ledger at \(options.db): give --db the ledger of the run to reconcile"))
            throw ExitStatus.noInput.exitCode
        }
        let key: APIKey
        do { key = try APIKey.load(file: options.apiKeyFile) } catch {
            log(RunEvent(.error, error.description))
            throw ExitStatus.usage.exitCode
        }
        let lock: RunLock
        do { lock = try RunLock(ledgerPath: options.db) } catch let held as RunLock.Held {
            log(RunEvent(.error, held.description))
            throw ExitStatus.locked.exitCode
        }
        defer { lock.release() }
        let ledger = try openLedger(options.db, access: .write, quickCheck: true) { log(RunEvent(.error, $0)) }
        let target = try run.flatMap { try ledger.run(id: $0) }
            ?? (run == nil ? ledger.runs(limit: 50).first { $0.command == "run" || $0.command == "retry" } : nil)
        guard let target else {
            log(RunEvent(.error, "no run to reconcile", [("run", run.map(String.init) ?? "last")]))
            throw ExitStatus.usage.exitCode
        }
        let configuration = try RebillyConfiguration(baseURL: options.apiUrl, organizationId: options.organizationId, apiKey: key,
                                                     maxConnections: options.concurrency)
        let client = RebillyClient(configuration: configuration)
        let limiter = RateLimiter(try options.effectiveRate, burst: options.burst)
        let report: ReconciliationReport
        do {
            report = try await Reconciler(ledger: ledger).reconcileWithReadBack(runID: target.id, client: client, limiter: limiter)
        } catch let error as RebillyError {
            try? await client.shutdown()
            log(RunEvent(.error, "the API refused the read-back", [("answer", error.description)]))
            throw (error.classification == .fatal ? ExitStatus.credentialsRefused : ExitStatus.apiUnavailable).exitCode
        } catch {
            try? await client.shutdown()
            log(RunEvent(.error, "internal error: \(error)"))
            throw ExitStatus.internalError.exitCode
        }
        try? await client.shutdown()

        for b in report.breaks {
            log(RunEvent(b.lifecycle == .resolved ? .info : .warning, "break", [
                ("lifecycle", b.lifecycle.rawValue), ("priority", b.priority.rawValue), ("websiteId", b.websiteID),
                ("customerId", b.customerID), ("currency", b.currency), ("field", b.field.rawValue),
                ("expected", b.expected ?? "-"), ("actual", b.actual ?? b.actualText ?? "-"), ("difference", b.difference ?? "-"),
                ("firstSeenRun", "\(b.firstSeenRunID)"), ("nightsOpen", "\(b.nightsOpen)"),
            ]))
        }
        for check in report.accounting where !check.holds {
            log(RunEvent(.warning, "row accounting does not close", [("batch", "\(check.batchID)"), ("file", check.path),
                                                                    ("problems", check.problems.joined(separator: "; "))]))
        }
        for u in report.unread {
            log(RunEvent(.warning, "not read back: neither matched nor broken", [
                ("websiteId", u.websiteID), ("customerId", u.customerID), ("currency", u.currency),
                ("cashierId", u.cashierID ?? "-"), ("reason", u.reason),
            ]))
        }
        let c = report.counts
        let d = report.depositChecks
        log(RunEvent(c.openBreaks > 0 ? .warning : .info, "reconciled", [
            ("run", "\(target.id)"), ("cashiers", "\(c.cashiers)"), ("readBack", "\(c.compared)"),
            ("readBackFailures", "\(c.readBackFailures)"), ("unread", "\(report.unread.count)"), ("newBreaks", "\(c.newBreaks)"),
            ("persistingBreaks", "\(c.persistingBreaks)"), ("resolvedBreaks", "\(c.resolvedBreaks)"),
            ("highPriority", "\(c.highPriorityOpenBreaks)"), ("depositMissing", "\(d?.missing ?? 0)"),
            ("depositDuplicated", "\(d?.duplicated ?? 0)"), ("accounting", report.accountingHolds ? "holds" : "off"),
        ]))
        let reportsWritten = writeRunReports(ledger: ledger, runID: target.id, reconciliation: report, directory: options.reportDir,
                                             log: log, fields: [("run", "\(target.id)")])
        summary = "run \(target.id): cashiers \(c.cashiers), read back \(c.compared), not read \(report.unread.count), open breaks \(c.openBreaks) "
            + "(\(c.highPriorityOpenBreaks) high priority), resolved \(c.resolvedBreaks)"
        if !reportsWritten { throw ExitStatus.ioError.exitCode }
        if !report.unread.isEmpty {
            log(RunEvent(.error, "\(report.unread.count) of \(c.cashiers) cashiers could not be read back, so the night is not reconciled: run `cashier-batch reconcile` again when the API answers"))
            throw ExitStatus.apiUnavailable.exitCode
        }
        if report.hasOpenBreaks { throw ExitStatus.reconciliationBreaks.exitCode }
    }
}
