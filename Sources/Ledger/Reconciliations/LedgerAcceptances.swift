import CashierModel
import Foundation
import GRDB

/// Why `accept` refused: one sentence naming the break and what to do.
public struct AcceptRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

extension Ledger {
    /// Accepts break `breakID`: records who, when and why for its exact difference. Only an open
    /// drift break of a figure with a known difference, the latest recorded for its key, and not
    /// accepted already. Takes effect at the next reconciliation.
    public func accept(breakID: Int64, by person: String, reason: String) throws -> Acceptance {
        let at = now()
        return try pool.write { db in
            guard let found = try Self.breakRecord(db, id: breakID) else {
                throw AcceptRefusal(description: "there is no break \(breakID) in this ledger: take the id from report.json (`id`) or summary.md")
            }
            return try Self.accept(db, found, by: person, reason: reason, at: at)
        }
    }

    /// Accepts every open drift break of a figure recorded for run `runID` that is not accepted
    /// yet, in one transaction. Deposit-request breaks and unknown differences are left (counted in
    /// `skipped`), and so are the ones accepted already (`already`).
    public func acceptOpenDrift(runID: Int64, by person: String, reason: String) throws -> (accepted: [Acceptance], skipped: Int, already: Int) {
        let at = now()
        return try pool.write { db in
            let recorded = try Break.fetchAll(db.cachedStatement(sql: ReconciliationSQL.breaksOfRun), arguments: [runID])
            guard !recorded.isEmpty else {
                throw AcceptRefusal(description: "run \(runID) recorded no break: give --run the run whose reconciliation found them (report.json `run`)")
            }
            var accepted: [Acceptance] = [], skipped = 0, already = 0
            for b in recorded where b.isOpenDrift {
                guard b.field.figure != nil, b.differenceMinor != nil else { skipped += 1; continue }
                if try Acceptance.fetchOne(db.cachedStatement(sql: AcceptanceSQL.activeOfKey), arguments: [
                    b.websiteID, b.customerID, b.currency, b.field.rawValue,
                ]) != nil { already += 1; continue }
                accepted.append(try Self.accept(db, b, by: person, reason: reason, at: at))
            }
            return (accepted, skipped, already)
        }
    }

    /// Revokes acceptance `id` (the id `accept` printed; `accepted.acceptanceId` in report.json):
    /// its break fails the night again from the next reconciliation on. Only one in force.
    public func revokeAcceptance(id: Int64, by person: String) throws -> Acceptance {
        let at = now()
        return try pool.write { db in
            guard let found = try Row.fetchOne(db.cachedStatement(sql: AcceptanceSQL.byID), arguments: [id]) else {
                throw AcceptRefusal(description: "there is no acceptance \(id) in this ledger: take the id `accept` printed, or `acceptanceId` in report.json")
            }
            let acceptance = try Acceptance(row: found)
            if let how: String = found["ended_how"], let ended: Date = found["ended_at"] {
                throw AcceptRefusal(description: "acceptance \(id) ended already (\(how) on \(RFC3339.string(ended))): there is nothing to revoke")
            }
            try db.cachedStatement(sql: AcceptanceSQL.end).execute(arguments: [LedgerTimestamp.text(at), "revoked", person, nil, id])
            return acceptance
        }
    }

    /// The acceptances in force, one at most per (website, customer, currency, field).
    public func activeAcceptances() throws -> [Acceptance] {
        try pool.read { db in try Acceptance.fetchAll(db.cachedStatement(sql: AcceptanceSQL.active)) }
    }

    static func breakRecord(_ db: Database, id: Int64) throws -> Break? {
        try Break.fetchOne(db.cachedStatement(sql: ReconciliationSQL.breakByID), arguments: [id])
    }

