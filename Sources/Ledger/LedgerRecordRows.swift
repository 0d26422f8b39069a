import CashierModel
import Foundation
import GRDB

// The records read from SQLite rows, column by column.

extension RunRecord: FetchableRecord {
    public init(row: Row) throws {
        do {
            id = try row.decode(forColumn: "id")
            command = try row.decode(forColumn: "command")
            startedAt = try row.decode(forColumn: "started_at")
            finishedAt = try row.decode(forColumn: "finished_at")
            status = try decodeEnum(try row.decode(forColumn: "status"))
            exitCode = try row.decode(forColumn: "exit_code")
            optionsJSON = try row.decode(forColumn: "options_json")
            pid = try row.decode(forColumn: "pid")
            hostname = try row.decode(forColumn: "hostname")
        } catch {
            throw StoredValueError(table: "runs", error)
        }
    }
}

extension BatchRecord: FetchableRecord {
    public init(row: Row) throws {
        do {
            id = try row.decode(forColumn: "id")
            sha256 = try row.decode(forColumn: "sha256")
            path = try row.decode(forColumn: "path")
            format = BatchFormat(syntax: try decodeEnum(try row.decode(forColumn: "format")), gzip: try row.decode(forColumn: "gzip"))
            rowCount = try row.decode(forColumn: "row_count")
            validCount = try row.decode(forColumn: "valid_count")
            rejectedCount = try row.decode(forColumn: "rejected_count")
            controlVerdict = try decodeEnum(try row.decode(forColumn: "control_verdict"))
            controlDetail = try row.decode(forColumn: "control_detail")
            createdAt = try row.decode(forColumn: "created_at")
            stagedAt = try row.decode(forColumn: "staged_at")
            firstRunID = try row.decode(forColumn: "first_run_id")
            repeatAllowed = try row.decode(forColumn: "repeat_allowed")
            prunedAt = try row.decode(forColumn: "pruned_at")
        } catch {
            throw StoredValueError(table: "batches", error)
        }
    }
}

extension RowRecord: FetchableRecord {
    public init(row: Row) throws {
        do {
            id = try row.decode(forColumn: "id")
            batchID = try row.decode(forColumn: "batch_id")
            line = try row.decode(forColumn: "line")
            keyHash = try row.decode(forColumn: "key_hash")
            websiteID = try row.decode(forColumn: "website_id")
            customerID = try row.decode(forColumn: "customer_id")
            currency = try row.decode(forColumn: "currency")
            payloadHash = try row.decode(forColumn: "payload_hash")
            request = try row.decode(forColumn: "request")
            sourceJSON = try row.decode(forColumn: "source_json")
            state = try decodeEnum(try row.decode(forColumn: "state"))
            reasonsJSON = try row.decode(forColumn: "reasons_json")
            cashierID = try row.decode(forColumn: "cashier_id")
            depositRequestID = try row.decode(forColumn: "deposit_request_id")
            attemptCount = try row.decode(forColumn: "attempt_count")
            lastRunID = try row.decode(forColumn: "last_run_id")
            updatedAt = try row.decode(forColumn: "updated_at")
        } catch {
            throw StoredValueError(table: "rows", error)
        }
    }
}

extension AttemptRecord: FetchableRecord {
    public init(row: Row) throws {
        do {
            id = try row.decode(forColumn: "id")
            rowID = try row.decode(forColumn: "row_id")
            runID = try row.decode(forColumn: "run_id")
            operation = try decodeEnum(try row.decode(forColumn: "operation"))
            requestedAt = try row.decode(forColumn: "requested_at")
            finishedAt = try row.decode(forColumn: "finished_at")
            httpStatus = try row.decode(forColumn: "http_status")
            latencyMs = try row.decode(forColumn: "latency_ms")
            error = try row.decode(forColumn: "error")
            returnedID = try row.decode(forColumn: "returned_id")
            outcome = try decodeEnum(try row.decode(forColumn: "outcome"))
        } catch {
            throw StoredValueError(table: "attempt_log", error)
        }
    }
}

extension RemoteFiguresRecord: FetchableRecord {
    public init(row: Row) throws {
        do {
            id = try row.decode(forColumn: "id")
            rowID = try row.decode(forColumn: "row_id")
            runID = try row.decode(forColumn: "run_id")
            attemptID = try row.decode(forColumn: "attempt_id")
            source = try decodeEnum(try row.decode(forColumn: "source"))
            observedAt = try row.decode(forColumn: "observed_at")
            figures = RemoteFigures(
                cashierID: try row.decode(forColumn: "cashier_id"), httpStatus: try row.decode(forColumn: "http_status"), currency: try row.decode(forColumn: "currency"),
                exponent: try row.decode(forColumn: "exponent"),
                balanceMinor: try row.decode(forColumn: "balance_minor"), bonusBalanceMinor: try row.decode(forColumn: "bonus_balance_minor"),
                pendingPayoutTotalMinor: try row.decode(forColumn: "pending_payout_total_minor"),
                balanceText: try row.decode(forColumn: "balance_text"), bonusBalanceText: try row.decode(forColumn: "bonus_balance_text"),
                pendingPayoutTotalText: try row.decode(forColumn: "pending_payout_total_text"), canWithdraw: (try row.decode(forColumn: "can_withdraw") as Int64?).map { $0 != 0 },
                cashierCreatedAt: try row.decode(forColumn: "cashier_created_at"))
        } catch {
            throw StoredValueError(table: "figure_log", error)
        }
    }
}

/// A stored value the ledger's schema does not allow where it was read (a hand edit, damage, or
/// a newer ledger), with the table it came from; commands exit 74 naming it (``LedgerFault``).
public struct StoredValueError: Error, CustomStringConvertible {
    /// The table (nil: not known where the value was decoded).
    public var table: String?
    public var detail: String

    init(table: String?, detail: String) {
        self.table = table
        self.detail = detail
    }

    /// `error` as read from `table` (one naming a table already keeps it).
    init(table: String, _ error: any Error) {
        if let stored = error as? StoredValueError {
            self.init(table: stored.table ?? table, detail: stored.detail)
        } else {
            self.init(table: table, detail: Self.oneLine("\(error)"))
        }
    }

    public var description: String { "ledger: table \(table ?? "?"): \(detail)" }

    /// A decoding error's text on one line, without the row dump GRDB appends.
    static func oneLine(_ text: String) -> String {
        let first = text.split(separator: "\n").first.map(String.init) ?? text
        let cut = first.range(of: " - column:").map { String(first[..<$0.lowerBound]) } ?? first
        return String(cut.prefix(200))
    }
}

func decodeEnum<E: RawRepresentable>(_ raw: String, table: String? = nil) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else {
        throw StoredValueError(table: table, detail: "unknown \(E.self) value '\(raw)'")
    }
    return value
}
