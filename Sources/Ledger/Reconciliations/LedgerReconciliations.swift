import CashierModel
import Foundation
import GRDB

/// The reconciliation of each run, recorded once (`reconciliations`, `reconciliation_totals`,
/// `breaks`), and read back whole by every report of the run.
extension Ledger {
    /// Records `report` as its run's reconciliation, in one transaction: its breaks (with the
    /// acceptance covering each), its totals per website, currency and figure, its counts,
    /// accounting, deposit checks and unread cashiers; ends the acceptances whose difference
    /// changed; adds it to the history (`reconciliation_log`) under the run that made it. A later
    /// reconciliation of the same run (`reconcile --run ID`) replaces the record, not the history.
    /// - Returns: The ids the breaks were recorded under, in the order of `report.breaks`.
    @discardableResult
    public func recordReconciliation(_ report: ReconciliationReport) throws -> [Int64] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let counts = try json(report.counts), accounting = try json(report.accounting), unread = try json(report.unread)
        let deposits = try report.depositChecks.map(json)
        return try pool.write { db in
            let runID = report.runID
            for sql in ReconciliationSQL.deleteOfRun { try db.cachedStatement(sql: sql).execute(arguments: [runID]) }
            try db.cachedStatement(sql: ReconciliationSQL.insert).execute(arguments: [
                runID, report.method.rawValue, report.reconciledAt, report.baselineRunID, counts, deposits, accounting, unread,
                report.madeByRunID,
            ])
            try db.cachedStatement(sql: ReconciliationSQL.insertLog).execute(arguments: [
                report.madeByRunID, runID, report.method.rawValue, report.reconciledAt, counts, deposits,
                report.breaks.count(where: \.isAccepted), report.unread.count,
            ])
            let end = try db.cachedStatement(sql: AcceptanceSQL.end)
            for id in report.endedAcceptances {
                try end.execute(arguments: [LedgerTimestamp.text(report.reconciledAt), "changed", "reconciliation", report.madeByRunID, id])
            }
            let total = try db.cachedStatement(sql: ReconciliationSQL.insertTotals)
            for t in report.totals {
                for f in t.figures {
                    try total.execute(arguments: [
                        runID, t.websiteID, t.currency, t.exponent, t.inputRows, t.sentRows, t.comparedCashiers, f.figure.rawValue,
                        String(f.inputMinor), String(f.sentMinor), f.rebillyMinor.map(String.init), f.netDifferenceMinor.map(String.init),
                        f.grossDifferenceMinor.map(String.init), f.openingDifferenceMinor.map(String.init),
                        f.openingDifferences, t.openingCashiers,
                    ])
                }
            }
            let statement = try db.cachedStatement(sql: ReconciliationSQL.insertBreak)
            var ids: [Int64] = []
            ids.reserveCapacity(report.breaks.count)
            for b in report.breaks {
                try statement.execute(arguments: [
                    runID, b.websiteID, b.customerID, b.currency, b.field.rawValue, b.expectedMinor, b.actualMinor,
                    b.exponent, b.lifecycle.rawValue, b.firstSeenRunID, b.firstSeenAt, report.reconciledAt, b.rowID, b.detail,
                    b.priority == .high, b.source?.rawValue, b.actualText, b.cashierID, b.timesSeen, b.rechecked, b.opening,
                    b.canWithdraw, b.acceptance?.id,
                ])
                ids.append(db.lastInsertedRowID)
            }
            return ids
        }
    }

    /// The reconciliation recorded for run `runID`, with its breaks in the order recorded; nil
    /// when none was (the run never reconciled, or did before the ledger recorded reconciliations).
    public func reconciliation(runID: Int64) throws -> ReconciliationReport? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: ReconciliationSQL.ofRun), arguments: [runID]) else { return nil }
            let decoder = JSONDecoder()
            func decode<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
                let text: String = row[column]
                return try decoder.decode(type, from: Data(text.utf8))
            }
            let depositText: String? = try row.decode(forColumn: "deposit_checks_json")
            var report = ReconciliationReport(
                runID: runID, method: try decodeEnum(try row.decode(forColumn: "method"), table: "reconciliations"), reconciledAt: try row.decode(forColumn: "reconciled_at"),
                baselineRunID: try row.decode(forColumn: "baseline_run_id"), breaks: try Break.fetchAll(db.cachedStatement(sql: ReconciliationSQL.breaksOfRun), arguments: [runID]),
                totals: try Self.totals(db, runID: runID), accounting: try decode([BatchAccountingCheck].self, "accounting_json"),
                depositChecks: try depositText.map { try decoder.decode(DepositRequestChecks.self, from: Data($0.utf8)) },
                counts: try decode(ReconciliationCounts.self, "counts_json"))
            report.unread = try decode([UnreadCashier].self, "unread_json")
            report.madeByRunID = try row.decode(forColumn: "made_by_run_id") ?? runID
            return report
        }
    }

    /// The history of run `runID`'s reconciliations, oldest first (each kept by the run that made it).
    public func reconciliationLog(runID: Int64) throws -> [ReconciliationLogEntry] {
        try pool.read { db in try Row.fetchAll(db.cachedStatement(sql: ReconciliationSQL.logOfRun), arguments: [runID]).map(Self.logEntry) }
    }

    /// The reconciliation made by run `madeBy` (a `reconcile`), from the history; nil when it made none.
    public func reconciliationLogEntry(madeBy runID: Int64) throws -> ReconciliationLogEntry? {
        try pool.read { db in try Row.fetchOne(db.cachedStatement(sql: ReconciliationSQL.logMadeBy), arguments: [runID]).map(Self.logEntry) }
    }

    static func logEntry(_ row: Row) throws -> ReconciliationLogEntry {
        let decoder = JSONDecoder()
        let counts: String = try row.decode(forColumn: "counts_json"), deposits: String? = try row.decode(forColumn: "deposit_checks_json")
        return ReconciliationLogEntry(
            madeByRunID: try row.decode(forColumn: "made_by_run_id"), runID: try row.decode(forColumn: "run_id"),
            method: try decodeEnum(try row.decode(forColumn: "method"), table: "reconciliation_log"),
            reconciledAt: try row.decode(forColumn: "reconciled_at"),
            counts: try decoder.decode(ReconciliationCounts.self, from: Data(counts.utf8)),
            depositChecks: try deposits.map { try decoder.decode(DepositRequestChecks.self, from: Data($0.utf8)) },
            accepted: try row.decode(forColumn: "accepted"), unread: try row.decode(forColumn: "unread"))
    }

    /// The breaks recorded for run `runID`, in the order recorded (also for a run reconciled
    /// before the ledger recorded whole reconciliations).
    public func breaks(runID: Int64) throws -> [Break] {
        try pool.read { db in try Break.fetchAll(db.cachedStatement(sql: ReconciliationSQL.breaksOfRun), arguments: [runID]) }
    }

    /// When the breaks of run `runID` were recorded; nil when it recorded none.
    public func breaksRecordedAt(runID: Int64) throws -> Date? {
        try pool.read { db in try Date.fetchOne(db.cachedStatement(sql: ReconciliationSQL.breaksRecordedAt), arguments: [runID]) }
    }

    /// The lifecycle's baseline for run `runID`: the most recent earlier run that recorded
    /// breaks, and those breaks in the order recorded; nil when there is none.
    public func baseline(beforeRunID runID: Int64) throws -> (runID: Int64, breaks: [Break])? {
        try pool.read { db in
            guard let previous = try Int64.fetchOne(db.cachedStatement(sql: ReconciliationSQL.baselineRun), arguments: [runID])
            else { return nil }
            return (previous, try Break.fetchAll(db.cachedStatement(sql: ReconciliationSQL.breaksOfRun), arguments: [previous]))
        }
    }

    static func totals(_ db: Database, runID: Int64) throws -> [ReconciliationTotals] {
        var totals: [ReconciliationTotals] = []
        for row in try Row.fetchAll(db.cachedStatement(sql: ReconciliationSQL.totalsOfRun), arguments: [runID]) {
            let website: String = try row.decode(forColumn: "website_id"), currency: String = try row.decode(forColumn: "currency"), exponent: Int = try row.decode(forColumn: "exponent")
            func minor(_ column: String) throws -> Int128? {
                guard let text: String = row[column] else { return nil }
                guard let value = Int128(text) else { throw StoredValueError(table: "reconciliation_totals", detail: "\(column) is not an integer: '\(text)'") }
                return value
            }
            let figure = FigureTotals(
                figure: try decodeEnum(try row.decode(forColumn: "figure"), table: "reconciliation_totals"), exponent: exponent, inputMinor: try minor("input_minor") ?? 0,
                sentMinor: try minor("sent_minor") ?? 0, rebillyMinor: try minor("rebilly_minor"),
                netDifferenceMinor: try minor("net_minor"), grossDifferenceMinor: try minor("gross_minor"),
                openingDifferenceMinor: try minor("opening_minor"), openingDifferences: try row.decode(forColumn: "opening_count"))
            if let last = totals.last, last.websiteID == website, last.currency == currency {
                totals[totals.count - 1].figures.append(figure)
            } else {
                totals.append(ReconciliationTotals(
                    websiteID: website, currency: currency, exponent: exponent, inputRows: try row.decode(forColumn: "input_rows"),
                    sentRows: try row.decode(forColumn: "sent_rows"), comparedCashiers: try row.decode(forColumn: "compared_cashiers"), figures: [figure],
                    openingCashiers: try row.decode(forColumn: "opening_cashiers")))
            }
        }
        return totals.sorted { ($0.websiteID, $0.currency) < ($1.websiteID, $1.currency) }
    }
}

