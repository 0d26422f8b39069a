import CashierModel
import Foundation
import GRDB

/// One recorded decision (`resolutions`).
public struct ResolutionRecord: Sendable, Equatable {
    public var id: Int64
    public var rowID: Int64
    public var runID: Int64
    public var action: ResolveAction
    public var depositRequestID: String?
    public var resolvedAt: Date
}

/// Why a `resolve` was refused; nothing was written.
public struct ResolveRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }

    /// One deposit request closes one row at most.
    static func held(_ id: String, by row: Int64) -> ResolveRefusal {
        ResolveRefusal(description: "deposit request \(id) is row \(row)'s already: one deposit request closes one row")
    }
}

/// A `needs_review` row as `resolve` weighs it: the row, the deposit requests it was put in
/// review for, and when its deposit POSTs were sent (they set the expirationTime it sent).
public struct ReviewCase: Sendable {
    public var row: RowRecord
    public var candidates: [String]
    public var depositPosts: [Date]
}

extension Ledger {
    /// Row `rowID` of run `runID`'s batches, if it is `needs_review` and `adopting` (the deposit
    /// request to adopt, if any) is no other row's; otherwise the refusal.
    public func reviewCase(rowID: Int64, runID: Int64, adopting: String?) throws -> ReviewCase {
        try pool.read { db in
            let row = try Self.reviewableRow(db, rowID: rowID, runID: runID)
            if let id = adopting { try Self.refuseIfHeld(db, id, rowID: rowID) }
            let candidates = try String.fetchAll(db, sql: LedgerSQL.reviewCandidatesOfRow, arguments: [rowID])
            let posts = try AttemptRecord.fetchAll(db.cachedStatement(sql: LedgerSQL.attemptsOfRow), arguments: [rowID]).filter { $0.operation == .createDepositRequest }.map(\.requestedAt).sorted()
            return ReviewCase(row: row, candidates: candidates, depositPosts: posts)
        }
    }

    /// Closes a `needs_review` row of run `runID`'s batches: `adopt` makes it `done` with
    /// `depositRequestID`, `resend` returns it to `cashier_created` for the next `retry`. The
    /// decision and the row's move are one transaction. A deposit request is adopted only if it
    /// is one of the row's recorded candidates or `checkedWithRebilly` (Rebilly shows it with the
    /// row's exact fields), and only if no other row holds it.
    public func resolve(rowID: Int64, runID: Int64, action: ResolveAction, depositRequestID: String?,
                        checkedWithRebilly: Bool = false) throws -> ResolutionRecord {
        let at = now()
        return try pool.write { db in
            let row = try Self.reviewableRow(db, rowID: rowID, runID: runID)
            guard let target = RowLifecycle.resolved(row.state, by: action) else {
                throw ResolveRefusal(description: "row \(rowID) is \(row.state.rawValue), not needs_review: there is nothing to resolve")
            }
            switch action {
            case .adopt:
                guard let id = depositRequestID else { throw ResolveRefusal(description: "--adopt needs a deposit request id") }
                try Self.refuseIfHeld(db, id, rowID: rowID)
                let candidates = try String.fetchAll(db, sql: LedgerSQL.reviewCandidatesOfRow, arguments: [rowID])
                guard candidates.contains(id) || checkedWithRebilly else {
                    throw ResolveRefusal(description: "deposit request \(id) is not one of row \(rowID)'s candidates"
                        + (candidates.isEmpty ? "" : " (\(candidates.joined(separator: ", ")))") + " and was not checked with Rebilly")
                }
                try Self.transition(db, rowID: rowID, to: target, cashierID: nil, depositRequestID: id, reasonsJSON: "[]", at: at)
            case .resend:
                try Self.transition(db, rowID: rowID, to: target, cashierID: nil, depositRequestID: nil,
                                    reasonsJSON: "[]", at: at)
            }
            try db.execute(sql: """
                INSERT INTO resolutions (row_id, run_id, action, deposit_request_id, resolved_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [rowID, runID, action.rawValue, depositRequestID, LedgerTimestamp.text(at)])
            return ResolutionRecord(id: db.lastInsertedRowID, rowID: rowID, runID: runID, action: action,
                                    depositRequestID: depositRequestID, resolvedAt: at)
        }
    }

    /// Refuses a deposit request another row than `rowID` holds.
    static func refuseIfHeld(_ db: Database, _ id: String, rowID: Int64) throws {
        if let other = try Int64.fetchOne(db, sql: LedgerSQL.rowsHoldingDepositRequest, arguments: [rowID, id]) {
            throw ResolveRefusal.held(id, by: other)
        }
    }

    /// The row, if it is a `needs_review` row of run `runID`'s batches; otherwise why not.
    static func reviewableRow(_ db: Database, rowID: Int64, runID: Int64) throws -> RowRecord {
        guard try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE id = ?", arguments: [runID]) != nil else {
            throw ResolveRefusal(description: "there is no run \(runID) in this ledger")
        }
        guard let row = try RowRecord.fetchOne(db.cachedStatement(sql: LedgerSQL.rowByID), arguments: [rowID]) else {
            throw ResolveRefusal(description: "there is no row \(rowID) in this ledger")
        }
        let inRun = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM run_batches WHERE run_id = ? AND batch_id = ?)",
                                      arguments: [runID, row.batchID]) ?? false
        guard inRun else { throw ResolveRefusal(description: "row \(rowID) is not a row of run \(runID)'s batches") }
        guard row.state == .needsReview else {
            throw ResolveRefusal(description: "row \(rowID) is \(row.state.rawValue), not needs_review: there is nothing to resolve")
        }
        return row
    }

    /// Every decision recorded for a row, oldest first.
    public func resolutions(rowID: Int64) throws -> [ResolutionRecord] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM resolutions WHERE row_id = ? ORDER BY id", arguments: [rowID])
            return try rows.map { row -> ResolutionRecord in
                let action: ResolveAction = try decodeEnum(try row.decode(forColumn: "action") as String, table: "resolutions")
                let resolvedAt: Date = try row.decode(forColumn: "resolved_at")
                return ResolutionRecord(id: try row.decode(forColumn: "id"), rowID: try row.decode(forColumn: "row_id"), runID: try row.decode(forColumn: "run_id"), action: action,
                                        depositRequestID: try row.decode(forColumn: "deposit_request_id"), resolvedAt: resolvedAt)
            }
        }
    }
}
