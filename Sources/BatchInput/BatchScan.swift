import CashierModel

/// What one pass over a batch found: counts, exact per-currency totals, and the
/// control manifest's verdict when there is one.
public struct BatchSummary: Sendable {
    public var path: String
    public var format: BatchFormat
    public var rowsRead = 0
    public var valid = 0
    public var rejected = 0
    /// Totals of the valid rows (what would be sent).
    public var validTotals = CurrencyTotals()
    /// Totals of every record whose currency and figures could be read (what the control manifest states).
    public var fileTotals = CurrencyTotals()
    public var control: ControlCheck?
}

/// Reads and validates a batch in one streaming pass: each record is judged (with
/// the batch-wide duplicate rule) and handed to `body` with its verdict.
public enum BatchScan {
    /// Throws `BatchError` when the file is unusable; a control-manifest mismatch is
    /// not thrown but returned in `summary.control` (the caller decides to refuse the batch).
    ///
    /// Every row is built as a `RawRecord` and a typed verdict (for `--json`, `--db` and
    /// sending). When only the rejections are needed, `scanRejections` is much faster.
    public static func scan(path: String, body: (RawRecord, RowVerdict) throws -> Void) throws -> BatchSummary {
        try scan(BatchFile(path: path), body: body)
    }

    /// ``scan(path:body:)`` over a file already opened (the same open the ledger hashed).
    public static func scan(_ file: BatchFile, body: (RawRecord, RowVerdict) throws -> Void) throws -> BatchSummary {
        let path = file.path
        let manifest = try ControlManifest.load(forBatchAt: path)  // a malformed manifest fails first
        let reader = try BatchReader(file: file)
        var summary = BatchSummary(path: path, format: reader.format)
        var validator = BatchValidator()
        try reader.forEachByteRecord { bytes in
            let record = bytes.rawRecord()
            summary.rowsRead += 1
            let verdict = validator.judge(record)
            switch verdict {
            case let .valid(row):
                summary.valid += 1
                summary.validTotals.add(row)
                summary.fileTotals.add(row)
            case .rejected:
                summary.rejected += 1
                if manifest != nil { addReadableFigures(record, to: &summary.fileTotals) }
            }
            try body(record, verdict)
        }
        if let manifest {
            summary.control = manifest.check(rowsRead: summary.rowsRead, totals: summary.fileTotals)
        }
        return summary
    }

    /// The same pass and the same summary as `scan`, reporting only the rejected rows
    /// (line and every issue, the same as `scan`'s verdicts). Valid rows are decided on
    /// the bytes (`RowValidator.quickCheck`) and counted, deduplicated and totalled
    /// without making a String; any other row takes `scan`'s path.
    public static func scanRejections(path: String, rejected: (_ line: Int, _ issues: [FieldIssue]) throws -> Void) throws -> BatchSummary {
        try scanRejections(BatchFile(path: path), rejected: rejected)
    }

    /// ``scanRejections(path:rejected:)`` over a file already opened.
    public static func scanRejections(_ file: BatchFile, rejected: (_ line: Int, _ issues: [FieldIssue]) throws -> Void) throws -> BatchSummary {
        let path = file.path
        let manifest = try ControlManifest.load(forBatchAt: path)
        let reader = try BatchReader(file: file)
        var summary = BatchSummary(path: path, format: reader.format)
        var validator = BatchValidator()
        let rows = RowValidator()
        let hasManifest = manifest != nil
        try reader.forEachByteRecord { record in
            summary.rowsRead += 1
            if let quick = rows.quickCheck(record) {
                let duplicate = validator.duplicate(
                    websiteId: record.bytes(record.spans[Field.websiteId.rawValue]),
                    customerId: record.bytes(record.spans[Field.customerId.rawValue]),
                    currency: record.bytes(record.spans[Field.currency.rawValue]), line: record.line)
                if let duplicate {
                    summary.rejected += 1
                    if hasManifest {
                        summary.fileTotals.add(slot: quick.currencySlot, balance: quick.balance,
                                               bonusBalance: quick.bonusBalance, pendingPayoutTotal: quick.pendingPayoutTotal)
                    }
                    try rejected(record.line, [duplicate])
                } else {
                    summary.valid += 1
                    summary.validTotals.add(slot: quick.currencySlot, balance: quick.balance,
                                            bonusBalance: quick.bonusBalance, pendingPayoutTotal: quick.pendingPayoutTotal)
                    summary.fileTotals.add(slot: quick.currencySlot, balance: quick.balance,
                                           bonusBalance: quick.bonusBalance, pendingPayoutTotal: quick.pendingPayoutTotal)
                }
                return
            }
            let raw = record.rawRecord()
            switch validator.judge(raw) {
            case let .valid(row):
                summary.valid += 1
                summary.validTotals.add(row)
                summary.fileTotals.add(row)
            case let .rejected(line, issues):
                summary.rejected += 1
                if hasManifest { addReadableFigures(raw, to: &summary.fileTotals) }
                try rejected(line, issues)
            }
        }
        if let manifest {
            summary.control = manifest.check(rowsRead: summary.rowsRead, totals: summary.fileTotals)
        }
        return summary
    }

    /// A rejected row still counts toward the control totals when its currency and figures read cleanly.
    static func addReadableFigures(_ record: RawRecord, to totals: inout CurrencyTotals) {
        guard case let .text(code)? = record[.currency], let currency = Currency(code: code) else { return }
        func figure(_ field: Field) -> Amount? {
            guard let text = record[field]?.scalarText else { return nil }
            return try? Amount.parse(text[...], exponent: currency.exponent).get()
        }
        totals.add(currency: currency, balance: figure(.balance), bonusBalance: figure(.bonusBalance),
                   pendingPayoutTotal: figure(.pendingPayoutTotal))
    }
}