extension Break: FetchableRecord {
    /// A `breaks` row, with its acceptance's columns (prefixed `a_`) when the query joins them.
    public init(row: Row) throws {
        let source: String? = try row.decode(forColumn: "source")
        let canWithdraw: Int64? = try row.decode(forColumn: "can_withdraw")
        self.init(
            websiteID: try row.decode(forColumn: "website_id"), customerID: try row.decode(forColumn: "customer_id"), currency: try row.decode(forColumn: "currency"), exponent: try row.decode(forColumn: "exponent"),
            field: try decodeEnum(try row.decode(forColumn: "field"), table: "breaks"), lifecycle: try decodeEnum(try row.decode(forColumn: "lifecycle"), table: "breaks"),
            expectedMinor: try row.decode(forColumn: "expected_minor"), actualMinor: try row.decode(forColumn: "actual_minor"), actualText: try row.decode(forColumn: "actual_text"),
            firstSeenRunID: try row.decode(forColumn: "first_seen_run_id"), firstSeenAt: try row.decode(forColumn: "first_seen_at"), timesSeen: try row.decode(forColumn: "times_seen"),
            rechecked: try row.decode(forColumn: "rechecked"), source: try source.map { try decodeEnum($0, table: "breaks") }, rowID: try row.decode(forColumn: "row_id"),
            cashierID: try row.decode(forColumn: "cashier_id"), detail: try row.decode(forColumn: "detail"), opening: try row.decode(forColumn: "opening"), canWithdraw: canWithdraw.map { $0 != 0 })
        id = try row.decode(forColumn: "id")
        runID = try row.decode(forColumn: "run_id")
        if let acceptanceID: Int64 = row["a_id"] {
            acceptance = Acceptance(
                id: acceptanceID, websiteID: websiteID, customerID: customerID, currency: currency, field: field,
                exponent: try row.decode(forColumn: "a_exponent"), differenceMinor: try row.decode(forColumn: "a_difference_minor"),
                breakID: try row.decode(forColumn: "a_break_id"), runID: try row.decode(forColumn: "a_run_id"),
                acceptedBy: try row.decode(forColumn: "a_accepted_by"), acceptedAt: try row.decode(forColumn: "a_accepted_at"),
                reason: try row.decode(forColumn: "a_reason"))
        }
    }
}

