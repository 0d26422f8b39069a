import CashierModel
import Foundation
import GRDB

/// One API call as the run's statistics read it: the columns they need, without the texts.
public struct AttemptSample: Sendable, Equatable {
    public var operation: AttemptOperation
    public var httpStatus: Int?
    public var latencyMs: Int?
    /// When the answer came (when the call was made, if none came).
    public var at: Date
    public var outcome: AttemptOutcome

    public init(operation: AttemptOperation, httpStatus: Int?, latencyMs: Int?, at: Date, outcome: AttemptOutcome) {
        self.operation = operation; self.httpStatus = httpStatus; self.latencyMs = latencyMs; self.at = at; self.outcome = outcome
    }
}

/// What the statistics need before they read a run's calls one by one.
public struct AttemptOverview: Sendable, Equatable {
    /// The first and last ``AttemptSample/at`` of the run; nil when it made no call.
    public var span: ClosedRange<Date>?
    /// Per operation, the rows it was called for (the calls beyond those are retries).
    public var rowsCalled: [AttemptOperation: Int]
}

extension Ledger {
    /// The span of a run's calls and the rows called per operation, counted by walking the
    /// `attempts_run` index: no sort, no set of row ids in memory.
    public func attemptOverview(runID: Int64) throws -> AttemptOverview {
        try pool.read { db in
            var overview = AttemptOverview(span: nil, rowsCalled: [:])
            if let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.attemptSpanOfRun), arguments: [runID]),
               let first: Date = try row.decode(atIndex: 0), let last: Date = try row.decode(atIndex: 1) {
                overview.span = first...last
            }
            for operation in AttemptOperation.allCases {
                let rows = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.rowsCalledInRun),
                                            arguments: [runID, operation.rawValue]) ?? 0
                if rows > 0 { overview.rowsCalled[operation] = rows }
            }
            return overview
        }
    }

    /// Streams a run's calls through `body` in index order (not time order) inside one read:
    /// constant memory whatever the size of the night.
    public func forEachAttempt(runID: Int64, _ body: (AttemptSample) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: LedgerSQL.attemptSamplesOfRun), arguments: [runID])
            while let row = try rows.next() {
                guard let operation = AttemptOperation(rawValue: try row.decode(atIndex: 0)), let outcome = AttemptOutcome(rawValue: try row.decode(atIndex: 4)),
                      let at: Date = try row.decode(atIndex: 3) else { continue }
                try body(AttemptSample(operation: operation, httpStatus: try row.decode(atIndex: 1), latencyMs: try row.decode(atIndex: 2), at: at, outcome: outcome))
            }
        }
    }
}
