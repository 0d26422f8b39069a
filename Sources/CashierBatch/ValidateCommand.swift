import ArgumentParser
import BatchInput
import BatchRun
import Gateway
import Ledger
import CashierModel

/// `cashier-batch validate FILE…`: parse and validate only; send nothing, write nothing
/// unless `--db` is given. Exit 0 when every row is valid, 3 when rows are rejected,
/// 65 when a file is unusable (unreadable, corrupt gzip, bad header, control totals).
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Parse and validate batch files; send nothing.",
        discussion: """
            Prints each rejection as FILE:LINE: FIELD: REASON and a summary per file \
            (rows read, valid, rejected, exact per-currency totals, control manifest verdict). \
            Exit 0: every row valid; 3: some rows rejected; 65: a file is unusable; 64: usage.
            """
    )

    @Argument(help: "Batch files: CSV or JSON Lines, plain or gzip-compressed.")
    var files: [String]

    @Flag(help: "Print one JSON object per row ({line, valid, errors, cashier, depositRequest}) instead of text; the summary goes to stderr.")
    var json = false

    @Option(help: "Also stage the batches into this SQLite ledger (created if absent).")
    var db: String?

    @OptionGroup var stream: StreamCapOption

    /// The options recorded with the run (no secrets exist on this command).
    var optionsJSON: String {
        var w = JSONWriter()
        w.beginObject()
        w.beginArray("files"); for file in files { w.string(nil, file) }; w.endArray()
        w.bool("json", json)
        if stream.cap != .default { w.int("maxStreamBytes", Int(stream.cap.bytes)) }
        w.endObject()
        return w.text
    }

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one batch file") }
    }

    func run() async throws {
        let out = OutputStream.standardOutput()
        let err = OutputStream.standardError()
        var worst = RunVerdict.clean
        // Every input is opened (once) first: a path that cannot be opened is reported, and
        // with --db nothing is staged until every path opens.
        var inputs: [BatchFile] = []
        for path in files {
            do { inputs.append(try BatchFile(path: path, streamCap: stream.cap)) } catch {
                err.line("error: cannot open batch \(path): \(error.detail); check the path")
                worst = max(worst, .noInput)
            }
        }
        if let db {
            if worst == .noInput {
                err.flush()
                throw worst.exitCode
            }
            // The same session as the sending commands: the lock, a checked ledger, a run record.
            let session = CommandSession(ledgerPath: db, command: "validate", optionsJSON: optionsJSON) { event in
                err.line("error: \(event.message)")
                err.flush()
            }
            let end = try await session.perform(control: RunControl(), { ledger, runID in
                try scan(inputs, stager: BatchStager(ledger: ledger, runID: runID), out: out, err: err)
            }, verdict: { $0 })
            switch end {
            case let .completed(_, verdict): worst = max(worst, verdict)
            case let .failed(_, verdict): worst = max(worst, verdict)
            }
        } else {
            worst = max(worst, try scan(inputs, stager: nil, out: out, err: err))
        }
        out.flush()
        err.flush()
        if worst != .clean { throw worst.exitCode }
    }

    /// Validates (and with a stager, stages) every input; the worst verdict of them.
    private func scan(_ inputs: [BatchFile], stager: BatchStager?, out: OutputStream, err: OutputStream) throws -> RunVerdict {
        var worst = RunVerdict.clean
        for file in inputs {
            let path = file.path
            do {
                let staging = try stager?.beginBatch(file)
                let summary: BatchSummary
                if json || staging != nil {
                    // Every row typed: the JSON output and the ledger need the row itself.
                    let scanRows = { (add: (RawRecord, RowVerdict) throws -> Void) throws -> BatchSummary in
                        try BatchScan.scan(file) { record, verdict in
                            try add(record, verdict)
                            if json {
                                out.line(ValidateOutput.json(path: path, verdict: verdict))
                            } else if case let .rejected(line, issues) = verdict {
                                for issue in issues { out.line("\(path):\(line): \(issue.field): \(issue.message)") }
                            }
                        }
                    }
                    summary = try staging.map { try $0.stage(scanRows) } ?? scanRows { _, _ in }
                } else {
                    // Plain mode needs only counts, totals and the rejections: the byte-level path.
                    summary = try BatchScan.scanRejections(file) { line, issues in
                        for issue in issues { out.line("\(path):\(line): \(issue.field): \(issue.message)") }
                    }
                }
                let lines = ValidateOutput.summary(summary)
                for line in lines {
                    if json { err.line(line) } else { out.line(line) }
                }
                if let control = summary.control, !control.matched {
                    worst = max(worst, .badBatch)
                } else if summary.rejected > 0 {
                    worst = max(worst, .rowsRejectedOrFailed)
                }
            } catch let error as BatchError {
                out.flush()
                err.line("error: \(error)")
                err.flush()
                worst = max(worst, .badBatch)
            }
        }
        return worst
    }
}

/// Text and JSON renderings of validation results.
enum ValidateOutput {
    static func json(path: String, verdict: RowVerdict) -> String {
        var w = JSONWriter()
        w.beginObject()
        switch verdict {
        case let .valid(row):
            w.int("line", row.line)
            w.bool("valid", true)
            w.beginArray("errors"); w.endArray()
            w.beginObject("cashier"); w.cashierMembers(row.cashier, money: .string); w.endObject()
            w.beginObject("depositRequest"); w.depositMembers(row.deposit, for: row.cashier, money: .string); w.endObject()
        case let .rejected(line, issues):
            w.int("line", line)
            w.bool("valid", false)
            w.beginArray("errors")
            for issue in issues {
                w.beginObject(); w.string("field", issue.field); w.string("message", issue.message); w.endObject()
            }
            w.endArray()
        }
        w.endObject()
        return w.text
    }

    static func summary(_ s: BatchSummary) -> [String] {
        var lines = ["\(s.path) (\(s.format)): \(s.rowsRead) rows read, \(s.valid) valid, \(s.rejected) rejected"]
        for code in s.validTotals.byCurrency.keys.sorted() {
            let t = s.validTotals.byCurrency[code]!
            lines.append("  \(code): \(t.rows) valid rows, balance \(t.text(.balance)), bonusBalance \(t.text(.bonusBalance)), pendingPayoutTotal \(t.text(.pendingPayoutTotal))")
        }
        if let control = s.control {
            if control.matched {
                lines.append("  control manifest \(control.manifestPath): matched")
            } else {
                lines.append("  control manifest \(control.manifestPath): MISMATCH — the batch is refused")
                for difference in control.differences { lines.append("    \(difference)") }
            }
        }
        return lines
    }
}
