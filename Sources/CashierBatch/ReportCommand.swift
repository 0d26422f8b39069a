import ArgumentParser
import BatchRun
import Foundation
import Ledger
import Reports

/// `cashier-batch report`: (re)writes the reports of a run from the ledger.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the reports of a run (default: the last) from the ledger: report.html, summary.md, report.json, rejects.csv, metrics.prom.",
        discussion: """
            Nothing is sent and nothing is written to the ledger. The directory is created 0700 and \
            every file 0600 (they hold customer ids); each file is replaced atomically. \
            Totals are recomputed from the figures recorded in the ledger; breaks are the ones recorded for the run.
            """
    )

    @Option(name: .customLong("run"), help: "The run to report on (see `runs`); default the last run.")
    var runID: Int64?

    @Option(help: "Comma-separated formats among html, md, json, csv, prom.")
    var format: String = "html,md,json,csv,prom"

    @Option(help: "The directory to write the reports into.")
    var out: String = "reports"

    @Option(help: "The SQLite ledger file.")
    var db: String = "cashier-batch.sqlite"

    func validate() throws {
        do { _ = try ReportFormat.parseList(format) } catch { throw ValidationError("--format: \(error)") }
        if (try? ReportFormat.parseList(format))?.isEmpty ?? true { throw ValidationError("--format: give at least one format") }
    }

    func run() throws {
        let formats = try ReportFormat.parseList(format)
        let ledger = try openLedger(db, access: .read)
        do {
            let data = try readingLedger(db) { try ReportBuilder(ledger: ledger).build(runID: runID) }
            for path in try ReportWriter(directory: out).write(data, formats: formats) { print(path) }
            FileHandle.standardError.write(Data((data.verdict.text + "\n").utf8))
        } catch let error as ReportError {
            switch error {
            case .noSuchRun:
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw RunVerdict.usage.exitCode
            case let .write(path, reason):
                FileHandle.standardError.write(Data("error: the reports could not be written to \(out) (\(path): \(reason)): make it a writable directory or give --out another\n".utf8))
                throw RunVerdict.ledgerUnusable.exitCode
            case .unknownFormat:
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw RunVerdict.usage.exitCode
            }
        }
    }
}
