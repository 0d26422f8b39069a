import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Ledger

/// `cashier-batch accept`: a person's agreement that a drift break is a known difference,
/// recorded in the ledger with who, when and why.
struct AcceptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a known difference (a drift break) with a reason, so that it no longer fails the night.",
        discussion: """
        --break ID (the `id` of a break in report.json, or in summary.md) accepts that break's exact \
        difference; --run N --all accepts every open drift break of a figure that run N's \
        reconciliation recorded. The ledger records who (the OS user, or --by), when and why. From \
        the next reconciliation on, the break is listed under accepted differences and is no reason \
        for exit 4 while its difference stays the same; when the difference changes it is open \
        again, with its history, and the acceptance ends. --revoke ID ends acceptance ID (the id \
        `accept` printed; `accepted.acceptanceId` in report.json, "acceptance N" in summary.md) now. Deposit-request breaks and opening differences \
        cannot be accepted. Break ids are those of the latest report: a reconciliation of the same run \
        records its breaks anew. Exit codes: 0 recorded, 64 usage or refused (no such break, not an \
        open drift break, not the latest record of its difference, accepted already, no such \
        acceptance in force), \
        66 no ledger, 74 the ledger is unusable, 75 another run holds the ledger.
        """
    )

    @Option(name: .customLong("break"), help: ArgumentHelp("The break to accept (its ledger id).", valueName: "id"))
    var breakID: Int64?

    @Option(name: .customLong("run"), help: ArgumentHelp("With --all: the run whose open drift breaks to accept.", valueName: "id"))
    var runID: Int64?

    @Flag(help: "Accept every open drift break of --run.")
    var all = false

    @Option(help: ArgumentHelp("End this acceptance (the id `accept` printed).", valueName: "acceptance-id"))
    var revoke: Int64?

    @Option(help: "Why the difference is known and agreed (recorded, shown in the reports).")
    var reason: String?

    @Option(help: ArgumentHelp("Who accepts (default: the OS user).", valueName: "name"))
    var by: String?

    @Option(help: "The SQLite ledger file.")
    var db: String = "cashier-batch.sqlite"

    func validate() throws {
        let modes = [breakID != nil, runID != nil || all, revoke != nil].count { $0 }
        guard modes == 1 else { throw ValidationError("give exactly one of --break ID, --run N --all and --revoke ID") }
        if runID != nil || all, runID == nil || !all { throw ValidationError("--all needs --run N, and --run N needs --all") }
        if revoke == nil {
            guard let reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ValidationError("--reason TEXT is required: say why the difference is known")
            }
            if let problem = Self.textProblem(reason) { throw ValidationError("--reason \(problem)") }
        } else if reason != nil {
            throw ValidationError("--reason goes with --break or --all, not --revoke")
        }
        if let by, let problem = Self.textProblem(by) { throw ValidationError("--by \(problem)") }
    }

    /// Why a free text cannot be recorded: empty, too long, or holding control characters.
    static func textProblem(_ text: String) -> String? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "is empty" }
        if text.count > 500 { return "is longer than 500 characters" }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "holds a control character" }
        return nil
    }

    /// The OS user running the command (its login name, else its uid).
    static func osUser() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(geteuid())"
    }

    func run() throws {
        let lock = try lockExistingLedger(db, then: "accept")
        defer { lock.release() }
        let ledger = try openLedger(db, access: .write, quickCheck: true)
        let person = by ?? Self.osUser()
        do {
            try readingLedger(db) {
                if let revoke {
                    let a = try ledger.revokeAcceptance(id: revoke, by: person)
                    Terminal.out("acceptance \(a.id) of \(Self.name(a)) revoked by \(Printable.text(person)): "
                        + "from the next reconciliation on, its difference fails the night again")
                } else if let breakID {
                    let a = try ledger.accept(breakID: breakID, by: person, reason: reason ?? "")
                    Terminal.out(Self.line(a))
                } else if let runID {
                    let (accepted, skipped, already) = try ledger.acceptOpenDrift(runID: runID, by: person, reason: reason ?? "")
                    for a in accepted { Terminal.out(Self.line(a)) }
                    Terminal.out("run \(runID): \(accepted.count) break\(accepted.count == 1 ? "" : "s") accepted"
                        + (already > 0 ? "; \(already) accepted already" : "")
                        + (skipped > 0 ? "; \(skipped) deposit-request or unreadable break\(skipped == 1 ? "" : "s") left open (they cannot be accepted)" : ""))
                }
            }
        } catch let refusal as AcceptRefusal {
            Terminal.err("error: \(refusal.description)")
            throw RunVerdict.usage.exitCode
        }
    }

    static func name(_ a: Acceptance) -> String {
        "break \(a.breakID) (\(Printable.text(a.websiteID)) \(Printable.text(a.customerID)) \(a.currency) \(a.field.rawValue))"
    }

    static func line(_ a: Acceptance) -> String {
        "\(name(a)) accepted as acceptance \(a.id) by \(Printable.text(a.acceptedBy)) for a difference of \(a.difference): "
            + "from the next reconciliation on, it is listed as accepted and fails the night no more while the difference stays \(a.difference)"
    }
}