    /// The checks and the insert of one acceptance.
    static func accept(_ db: Database, _ b: Break, by person: String, reason: String, at: Date) throws -> Acceptance {
        let id = b.id ?? 0
        let what = "break \(id) (\(b.customerID) \(b.currency) \(b.field.rawValue))"
        guard b.field.figure != nil else {
            throw AcceptRefusal(description: "\(what) is a deposit-request break: only a figure's difference can be accepted")
        }
        guard b.isOpen else { throw AcceptRefusal(description: "\(what) is resolved: there is nothing to accept") }
        guard !b.opening else {
            throw AcceptRefusal(description: "\(what) is an opening difference (the cashier's first night): it never fails the night, there is nothing to accept")
        }
        guard let difference = b.differenceMinor else {
            throw AcceptRefusal(description: "\(what) has no known difference (\(b.detail ?? "Rebilly's figure is unreadable")): only an exact difference can be accepted")
        }
        if let later = try Row.fetchOne(db.cachedStatement(sql: AcceptanceSQL.laterBreakOfKey), arguments: [
            b.websiteID, b.customerID, b.currency, b.field.rawValue, b.runID ?? 0,
        ]) {
            let laterID: Int64 = later["id"], laterRun: Int64 = later["run_id"]
            throw AcceptRefusal(description: "\(what) is not the latest record of its difference: break \(laterID) of run \(laterRun) is; accept that one")
        }
        if let active = try Acceptance.fetchOne(db.cachedStatement(sql: AcceptanceSQL.activeOfKey), arguments: [
            b.websiteID, b.customerID, b.currency, b.field.rawValue,
        ]) {
            throw AcceptRefusal(description: "\(what) is accepted already (acceptance \(active.id) by \(active.acceptedBy) on \(RFC3339.string(active.acceptedAt)), difference \(active.difference))")
        }
        try db.cachedStatement(sql: AcceptanceSQL.insert).execute(arguments: [
            b.websiteID, b.customerID, b.currency, b.field.rawValue, b.exponent, difference, id, b.runID ?? 0, person,
            LedgerTimestamp.text(at), reason,
        ])
        return Acceptance(id: db.lastInsertedRowID, websiteID: b.websiteID, customerID: b.customerID, currency: b.currency,
                          field: b.field, exponent: b.exponent, differenceMinor: difference, breakID: id, runID: b.runID ?? 0,
                          acceptedBy: person, acceptedAt: at, reason: reason)
    }
}

extension Acceptance: FetchableRecord {
    public init(row: Row) throws {
        self.init(id: try row.decode(forColumn: "id"), websiteID: try row.decode(forColumn: "website_id"),
                  customerID: try row.decode(forColumn: "customer_id"), currency: try row.decode(forColumn: "currency"),
                  field: try decodeEnum(try row.decode(forColumn: "field"), table: "acceptances"), exponent: try row.decode(forColumn: "exponent"),
                  differenceMinor: try row.decode(forColumn: "difference_minor"), breakID: try row.decode(forColumn: "break_id"),
                  runID: try row.decode(forColumn: "run_id"), acceptedBy: try row.decode(forColumn: "accepted_by"),
                  acceptedAt: try row.decode(forColumn: "accepted_at"), reason: try row.decode(forColumn: "reason"))
    }
}

/// The SQL of acceptances, with bound arguments.
enum AcceptanceSQL {
    static let insert = """
        INSERT INTO acceptances (website_id, customer_id, currency, field, exponent, difference_minor, break_id, run_id,
                                 accepted_by, accepted_at, reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let active = "SELECT * FROM acceptances WHERE ended_at IS NULL ORDER BY id"
    static let byID = "SELECT * FROM acceptances WHERE id = ?"
    static let activeOfKey = """
        SELECT * FROM acceptances WHERE website_id = ? AND customer_id = ? AND currency = ? AND field = ? AND ended_at IS NULL
        """
    /// Ends an acceptance: when, how (`revoked`, `changed`), by whom, in which run.
    static let end = "UPDATE acceptances SET ended_at = ?, ended_how = ?, ended_by = ?, ended_run_id = ? WHERE id = ? AND ended_at IS NULL"
    static let laterBreakOfKey = """
        SELECT id, run_id FROM breaks WHERE website_id = ? AND customer_id = ? AND currency = ? AND field = ? AND run_id > ?
        ORDER BY run_id DESC, id DESC LIMIT 1
        """
}
