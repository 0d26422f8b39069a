import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Gateway
import Ledger
import RebillyClient

/// `cashier-batch resolve`: a person's decision on a `needs_review` row, recorded in the ledger.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Close a needs_review row: adopt one of its listed deposit requests, or send a new one.",
        discussion: """
        A row needs review when Rebilly lists two deposit requests that match everything the job \
        sent for it, or one that differs in a single field: the job cannot tell its own from \
        another client's, so it neither adopts one nor sends again. The row's reason (summary.md, \
        report.html, rejects.csv) names the candidates. --adopt ID makes the row done with that \
        deposit request: one of the candidates the ledger recorded for the row, or one that \
        Rebilly (GET /deposit-requests/ID, with the API options below) shows with the row's exact \
        customer, website, currency and sent fields, and that no other row holds. --resend lets \
        the next `cashier-batch retry` send a new one. Exit codes: 0 resolved, 64 refused (the \
        row is not needs_review, not in the run, the deposit request is not the row's, or the \
        options are wrong), 66 no ledger, 69 Rebilly could not be asked, 74 the ledger is \
        unusable, 75 another run holds the ledger, 77 credentials refused.
        """
    )

    @Option(name: .customLong("run"), help: "The run whose row it is (see `cashier-batch runs`).")
    var runID: Int64

    @Option(help: "The row's id in the ledger, as the reports show it.")
    var row: Int64

    @Option(help: ArgumentHelp("This deposit request is the row's: the row becomes done with it.", valueName: "deposit-request-id"))
    var adopt: String?

    @Flag(help: "None of the listed deposit requests is the row's: the next `retry` sends a new one.")
    var resend = false

    @OptionGroup var options: CommandOptions

    func validate() throws {
        guard (adopt != nil) != resend else { throw ValidationError("give exactly one of --adopt ID and --resend") }
        if let adopt, let problem = TextRules.idProblem(adopt) { throw ValidationError("--adopt \(Printable.text(adopt)) \(problem)") }
    }

    func run() async throws {
        let db = options.db
        let lock = try lockExistingLedger(db, then: "resolve")
        defer { lock.release() }
        let ledger = try openLedger(db, access: .write, quickCheck: true)
        let record: ResolutionRecord
        do {
            let review = try readingLedger(db) { try ledger.reviewCase(rowID: row, runID: runID, adopting: adopt) }
            var checked = false
            if let adopt, !review.candidates.contains(adopt) {
                try await checkWithRebilly(adopt, review)
                checked = true
            }
            record = try readingLedger(db) {
                try ledger.resolve(rowID: row, runID: runID, action: adopt != nil ? .adopt : .resend, depositRequestID: adopt,
                                   checkedWithRebilly: checked)
            }
        } catch let refusal as ResolveRefusal {
            throw Self.fail("error: \(refusal.description)", .usage)
        }
        switch record.action {
        case .adopt: Terminal.out("row \(row) of run \(runID) is done with deposit request \(adopt ?? ""), recorded as resolution \(record.id)")
        case .resend: Terminal.out("row \(row) of run \(runID) will get a new deposit request from the next `cashier-batch retry`, recorded as resolution \(record.id)")
        }
    }

    /// Asks Rebilly for a deposit request the ledger did not record as one of the row's
    /// candidates; it is the row's only if every field the job sent is there exactly.
    private func checkWithRebilly(_ id: String, _ review: ReviewCase) async throws {
        guard let sent = review.row.cashierRow else {
            throw ResolveRefusal(description: "row \(row) holds no request the job sent, so no deposit request can be checked against it")
        }
        let key: APIKey
        do { key = try APIKey.load(file: options.apiKeyFile) } catch {
            throw ResolveRefusal(description: "deposit request \(id) is not one of row \(row)'s candidates"
                + (review.candidates.isEmpty ? "" : " (\(review.candidates.joined(separator: ", ")))")
                + ", and Rebilly cannot be asked about it: \(error.description)")
        }
        let gateway = try options.gateway(command: "resolve", key: key, inDoubtSettleSeconds: 0, control: RunControl(), events: { _ in })
        let outcome = try await gateway.readDepositRequest(id: id)
        await gateway.shutdown()
        let request: DepositRequest
        switch outcome {
        case let .succeeded(answer): request = answer.depositRequest
        case let .rowFinal(failure) where failure.status == 404:
            throw ResolveRefusal(description: "Rebilly has no deposit request \(id)")
        case let .rowFinal(failure), let .exhausted(failure):
            throw Self.fail("error: Rebilly could not be asked about deposit request \(id): \(failure.message)", .apiUnavailable)
        case .stopped:
            throw Self.fail("error: credentials refused by the API: fix the API key", .credentialsRefused)
        }
        let cashier = sent.cashier
        let owner = DepositOwnership.Row(customerId: cashier.customerId, websiteId: cashier.websiteId, currency: cashier.currency.code,
                                         terms: sent.deposit, posts: review.depositPosts, lastCall: nil, rowID: row)
        let differing = gateway.ownership.mismatches(of: request, for: owner)
        guard differing.isEmpty else {
            throw ResolveRefusal(description: "deposit request \(id) is not row \(row)'s: its \(differing.joined(separator: ", ")) "
                + (differing.count == 1 ? "differs" : "differ") + " from what the job sent")
        }
    }

    /// Says why in one line on stderr; the exit code to throw.
    private static func fail(_ line: String, _ verdict: RunVerdict) -> ExitCode {
        Terminal.err(line)
        return verdict.exitCode
    }
}
