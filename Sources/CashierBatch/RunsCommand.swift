import ArgumentParser
import CashierModel
import Foundation
import Ledger

/// `cashier-batch runs`: run history from the ledger.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the run history recorded in the ledger.")

    @Option(help: "The SQLite ledger file.")
    var db: String = "cashier-batch.sqlite"

    @Option(help: "How many runs, newest first.")
    var limit: Int = 20

    @Flag(help: "One JSON object per run instead of a table.")
    var json = false

    func run() throws {
        let ledger = try openLedger(db, access: .read)
        try readingLedger(db) { try list(ledger) }
    }

    private func list(_ ledger: Ledger) throws {
        let formatter = ISO8601DateFormatter()
        if !json { Terminal.out("id  command   started               seconds  exit  status       rows by state") }
        for run in try ledger.runs(limit: limit) {
            var counts: [RowState: Int] = [:]
            for batch in try ledger.batches(runID: run.id) {
                for (state, count) in try ledger.countsByState(batchID: batch.id) { counts[state, default: 0] += count }
            }
            let seconds = run.finishedAt.map { String(format: "%.1f", $0.timeIntervalSince(run.startedAt)) } ?? "-"
            let states = RowState.allCases.filter { (counts[$0] ?? 0) > 0 }
            if json {
                var w = JSONWriter()
                w.beginObject()
                w.int("id", Int(run.id)); w.string("command", run.command)
                w.string("started", formatter.string(from: run.startedAt))
                if let finished = run.finishedAt { w.string("finished", formatter.string(from: finished)) }
                if let code = run.exitCode { w.int("exitCode", Int(code)) } else { w.null("exitCode") }
                w.string("status", run.status.rawValue)
                w.beginObject("rows"); for state in states { w.int(state.rawValue, counts[state] ?? 0) }; w.endObject()
                w.endObject()
                Terminal.out(w.text)
            } else {
                let rows = states.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }.joined(separator: " ")
                let exit = run.exitCode.map(String.init) ?? "-"
                Terminal.out("\(pad(String(run.id), 3)) \(pad(run.command, 9)) \(pad(formatter.string(from: run.startedAt), 21)) \(pad(seconds, 8)) \(pad(exit, 5)) \(pad(run.status.rawValue, 12)) \(rows)")
            }
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
