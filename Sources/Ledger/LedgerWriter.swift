import CashierModel
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// Group commit for the sender's hot writes: intents, outcomes and row
/// transitions from many concurrent tasks, committed together.
///
/// Each call enqueues ONE operation and suspends (without blocking a thread)
/// until that operation is **committed durably**, with the ledger's own
/// durability (`synchronous = FULL` by default): when `recordIntent` returns,
/// the caller may send the HTTP request, and a kill -9 or power loss right
/// after still finds the intent in the file.
///
/// One dedicated thread (`ledger-writer`, never the Swift cooperative pool)
/// runs the transactions. While it commits one group, new calls queue; the
/// next transaction takes every queued operation at once (up to
/// ``maxGroupSize``), so many callers share one fsync.
///
/// - **Checks.** Each operation refuses what the row's state forbids
///   (``LedgerError/sendRefused(rowID:state:operation:)``,
///   ``LedgerError/illegalTransition(rowID:from:to:)``) and unknown ids.
/// - **Failures are per caller.** Each operation runs inside its own SAVEPOINT
///   in the group transaction; an operation that throws is rolled back to it
///   and fails only its own caller, the others still commit. If the group
///   transaction itself cannot commit (disk full, I/O error), every caller of
///   the group gets that error and nothing of the group is in the file.
/// - **Order.** Operations are applied in the order they were enqueued. One
///   task awaiting each call (intent → outcome → transition) therefore sees
///   its writes applied in that order.
/// - **Cancellation is ignored on purpose.** A write is never dropped because
///   its task was cancelled: the call enqueues, waits for the commit and
///   returns its result even in a cancelled task. A recorded intent or outcome
///   is never lost to a SIGINT that cancels the workers.
/// - **Shutdown.** ``shutdown()`` lets the thread commit everything already
///   queued, then stops it; later calls throw ``LedgerWriterError/shutDown``.
///   Shut the writer down before ``Ledger/close()``. Dropping the last
///   reference also stops the thread (after it drains).
///
/// The ledger's own writes (runs, staging, reconciliations) stay usable alongside;
/// both go through the same connection pool, so they serialize on its one writer connection.
public final class LedgerWriter: Sendable {
    /// The ledger this writer commits to.
    public let ledger: Ledger
    /// The most operations committed in one transaction.
    public let maxGroupSize: Int
    private let core: WriterCore

