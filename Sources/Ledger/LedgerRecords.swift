import CashierModel
import Foundation
import GRDB

// Plain value types read from and written to the ledger. They carry no database
// connection; the SQL is in each part's file and in `LedgerSQL`.

/// One invocation of the job (`runs` table).
extension RunRecord {
    /// The commands whose runs are "the last run" for `retry`, `reconcile` and `report`: a
    /// night's sending (a `reconcile` or `validate` run is not one).
    public static let nightCommands: Set<String> = ["run", "retry"]
}

public struct RunRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    /// The subcommand, e.g. `run`, `retry`, `reconcile`.
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: RunStatus
    public var exitCode: Int32?
    /// The effective options as a JSON object, without secrets.
    public var optionsJSON: String
    public var pid: Int32
    public var hostname: String
}

/// What the reader knows about a batch file before staging its rows.
public struct NewBatch: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the file's bytes (as stored on disk, compressed or not).
    public var sha256: String
    /// The path the file was read from (the first time it was seen).
    public var path: String
    public var format: BatchFormat

    public init(sha256: String, path: String, format: BatchFormat) {
        self.sha256 = sha256
        self.path = path
        self.format = format
    }
}

/// A batch file known to the ledger (`batches` table).
public struct BatchRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    public var sha256: String
    public var path: String
    public var format: BatchFormat
    /// Records read (valid + rejected); 0 until ``Ledger/finishStaging(batchID:rowCount:valid:rejected:controlVerdict:controlDetail:)``.
    public var rowCount: Int
    public var validCount: Int
    public var rejectedCount: Int
    public var controlVerdict: ControlVerdict
    public var controlDetail: String?
    public var createdAt: Date
    /// When staging finished; `nil` means a staging was interrupted and must be redone
    /// (staging is idempotent, so just stage again).
    public var stagedAt: Date?
    public var firstRunID: Int64
    /// `run --allow-repeat` let this batch through although its rows repeat rows done within 24 hours.
    public var repeatAllowed: Bool
    /// When `prune` removed the batch's rows (nil: they are in the ledger).
    public var prunedAt: Date? = nil

    /// `true` once every row of the file is in the ledger.
    public var isStaged: Bool { stagedAt != nil }
}

/// One row as the reader/validator hands it to the ledger.
public struct StagedRow: Sendable, Equatable {
    /// The physical line (1-based) where the record starts in the file.
    public var line: Int
    /// `websiteId␟customerId␟currency` (see ``Ledger/rowKey(websiteID:customerID:currency:)``); nil when unparseable.
    public var rowKey: String?
    public var websiteID: String?
    public var customerID: String?
    public var currency: String?
    /// Canonical parsed payload (money as exact decimal strings); nil for rejected rows. The ledger
    /// keeps its ``Ledger/payloadHash(_:)`` for the repeat check, not the text.
    public var payloadJSON: String?
    /// A valid row's typed request (``RowRequest``), what the sender reads back; nil for rejected rows.
    public var request: String?
    /// A rejected row's cells as read, for rejects.csv re-import; nil for valid rows (their request is their one copy).
    public var sourceJSON: String?
    /// `.pending` for valid rows, `.rejected` for rows that failed validation.
    public var state: RowState
    /// JSON array of `{"field":…, "message":…}`; nil or `[]` when valid.
    public var reasonsJSON: String?

    public init(
        line: Int, rowKey: String?, websiteID: String?, customerID: String?, currency: String?,
        payloadJSON: String?, request: String? = nil, sourceJSON: String?, state: RowState, reasonsJSON: String?
    ) {
        self.line = line
        self.rowKey = rowKey
        self.websiteID = websiteID
        self.customerID = customerID
        self.currency = currency
        self.payloadJSON = payloadJSON
        self.request = request
        self.sourceJSON = sourceJSON
        self.state = state
        self.reasonsJSON = reasonsJSON
    }

    /// The row the ledger keeps for a record and its verdict: a valid row as its typed request,
    /// pending; a rejected one as its cells and reasons.
    public init(_ record: RawRecord, _ verdict: RowVerdict) {
        switch verdict {
        case let .valid(row):
            let key = row.key
            self.init(
                line: row.line,
                rowKey: Ledger.rowKey(websiteID: key.websiteId, customerID: key.customerId, currency: key.currency),
                websiteID: key.websiteId, customerID: key.customerId, currency: key.currency,
                payloadJSON: row.payloadJSON, request: RowRequest.encode(row), sourceJSON: nil,
                state: .pending, reasonsJSON: nil)
        case let .rejected(line, issues):
            let website = record[.websiteId]?.scalarText
            let customer = record[.customerId]?.scalarText
            let currency = record[.currency]?.scalarText
            var key: String?
            if let website, let customer, let currency {
                key = Ledger.rowKey(websiteID: website, customerID: customer, currency: currency)
            }
            self.init(
                line: line, rowKey: key, websiteID: website, customerID: customer, currency: currency,
                payloadJSON: nil, sourceJSON: record.sourceJSON, state: .rejected, reasonsJSON: FieldIssue.json(issues))
        }
    }
}

