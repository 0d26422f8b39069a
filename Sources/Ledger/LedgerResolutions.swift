import Foundation
import GRDB

/// What a person decided for a `needs_review` row (`cashier-batch resolve`).
public enum ResolveAction: String, Sendable, CaseIterable {
    /// This deposit request is the row's: the row is done with it.
    case adopt
    /// None of the listed ones is the row's: the next `retry` sends a new one.
    case resend
}

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
}

extension Ledger {
    /// Closes a `needs_review` row of run `runID`'s batches: `adopt` makes it `done` with
    /// `depositRequestID`, `resend` returns it to `cashier_created` for the next `retry`. The
    /// decision and the row's move are one transaction.
    public func resolve(rowID: Int64, runID: Int64, action: ResolveAction, depositRequestID: String?) throws -> ResolutionRecord {
        let at = now()
        return try pool.write { db in
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
            switch action {
            case .adopt:
                try Self.transition(db, rowID: rowID, to: .done, cashierID: nil, depositRequestID: depositRequestID,
                                    reasonsJSON: "[]", at: at)
            case .resend:
                try Self.transition(db, rowID: rowID, to: .cashierCreated, cashierID: nil, depositRequestID: nil,
                                    reasonsJSON: "[]", at: at)
            }
            try db.execute(sql: """
                INSERT INTO resolutions (row_id, run_id, action, deposit_request_id, resolved_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [rowID, runID, action.rawValue, depositRequestID, LedgerTimestamp.text(at)])
            return ResolutionRecord(id: db.lastInsertedRowID, rowID: rowID, runID: runID, action: action,
                                    depositRequestID: depositRequestID, resolvedAt: at)
        }
    }

    /// Every decision recorded for a row, oldest first.
    public func resolutions(rowID: Int64) throws -> [ResolutionRecord] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM resolutions WHERE row_id = ? ORDER BY id", arguments: [rowID])
            return try rows.map { row -> ResolutionRecord in
                let action: ResolveAction = try decodeEnum(row["action"] as String)
                let resolvedAt: Date = row["resolved_at"]
                return ResolutionRecord(id: row["id"], rowID: row["row_id"], runID: row["run_id"], action: action,
                                        depositRequestID: row["deposit_request_id"], resolvedAt: resolvedAt)
            }
        }
    }
}
