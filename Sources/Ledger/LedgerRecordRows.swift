import CashierModel
import Foundation
import GRDB

// The records read from SQLite rows, column by column.

extension RunRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        command = row["command"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
        status = try decodeEnum(row["status"])
        exitCode = row["exit_code"]
        optionsJSON = row["options_json"]
        pid = row["pid"]
        hostname = row["hostname"]
    }
}

extension BatchRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        sha256 = row["sha256"]
        path = row["path"]
        format = BatchFormat(syntax: try decodeEnum(row["format"]), gzip: row["gzip"])
        rowCount = row["row_count"]
        validCount = row["valid_count"]
        rejectedCount = row["rejected_count"]
        controlVerdict = try decodeEnum(row["control_verdict"])
        controlDetail = row["control_detail"]
        createdAt = row["created_at"]
        stagedAt = row["staged_at"]
        firstRunID = row["first_run_id"]
        repeatAllowed = row["repeat_allowed"]
        prunedAt = row["pruned_at"]
    }
}

extension RowRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        batchID = row["batch_id"]
        line = row["line"]
        keyHash = row["key_hash"]
        websiteID = row["website_id"]
        customerID = row["customer_id"]
        currency = row["currency"]
        payloadHash = row["payload_hash"]
        request = row["request"]
        sourceJSON = row["source_json"]
        state = try decodeEnum(row["state"])
        reasonsJSON = row["reasons_json"]
        cashierID = row["cashier_id"]
        depositRequestID = row["deposit_request_id"]
        attemptCount = row["attempt_count"]
        lastRunID = row["last_run_id"]
        updatedAt = row["updated_at"]
    }
}

extension AttemptRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        rowID = row["row_id"]
        runID = row["run_id"]
        operation = try decodeEnum(row["operation"])
        requestedAt = row["requested_at"]
        finishedAt = row["finished_at"]
        httpStatus = row["http_status"]
        latencyMs = row["latency_ms"]
        error = row["error"]
        returnedID = row["returned_id"]
        outcome = try decodeEnum(row["outcome"])
    }
}

extension RemoteFiguresRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        rowID = row["row_id"]
        runID = row["run_id"]
        attemptID = row["attempt_id"]
        source = try decodeEnum(row["source"])
        observedAt = row["observed_at"]
        figures = RemoteFigures(
            cashierID: row["cashier_id"], httpStatus: row["http_status"], currency: row["currency"],
            exponent: row["exponent"],
            balanceMinor: row["balance_minor"], bonusBalanceMinor: row["bonus_balance_minor"],
            pendingPayoutTotalMinor: row["pending_payout_total_minor"],
            balanceText: row["balance_text"], bonusBalanceText: row["bonus_balance_text"],
            pendingPayoutTotalText: row["pending_payout_total_text"], canWithdraw: (row["can_withdraw"] as Int64?).map { $0 != 0 },
            cashierCreatedAt: row["cashier_created_at"])
    }
}

/// A stored enum value that Swift does not know (a newer ledger, or hand edits).
struct UnknownStoredValue: Error, CustomStringConvertible {
    var type: String
    var value: String
    var description: String { "ledger: unknown \(type) value '\(value)' in the database" }
}

func decodeEnum<E: RawRepresentable>(_ raw: String) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else {
        throw UnknownStoredValue(type: String(describing: E.self), value: raw)
    }
    return value
}