/// One row of a batch with its current fate (`rows` table).
public struct RowRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    public var batchID: Int64
    public var line: Int
    /// ``Ledger/keyHash(_:)`` of the row key (nil when the row could not be read that far).
    public var keyHash: Int64?
    public var websiteID: String?
    public var customerID: String?
    public var currency: String?
    /// ``Ledger/payloadHash(_:)`` of the canonical payload the row was staged with (nil: rejected
    /// when staged): what the repeat check compares, never sent.
    public var payloadHash: Int64?
    /// A valid row's typed request (``RowRequest``) as staged: its one copy.
    public var request: String?
    /// A rejected row's cells as the batch gave them (``RawRecord/sourceJSON``): its one copy. Rows
    /// staged before ledger v10 whose source no longer validates keep theirs here too.
    public var sourceJSON: String?
    public var state: RowState
    /// JSON array of `{"field":…, "message":…}`; `[]` when none.
    public var reasonsJSON: String
    public var cashierID: String?
    public var depositRequestID: String?
    /// Attempts recorded for this row, all operations and runs together.
    public var attemptCount: Int
    /// The last run that recorded an attempt for this row (nil until one does).
    public var lastRunID: Int64?
    public var updatedAt: Date
}

extension RowRecord {
    /// `websiteId␟customerId␟currency` (``Ledger/rowKey(websiteID:customerID:currency:)``); nil
    /// when a part is missing.
    public var rowKey: String? {
        guard let websiteID, let customerID, let currency else { return nil }
        return Ledger.rowKey(websiteID: websiteID, customerID: customerID, currency: currency)
    }

    /// What the row asks of Rebilly, decoded from the typed request staging recorded; nil for a
    /// rejected row (it has none).
    public var cashierRow: CashierRow? {
        guard let request, let websiteID, let customerID, let currency else { return nil }
        return RowRequest.decode(request, line: line,
                                 key: RowKey(websiteId: websiteID, customerId: customerID, currency: currency))
    }

    /// The row's cells for rejects.csv: a rejected row's as read, a valid row's written back from its request.
    public var cells: RawRecord {
        if let sourceJSON, let record = try? RawRecord(line: line, sourceJSON: sourceJSON) { return record }
        return cashierRow.map(RawRecord.init(row:)) ?? RawRecord(line: line)
    }
}

/// One API call made for a row (`attempts` table).
public struct AttemptRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    public var rowID: Int64
    public var runID: Int64
    public var operation: AttemptOperation
    public var requestedAt: Date
    public var finishedAt: Date?
    /// nil while in flight (the recorded intent) or when no HTTP answer came.
    public var httpStatus: Int?
    public var latencyMs: Int?
    public var error: String?
    /// The id the API returned (cashier id, deposit request id), if any.
    public var returnedID: String?
    public var outcome: AttemptOutcome
}

/// Figures to store for a row without an attempt (a reconciliation read-back).
public struct NewRemoteFigures: Sendable, Equatable {
    public var rowID: Int64
    /// The run being reconciled.
    public var runID: Int64
    public var source: FigureSource
    public var figures: RemoteFigures

    public init(rowID: Int64, runID: Int64, source: FigureSource, figures: RemoteFigures) {
        self.rowID = rowID
        self.runID = runID
        self.source = source
        self.figures = figures
    }
}

public struct RemoteFiguresRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    public var rowID: Int64
    public var runID: Int64
    /// The attempt whose answer carried them (create); nil for a read-back.
    public var attemptID: Int64?
    public var source: FigureSource
    public var observedAt: Date
    public var figures: RemoteFigures
}

/// What ``Ledger/recoverCrashedRuns(currentRunID:)`` found and repaired.
public struct CrashRecovery: Sendable, Equatable {
    /// Runs left `running` by a dead process, now `crashed`.
    public var crashedRunIDs: [Int64]
    /// Runs (crashed or not) that had left calls in flight.
    public var runsWithCallsInFlight: [Int64]
    /// The calls those runs left in flight, now `lost`.
    public var lostAttempts: Int
    /// Rows whose deposit-request create was in flight, now `in_doubt`.
    public var rowsMarkedInDoubt: Int

    public var isEmpty: Bool { crashedRunIDs.isEmpty && lostAttempts == 0 && rowsMarkedInDoubt == 0 }
}