/// The SQL of the reconciliation record, with bound arguments.
enum ReconciliationSQL {
    /// A run's earlier reconciliation, replaced by a new one (totals go with their record).
    static let deleteOfRun = [
        "DELETE FROM breaks WHERE run_id = ?",
        "DELETE FROM reconciliation_totals WHERE run_id = ?",
        "DELETE FROM reconciliations WHERE run_id = ?",
    ]
    static let insert = """
        INSERT INTO reconciliations (run_id, method, reconciled_at, baseline_run_id, counts_json, deposit_checks_json,
                                     accounting_json, unread_json, made_by_run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let insertLog = """
        INSERT OR REPLACE INTO reconciliation_log (made_by_run_id, run_id, method, reconciled_at, counts_json, deposit_checks_json,
                                                   accepted, unread)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let insertTotals = """
        INSERT INTO reconciliation_totals (run_id, website_id, currency, exponent, input_rows, sent_rows, compared_cashiers,
                                           figure, input_minor, sent_minor, rebilly_minor, net_minor, gross_minor, opening_minor,
                                           opening_count, opening_cashiers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let insertBreak = """
        INSERT INTO breaks (run_id, website_id, customer_id, currency, field, expected_minor,
                            actual_minor, exponent, lifecycle, first_seen_run_id, first_seen_at,
                            created_at, row_id, detail,
                            high_priority, source, actual_text, cashier_id, times_seen, rechecked, opening, can_withdraw,
                            acceptance_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let ofRun = "SELECT * FROM reconciliations WHERE run_id = ?"
    static let logOfRun = "SELECT * FROM reconciliation_log WHERE run_id = ? ORDER BY made_by_run_id"
    static let logMadeBy = "SELECT * FROM reconciliation_log WHERE made_by_run_id = ?"
    /// In figure order (balance, bonusBalance, pendingPayoutTotal) within each website and currency.
    static let totalsOfRun = """
        SELECT * FROM reconciliation_totals WHERE run_id = ?
        ORDER BY website_id, currency,
                 CASE figure WHEN 'balance' THEN 0 WHEN 'bonusBalance' THEN 1 ELSE 2 END
        """
    /// A break with the acceptance that covered it (columns `a_…`).
    static let breakWithAcceptance = """
        SELECT b.*, a.id AS a_id, a.exponent AS a_exponent, a.difference_minor AS a_difference_minor, a.break_id AS a_break_id,
               a.run_id AS a_run_id, a.accepted_by AS a_accepted_by, a.accepted_at AS a_accepted_at, a.reason AS a_reason
        FROM breaks b LEFT JOIN acceptances a ON a.id = b.acceptance_id
        """
    static let breaksOfRun = breakWithAcceptance + " WHERE b.run_id = ? ORDER BY b.id"
    static let breakByID = breakWithAcceptance + " WHERE b.id = ?"
    static let breaksRecordedAt = "SELECT max(created_at) FROM breaks WHERE run_id = ?"
    static let baselineRun = "SELECT max(run_id) FROM breaks WHERE run_id < ?"
}