    /// Starts the writer thread.
    ///
    /// - Parameter maxGroupSize: Cap on operations per transaction (bounds the
    ///   latency of one commit); the rest wait for the next transaction.
    public init(ledger: Ledger, maxGroupSize: Int = 1_024) {
        self.ledger = ledger
        self.maxGroupSize = max(1, maxGroupSize)
        core = WriterCore(pool: ledger.pool, maxGroupSize: max(1, maxGroupSize))
        let core = core
        let thread = Thread { core.run() }
        thread.name = "ledger-writer"
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    deinit {
        core.stop(waiter: nil)
    }

    /// Records the intent to call the API for a row, BEFORE the call: a new `in_flight` attempt, and the
    /// row's `attempt_count` and `last_run_id` bumped. Returns the attempt id once the intent is durable.
    /// Refuses (``LedgerError/sendRefused(rowID:state:operation:)``) a create the row's state forbids
    /// (the last line of defence against sending twice); reads (`get_*`, `list_*`) are always allowed.
    /// `at`: the send time to record (default: now).
    public func recordIntent(rowID: Int64, runID: Int64, operation: AttemptOperation, at sendTime: Date? = nil) async throws -> Int64 {
        let at = sendTime ?? ledger.now()
        return try await submit { db in
            try Ledger.recordIntent(db, rowID: rowID, runID: runID, operation: operation, at: at)
        }
    }

    /// Records how an attempt ended, AFTER the call (`httpStatus` nil when no answer came), and the
    /// optional row transition with it in one savepoint of the group transaction: never half of them.
    /// `remoteFigures`: the cashier's figures from the answer, stored with it.
    public func recordOutcome(
        attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition? = nil,
        remoteFigures: RemoteFigures? = nil
    ) async throws {
        let at = ledger.now()
        try await submit { db in
            try Ledger.recordOutcome(db, attemptID: attemptID, httpStatus: httpStatus, latencyMs: latencyMs, error: error,
                                     returnedID: returnedID, outcome: outcome, then: transition, at: at,
                                     remoteFigures: remoteFigures)
        }
    }

    /// The outcome of one call (with its row transition and figures) and the intent of the
    /// row's next call, in ONE operation of the group: a row's cashier answer and its deposit
    /// request's intent cost one write instead of two. The intent is checked against the row's
    /// state after the transition, exactly like ``recordIntent(rowID:runID:operation:)``; if it
    /// is refused, nothing of the operation is written. Returns the new attempt's id.
    ///
    /// Call it only right before sending the next request (its token already taken): the
    /// intent's time is the request's time, which in-doubt verification relies on.
    public func recordOutcomeThenIntent(
        attemptID: Int64, httpStatus: Int?, latencyMs: Int?, error: String?,
        returnedID: String?, outcome: AttemptOutcome, then transition: RowTransition?,
        remoteFigures: RemoteFigures? = nil, nextOperation: AttemptOperation, runID: Int64, at sendTime: Date? = nil
    ) async throws -> Int64 {
        let at = sendTime ?? ledger.now()
        return try await submit { db in
            guard let rowID = try LedgerHotPath.int64(db, LedgerSQL.hotRowIDOfAttempt, { sqlite3_bind_int64($0, 1, attemptID) })
            else { throw LedgerError.noSuchAttempt(attemptID) }
            try Ledger.recordOutcome(db, attemptID: attemptID, httpStatus: httpStatus, latencyMs: latencyMs, error: error,
                                     returnedID: returnedID, outcome: outcome, then: transition, at: at,
                                     remoteFigures: remoteFigures, rowID: rowID)
            return try Ledger.recordIntent(db, rowID: rowID, runID: runID, operation: nextOperation, at: at)
        }
    }

    /// Moves a row to `state` if ``RowLifecycle/allows(_:to:)`` allows it. Non-nil ids and reasons replace
    /// the stored ones, nil keeps them; moving to `done` clears the reasons. `candidates`: the
    /// deposit requests a row moved to `needs_review` is to be decided between.
    public func transition(
        rowID: Int64, to state: RowState,
        cashierID: String? = nil, depositRequestID: String? = nil, reasonsJSON: String? = nil, candidates: [String] = []
    ) async throws {
        let at = ledger.now()
        try await submit { db in
            try Ledger.transition(db, rowID: rowID, to: state, cashierID: cashierID,
                                  depositRequestID: depositRequestID, reasonsJSON: reasonsJSON, at: at)
            for id in candidates {
                try db.execute(sql: LedgerSQL.insertReviewCandidate, arguments: [rowID, id])
            }
        }
    }

    /// Commits everything already queued, then stops the thread. Idempotent;
    /// returns when the thread has finished. Calls made after it throw
    /// ``LedgerWriterError/shutDown``.
    public func shutdown() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            core.stop(waiter: waiter)
        }
    }

    /// Counters since the writer started (for benchmarks and tests).
    public var statistics: Statistics { core.statistics }

    /// Operations ever enqueued, and those waiting for the thread to take them (tests).
    var queueDepth: (enqueued: Int, waiting: Int) { core.queueDepth }

    /// What the writer has committed so far.
    public struct Statistics: Sendable, Equatable {
        /// Group transactions committed.
        public var transactions: Int
        /// Operations committed successfully (failed ones are not counted).
        public var operations: Int
        /// Operations that failed (their caller got the error).
        public var failures: Int
        /// The largest group committed in one transaction.
        public var largestGroup: Int
    }

    func submit<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        // No cancellation handler: once enqueued, the write commits (see the type's documentation).
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            core.enqueue(Job(body: body, continuation: continuation))
        }
    }
}

extension Ledger {
    /// A new ``LedgerWriter`` (its own thread) committing to this ledger.
    public func writer(maxGroupSize: Int = 1_024) -> LedgerWriter {
        LedgerWriter(ledger: self, maxGroupSize: maxGroupSize)
    }
}

/// Errors of ``LedgerWriter`` itself.
public enum LedgerWriterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The writer was shut down before this call; nothing was written.
    case shutDown

    public var description: String {
        switch self {
        case .shutDown: "ledger writer: shut down; nothing was written"
        }
    }
}

// MARK: - Internals

/// One queued operation, type-erased for the queue.
private protocol AnyJob: AnyObject, Sendable {
    /// Runs the operation on the writer thread (inside its savepoint).
    func execute(_ db: Database) throws
    /// Remembers the operation's own error (its savepoint was rolled back).
    func failed(_ error: any Error)
    /// Whether ``execute(_:)`` succeeded.
    var succeeded: Bool { get }
    /// Resumes the caller once the group is over: with its own result, or with
    /// `groupError` when the group transaction did not commit.
    func complete(groupError: (any Error)?)
}

