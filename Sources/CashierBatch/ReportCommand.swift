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
            The reconciliation shown is the one recorded for the run (its totals, breaks and checks, \
            as `run` or `reconcile` wrote them), with when it was made; a run that recorded none shows \
            totals computed from the ledger now and the breaks recorded for it.
            """
    )

    @Option(name: .customLong("run"), help: "The run to report on (see `runs`); default the last run.")
    var runID: Int64?

    @Option(help: "Comma-separated formats among html, md, json, csv, prom.")
    var format: String = "html,md,json,csv,prom"

    @Option(help: "The directory to write the reports into.")
    var out: String = "reports"

    @Option(help: "The SQLite ledger file (default: cashier-batch.sqlite).")
    var db: String?

    @Flag(help: ArgumentHelp(
        "Merge the ledgers of a night run as N shards (--shard i/N) into one report: a row per shard, counts, totals and breaks combined, the worst exit code as the verdict. Every shard 0…N-1 must be given once, with the same batches and no row twice.",
        discussion: "Give the ledgers, or directories holding them (DIR/*.sqlite and DIR/*/*.sqlite, e.g. shard-0/ledger.sqlite). They are opened read-only."))
    var merge = false

    @Argument(help: ArgumentHelp("With --merge: the shards' ledgers, or directories of them.", valueName: "ledger"))
    var ledgers: [String] = []

    func validate() throws {
        if merge {
            if ledgers.isEmpty { throw ValidationError("--merge needs the shards' ledgers (or their directory): cashier-batch report --merge shard-*/ledger.sqlite") }
            if runID != nil { throw ValidationError("--run cannot be given with --merge: each shard's last run is merged") }
            if db != nil { throw ValidationError("--db cannot be given with --merge: give the shards' ledgers as arguments") }
        } else if !ledgers.isEmpty {
            throw ValidationError("ledgers given as arguments are merged only with --merge (one ledger: --db \(ledgers[0]))")
        }
        do { _ = try ReportFormat.parseList(format) } catch { throw ValidationError("--format: \(error)") }
        if (try? ReportFormat.parseList(format))?.isEmpty ?? true { throw ValidationError("--format: give at least one format") }
    }

    func run() throws {
        let formats = try ReportFormat.parseList(format)
        let db = self.db ?? "cashier-batch.sqlite"
        do {
            let data: ReportData
            if merge {
                data = try mergedReport()
            } else {
                let ledger = try openLedger(db, access: .read)
                data = try readingLedger(db) { try ReportBuilder(ledger: ledger).build(runID: runID) }
            }
            for path in try ReportWriter(directory: out).write(data, formats: formats) { Terminal.out(path) }
            Terminal.err(data.verdict.text)
        } catch let error as ReportError {
            switch error {
            case .noSuchRun:
                Terminal.err("error: \(error)")
                throw RunVerdict.usage.exitCode
            case let .write(path, reason):
                Terminal.err("error: the reports could not be written to \(out) (\(path): \(reason)): make it a writable directory or give --out another")
                throw RunVerdict.ledgerUnusable.exitCode
            case .unknownFormat, .pruned:
                Terminal.err("error: \(error)")
                throw RunVerdict.usage.exitCode
            }
        } catch let error as ShardMergeError {
            Terminal.err("error: the shards cannot be merged: \(error.message)")
            throw RunVerdict.usage.exitCode
        }
    }

    /// `--merge`: every ledger opened read-only, then one report for all of them.
    private func mergedReport() throws -> ReportData {
        var paths: [String] = []
        for path in ledgers {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                Terminal.err("error: no ledger at \(path): give the shards' ledgers or the directory holding them")
                throw RunVerdict.noInput.exitCode
            }
            guard isDirectory.boolValue else { paths.append(path); continue }
            let found = Self.ledgers(in: path)
            guard !found.isEmpty else {
                Terminal.err("error: no ledger in \(path) (looked for \(path)/*.sqlite and \(path)/*/*.sqlite): give the shards' ledgers")
                throw RunVerdict.noInput.exitCode
            }
            paths += found
        }
        var shards: [ShardLedger] = []
        for path in paths {
            shards.append(ShardLedger(path: path, ledger: try openLedger(path, access: .read)))
        }
        return try readingLedger(paths.joined(separator: ", ")) { try ShardMerge().build(shards) }
    }

    /// DIR/*.sqlite and DIR/*/*.sqlite, sorted (a Kubernetes claim holds shard-k/ledger.sqlite).
    static func ledgers(in directory: String) -> [String] {
        let fm = FileManager.default
        var found: [String] = []
        let entries = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for name in entries where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                for inner in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() where inner.hasSuffix(".sqlite") && !inner.hasPrefix(".") {
                    found.append((path as NSString).appendingPathComponent(inner))
                }
            } else if name.hasSuffix(".sqlite") {
                found.append(path)
            }
        }
        return found
    }
}
