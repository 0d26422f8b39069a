import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Ledger

/// `cashier-batch resolve`: a person's decision on a `needs_review` row, recorded in the ledger.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Close a needs_review row: adopt one of its listed deposit requests, or send a new one.",
        discussion: """
        A row needs review when Rebilly lists two deposit requests that match everything the job \
        sent for it, or one that differs in a single field: the job cannot tell its own from \
        another client's, so it neither adopts one nor sends again. The row's reason (summary.md, \
        report.html, rejects.csv) names the candidates. --adopt ID makes the row done with that \
        deposit request; --resend lets the next `cashier-batch retry` send a new one. Exit codes: \
        0 resolved, 64 refused (the row is not needs_review, not in the run, or the options are \
        wrong), 66 no ledger, 74 the ledger is unusable, 75 another run holds the ledger.
        """
    )

    @Option(help: "The SQLite ledger file.")
    var db: String = "cashier-batch.sqlite"

    @Option(name: .customLong("run"), help: "The run whose row it is (see `cashier-batch runs`).")
    var runID: Int64

    @Option(help: "The row's id in the ledger, as the reports show it.")
    var row: Int64

    @Option(help: ArgumentHelp("This deposit request is the row's: the row becomes done with it.", valueName: "deposit-request-id"))
    var adopt: String?

    @Flag(help: "None of the listed deposit requests is the row's: the next `retry` sends a new one.")
    var resend = false

    func validate() throws {
        guard (adopt != nil) != resend else { throw ValidationError("give exactly one of --adopt ID and --resend") }
        if let adopt, let problem = TextRules.idProblem(adopt) { throw ValidationError("--adopt \(Printable.text(adopt)) \(problem)") }
    }

    func run() throws {
        let lock = try lockExistingLedger(db, then: "resolve")
        defer { lock.release() }
        let ledger = try openLedger(db, access: .write, quickCheck: true)
        let record: ResolutionRecord
        do {
            record = try readingLedger(db) {
                try ledger.resolve(rowID: row, runID: runID, action: adopt != nil ? .adopt : .resend, depositRequestID: adopt)
            }
        } catch let refusal as ResolveRefusal {
            FileHandle.standardError.write(Data("error: \(refusal.description)\n".utf8))
            throw RunVerdict.usage.exitCode
        }
        switch record.action {
        case .adopt: print("row \(row) of run \(runID) is done with deposit request \(adopt ?? ""), recorded as resolution \(record.id)")
        case .resend: print("row \(row) of run \(runID) will get a new deposit request from the next `cashier-batch retry`, recorded as resolution \(record.id)")
        }
    }
}
