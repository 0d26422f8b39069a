import ArgumentParser
import BatchRun
import CashierModel
import Foundation
import Ledger

/// `cashier-batch prune`: removes the rows of old, finished nights from the ledger.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the rows, attempts and figures of batches older than --keep-days from the ledger.",
        discussion: """
        A batch is pruned when its rows and every run that used it were last active more than \
        --keep-days days ago. Never pruned: a batch a run still holds, a batch with a row that is \
        not done or rejected (pending, failed, in doubt, needing review), a batch holding a row an \
        open break is about (whichever reconciliation found it, however old the night; opening \
        differences apart), a reconciliation holding an open break or made within --keep-days, and \
        the baselines later reconciliations need. A pruned batch keeps its record (SHA-256, \
        counts), so `run` refuses the same file instead of sending it again, and `reconcile` \
        refuses its run. Exit codes: 0 pruned (or nothing to prune), 64 usage, 66 no ledger, \
        74 the ledger is unusable, 75 another run holds the ledger.
        """
    )

    @Option(help: "The SQLite ledger file.")
    var db: String = "cashier-batch.sqlite"

    @Option(help: ArgumentHelp("Keep the batches active within this many days (at least 1).", valueName: "days"))
    var keepDays: Int

    @Flag(help: "Say what would be pruned; change nothing.")
    var dryRun = false

    @Flag(help: "Afterwards rewrite the file without its free pages (needs free space about the ledger's size).")
    var vacuum = false

    func validate() throws {
        guard keepDays >= 1 else { throw ValidationError("--keep-days must be at least 1 (rows done within 24 hours guard against a repeated export)") }
        if dryRun && vacuum { throw ValidationError("--vacuum cannot be given with --dry-run") }
    }

    func run() throws {
        let lock = try lockExistingLedger(db, then: "prune")
        defer { lock.release() }
        let ledger = try openLedger(db, access: .write, quickCheck: true)
        try readingLedger(db) {
            let cutoff = Date().addingTimeInterval(-Double(keepDays) * 86_400)
            let runID = dryRun ? nil : try ledger.beginRun(command: "prune", optionsJSON: #"{"keepDays":\#(keepDays),"vacuum":\#(vacuum)}"#)
            let summary: PruneSummary
            do {
                summary = try ledger.prune(before: cutoff, dryRun: dryRun)
                if vacuum, !summary.batches.isEmpty || summary.breaks > 0 { try ledger.vacuum() }
            } catch {
                if let runID { try? ledger.finishRun(id: runID, status: .crashed, exitCode: RunVerdict.ledgerUnusable.rawValue) }
                throw error
            }
            if let runID { try ledger.finishRun(id: runID, status: .finished, exitCode: 0) }
            Terminal.out(Self.describe(summary, keepDays: keepDays, cutoff: cutoff, dryRun: dryRun, vacuumed: vacuum))
        }
    }

    static func describe(_ s: PruneSummary, keepDays: Int, cutoff: Date, dryRun: Bool, vacuumed: Bool) -> String {
        func plural(_ n: Int, _ word: String, _ words: String? = nil) -> String { "\(n) \(n == 1 ? word : words ?? word + "s")" }
        var lines: [String] = []
        let verb = dryRun ? "would prune" : "pruned"
        lines.append("\(verb) \(plural(s.batches.count, "batch", "batches")) last active before "
                     + "\(RFC3339.string(cutoff)) (--keep-days \(keepDays)): \(plural(s.rows, "row")), \(plural(s.attempts, "attempt")), "
                     + "\(plural(s.figures, "figure record")), \(plural(s.breaks, "break record")) of older runs")
        for batch in s.batches {
            lines.append("  batch \(batch.id) \(batch.path) (sha256 \(batch.sha256.prefix(12))…), \(plural(batch.rowCount, "row")) read")
        }
        if !s.kept.isEmpty {
            lines.append("kept \(plural(s.kept.count, "batch", "batches")) old enough to prune:")
            for kept in s.kept { lines.append("  batch \(kept.batch.id) \(kept.batch.path): \(kept.reason)") }
        }
        if !dryRun, !s.batches.isEmpty || s.breaks > 0 {
            lines.append(vacuumed ? "the file was rewritten without its free pages (--vacuum)"
                                  : "the file keeps its size: SQLite reuses the freed pages for the next nights (--vacuum shrinks it now)")
        }
        return lines.joined(separator: "\n")
    }
}