/// A job's mutable state is touched only by the writer thread (execute/failed/complete)
/// after the enqueueing thread handed it over under the queue's lock.
private final class Job<T: Sendable>: AnyJob, @unchecked Sendable {
    private let body: @Sendable (Database) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    private var result: Result<T, any Error>?

    init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func execute(_ db: Database) throws {
        result = .success(try body(db))
    }

    func failed(_ error: any Error) {
        result = .failure(error)
    }

    var succeeded: Bool {
        if case .success = result { return true }
        return false
    }

    func complete(groupError: (any Error)?) {
        switch result {
        case .failure(let own):
            continuation.resume(throwing: own)
        case .success(let value):
            if let groupError { continuation.resume(throwing: groupError) } else { continuation.resume(returning: value) }
        case nil:
            continuation.resume(throwing: groupError ?? LedgerWriterError.shutDown)
        }
    }

    func reject(_ error: any Error) {
        continuation.resume(throwing: error)
    }
}

/// The queue (guarded by a condition variable) and the loop of the writer thread.
private final class WriterCore: @unchecked Sendable {
    private let pool: DatabasePool
    private let maxGroupSize: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [any AnyJob] = []
    private var head = 0
    private var stopping = false
    private var finished = false
    private var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    private var counters = LedgerWriter.Statistics(transactions: 0, operations: 0, failures: 0, largestGroup: 0)
    private var enqueued = 0

    init(pool: DatabasePool, maxGroupSize: Int) {
        self.pool = pool
        self.maxGroupSize = maxGroupSize
    }

    var statistics: LedgerWriter.Statistics {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    var queueDepth: (enqueued: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (enqueued, queue.count - head)
    }

    func enqueue<T>(_ job: Job<T>) {
        condition.lock()
        if stopping {
            condition.unlock()
            job.reject(LedgerWriterError.shutDown)
            return
        }
        queue.append(job)
        enqueued += 1
        condition.signal()
        condition.unlock()
    }

    /// Asks the thread to drain and stop; `waiter` (if any) resumes once it has.
    func stop(waiter: CheckedContinuation<Void, Never>?) {
        condition.lock()
        stopping = true
        if finished {
            condition.unlock()
            waiter?.resume()
            return
        }
        if let waiter { shutdownWaiters.append(waiter) }
        condition.signal()
        condition.unlock()
    }

    /// The writer thread's loop.
    func run() {
        while true {
            condition.lock()
            while head == queue.count && !stopping {
                condition.wait()
            }
            if head == queue.count {  // stopping and drained
                finished = true
                queue.removeAll()
                let waiters = shutdownWaiters
                shutdownWaiters.removeAll()
                condition.unlock()
                for waiter in waiters { waiter.resume() }
                return
            }
            let end = min(queue.count, head + maxGroupSize)
            let group = Array(queue[head..<end])
            head = end
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()

            let groupError = commit(group)
            let committed = groupError == nil ? group.reduce(0) { $0 + ($1.succeeded ? 1 : 0) } : 0

            condition.lock()
            if groupError == nil { counters.transactions += 1 }
            counters.operations += committed
            counters.failures += group.count - committed
            counters.largestGroup = max(counters.largestGroup, group.count)
            condition.unlock()

            // Resume callers only after the COMMIT has returned (the group is durable).
            for job in group { job.complete(groupError: groupError) }
        }
    }

    /// One transaction for the whole group, one savepoint per operation.
    /// Returns nil when the transaction committed, else why it did not.
    ///
    /// The savepoint statements are cached prepared statements (GRDB's
    /// `inSavepoint` would parse `SAVEPOINT`/`RELEASE` again for every operation).
    private func commit(_ group: [any AnyJob]) -> (any Error)? {
        do {
            try pool.write { db in
                let begin = try db.cachedStatement(sql: LedgerSQL.beginOperation)
                let release = try db.cachedStatement(sql: LedgerSQL.releaseOperation)
                let rollback = try db.cachedStatement(sql: LedgerSQL.rollbackOperation)
                for job in group {
                    try begin.execute()
                    do {
                        try job.execute(db)
                    } catch {
                        job.failed(error)
                        // Undo its partial writes. If even this fails (SQLite aborted the whole
                        // transaction: disk full, I/O error), the group fails as a whole.
                        try rollback.execute()
                    }
                    try release.execute()
                }
            }
            return nil
        } catch {
            return error
        }
    }
}
