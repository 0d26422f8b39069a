import Foundation
import GRDB
import Testing
@testable import Ledger

// LedgerWriter: group commit. Real SQLite files (synchronous = FULL) in temp dirs.

/// Holds the ledger's single writer connection from a plain thread until `open()`,
/// so the writer thread blocks in its `pool.write` and later calls pile up into
/// one known group.
final class WriteBlocker: @unchecked Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)

    init(_ ledger: Ledger) {
        let entered = entered, release = release
        let thread = Thread {
            try? ledger.pool.write { _ in
                entered.signal()
                release.wait()
            }
        }
        thread.start()
        entered.wait()
    }

    func open() { release.signal() }
}

/// Waits (polling, up to 60 s: a liveness check, not a timing one) until `condition` holds.
func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record(what)
            return
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}

func elapsedSeconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

@Suite("LedgerWriter (group commit)")
struct LedgerWriterTests {
    @Test func manyConcurrentCallersAreAllCommitted() async throws {
        let dir = try TempDir()
        let tasks = 64, pairsPerTask = 200
        let (ledger, run, batch) = try fixture(dir, valid: tasks * pairsPerTask, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending])
        let writer = ledger.writer()

        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for t in 0..<tasks {
                let slice = rows[(t * pairsPerTask)..<((t + 1) * pairsPerTask)].map(\.id)
                group.addTask {
                    var attempts: [Int64] = []
                    for rowID in slice {
                        let a = try await writer.recordIntent(rowID: rowID, runID: run, operation: .createCashier)
                        try await writer.recordOutcome(
                            attemptID: a, httpStatus: 201, latencyMs: 3, error: nil, returnedID: "cash_\(rowID)",
                            outcome: .succeeded, then: .cashierCreated(cashierID: "cash_\(rowID)"))
                        attempts.append(a)
                    }
                    return attempts
                }
            }
            var all: [Int64] = []
            for try await chunk in group { all += chunk }
            return all
        }
        await writer.shutdown()

        let total = tasks * pairsPerTask
        #expect(ids.count == total)
        #expect(Set(ids).count == total)
        let stats = writer.statistics
        #expect(stats.operations == 2 * total)
        #expect(stats.failures == 0)
        #expect(stats.transactions < stats.operations)  // some sharing happened

        let (attempts, succeeded, cashiers, counted, mismatched) = try inspect(ledger.path) { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts WHERE run_id = ?", arguments: [run]),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts WHERE outcome = 'succeeded' AND http_status = 201"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM rows WHERE state = 'cashier_created' AND cashier_id = 'cash_' || id"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM rows WHERE attempt_count = 1 AND last_run_id = ?", arguments: [run]),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE a.returned_id <> r.cashier_id"))
        }
        #expect(attempts == total)
        #expect(succeeded == total)
        #expect(cashiers == total)
        #expect(counted == total)
        #expect(mismatched == 0)
        #expect(try ledger.countsByState(batchID: batch.id)[.cashierCreated] == total)
    }

    @Test func aFailingOperationFailsOnlyItsOwnCaller() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 6, rejected: 1)
        let pending = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)
        let rejected = try #require(try ledger.rows(batchID: batch.id, states: [.rejected]).first).id
        // A row whose intent was recorded, then rejected: an outcome moving it on must fail
        // AFTER its UPDATE of the attempt ran, so only the savepoint rollback can undo it.
        // Set up through a writer of its own, so the writer under test counts only the group below.
        let halfway = pending[5]
        let setup = ledger.writer()
        let stale = try await setup.recordIntent(rowID: halfway, runID: run, operation: .createCashier)
        try await setup.transition(rowID: halfway, to: .rejected, reasonsJSON: "[]")
        await setup.shutdown()

        let writer = ledger.writer()
        let blocker = WriteBlocker(ledger)
        // The first call is taken alone by the thread (which then blocks); the rest queue up, in order.
        let first = Task { try await writer.transition(rowID: pending[0], to: .failed, reasonsJSON: #"["first"]"#) }
        try await eventually("first op taken") { writer.queueDepth == (1, 0) }

        var calls: [Task<Int64?, any Error>] = []
        func queue(_ body: @escaping @Sendable () async throws -> Int64?) async throws {
            let expected = calls.count + 1
            calls.append(Task { try await body() })
            try await eventually("op \(expected) queued") { writer.queueDepth.waiting == expected }
        }
        try await queue { try await writer.recordIntent(rowID: pending[1], runID: run, operation: .createCashier) }
        try await queue { try await writer.recordIntent(rowID: rejected, runID: run, operation: .createCashier) }  // sendRefused
        try await queue { try await writer.recordIntent(rowID: pending[2], runID: run, operation: .createCashier) }
        try await queue {  // outcome UPDATE runs, then the transition is illegal → whole op rolled back
            try await writer.recordOutcome(attemptID: stale, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "c",
                                           outcome: .succeeded, then: .cashierCreated(cashierID: "c"))
            return nil
        }
        try await queue { try await writer.transition(rowID: rejected, to: .pending); return nil }  // illegal
        try await queue {
            try await writer.recordOutcome(attemptID: 999_999, httpStatus: 200, latencyMs: 1, error: nil, returnedID: nil,
                                           outcome: .succeeded); return nil  // no such attempt
        }
        try await queue { try await writer.transition(rowID: 999_999, to: .done); return nil }  // no such row
        try await queue { try await writer.recordIntent(rowID: pending[3], runID: run, operation: .createCashier) }
        blocker.open()

        try await first.value
        let results = await calls.asyncMap { await $0.result }
        #expect(writer.statistics.largestGroup == calls.count)  // all of them in ONE transaction

        func error(_ r: Result<Int64?, any Error>) -> LedgerError? {
            if case .failure(let e) = r { return e as? LedgerError } else { return nil }
        }
        let okIntent1 = try results[0].get(), okIntent2 = try results[2].get(), okIntent3 = try results[7].get()
        #expect(error(results[1]) == .sendRefused(rowID: rejected, state: .rejected, operation: .createCashier))
        #expect(error(results[3]) == .illegalTransition(rowID: halfway, from: .rejected, to: .cashierCreated))
        #expect(error(results[4]) == .illegalTransition(rowID: rejected, from: .rejected, to: .pending))
        #expect(error(results[5]) == .noSuchAttempt(999_999))
        #expect(error(results[6]) == .noSuchRow(999_999))
        await writer.shutdown()

        // The good ones are in the file; the failed ones left no trace.
        for id in [okIntent1, okIntent2, okIntent3] {
            #expect(try ledger.attempt(id: try #require(id))?.outcome == .inFlight)
        }
        #expect(try ledger.row(id: pending[0])?.state == .failed)
        #expect(try ledger.row(id: rejected)?.attemptCount == 0)
        #expect(try ledger.row(id: rejected)?.state == .rejected)
        #expect(try ledger.attempt(id: stale)?.outcome == .inFlight)  // its UPDATE was rolled back
        #expect(try ledger.attempt(id: stale)?.httpStatus == nil)
        #expect(try ledger.row(id: halfway)?.state == .rejected)
        #expect(try ledger.attempts(runID: run).count == 4)  // stale + 3 good intents
        let stats = writer.statistics
        #expect(stats.failures == 5)
        #expect(stats.operations == 4)
    }

    @Test func operationsApplyInEnqueueOrder() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 2, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)
        let writer = ledger.writer()

        // One task, one row: intent → outcome → intent → outcome → transition.
        let row = rows[0]
        let a = try await writer.recordIntent(rowID: row, runID: run, operation: .createCashier)
        try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "cash_1",
                                       outcome: .succeeded, then: .cashierCreated(cashierID: "cash_1"))
        let d = try await writer.recordIntent(rowID: row, runID: run, operation: .createDepositRequest)
        try await writer.recordOutcome(attemptID: d, httpStatus: nil, latencyMs: 30_000, error: "timeout",
                                       returnedID: nil, outcome: .lost)
        try await writer.transition(rowID: row, to: .inDoubt)
        #expect(try ledger.attempts(rowID: row).map(\.id) == [a, d])
        #expect(try ledger.attempts(rowID: row).map(\.outcome) == [.succeeded, .lost])
        #expect(try ledger.row(id: row)?.state == .inDoubt)
        #expect(try ledger.row(id: row)?.cashierID == "cash_1")

        // Several queued moves of one row in ONE group: each is only legal after the previous one.
        let other = rows[1]
        let blocker = WriteBlocker(ledger)
        let warmup = Task { _ = try await writer.recordIntent(rowID: row, runID: run, operation: .listDepositRequests) }
        try await eventually("warm-up taken") { writer.queueDepth.waiting == 0 && writer.queueDepth.enqueued == 6 }
        var tasks: [Task<Void, any Error>] = []
        let steps: [@Sendable () async throws -> Void] = [
            { try await writer.transition(rowID: other, to: .failed, reasonsJSON: #"["x"]"#) },
            { try await writer.transition(rowID: other, to: .inDoubt) },
            { try await writer.transition(rowID: other, to: .cashierCreated, cashierID: "cash_2") },
            { try await writer.transition(rowID: other, to: .done, depositRequestID: "dep_req_2") },
        ]
        for (i, step) in steps.enumerated() {
            tasks.append(Task { try await step() })
            try await eventually("move \(i) queued") { writer.queueDepth.waiting == i + 1 }
        }
        blocker.open()
        try await warmup.value
        for task in tasks { try await task.value }
        #expect(writer.statistics.largestGroup == steps.count)
        let done = try #require(try ledger.row(id: other))
        #expect(done.state == .done)
        #expect(done.cashierID == "cash_2")
        #expect(done.depositRequestID == "dep_req_2")
        #expect(done.reasonsJSON == "[]")
        await writer.shutdown()
    }

    @Test func aReturnedCallIsVisibleFromAnotherConnectionAtOnce() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 32, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)
        let writer = ledger.writer()
        let path = ledger.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            for rowID in rows {
                group.addTask {
                    let a = try await writer.recordIntent(rowID: rowID, runID: run, operation: .createCashier)
                    // A fresh, independent connection (as after a kill -9 and a restart) sees the intent.
                    let seen = try inspect(path) { db in
                        try String.fetchOne(db, sql: "SELECT outcome FROM attempts WHERE id = ?", arguments: [a])
                    }
                    #expect(seen == "in_flight")
                    try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil,
                                                   returnedID: "c", outcome: .succeeded,
                                                   then: .cashierCreated(cashierID: "c\(rowID)"))
                    let state = try inspect(path) { db in
                        try String.fetchOne(db, sql: "SELECT state FROM rows WHERE id = ?", arguments: [rowID])
                    }
                    #expect(state == "cashier_created")
                }
            }
            try await group.waitForAll()
        }
        await writer.shutdown()
    }

    @Test func shutdownDrainsTheQueueThenRefuses() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 100, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)
        let writer = ledger.writer(maxGroupSize: 16)

        let blocker = WriteBlocker(ledger)
        let tasks = rows.map { rowID in
            Task { try await writer.recordIntent(rowID: rowID, runID: run, operation: .createCashier) }
        }
        // Everything enqueued (one group possibly taken by the blocked thread), nothing committed yet.
        try await eventually("all queued") { writer.queueDepth.enqueued == rows.count }
        #expect(try ledger.attempts(runID: run).isEmpty)
        let stopping = Task { await writer.shutdown() }
        try await Task.sleep(for: .milliseconds(20))  // let shutdown() reach the queue before the thread runs
        blocker.open()
        await stopping.value

        var ids: [Int64] = []
        for task in tasks { ids.append(try await task.value) }
        #expect(Set(ids).count == rows.count)
        #expect(try ledger.attempts(runID: run).count == rows.count)
        #expect(writer.statistics.operations == rows.count)
        #expect(writer.statistics.transactions >= rows.count / 16)

        // After shutdown: refused, nothing written; a second shutdown returns at once.
        await #expect(throws: LedgerWriterError.shutDown) {
            _ = try await writer.recordIntent(rowID: rows[0], runID: run, operation: .createCashier)
        }
        await writer.shutdown()
        #expect(try ledger.attempts(runID: run).count == rows.count)
        // The ledger is unaffected: a new writer writes to it.
        let next = ledger.writer()
        _ = try await next.recordIntent(rowID: rows[0], runID: run, operation: .getCashier)
        await next.shutdown()
    }

    @Test func aCancelledCallerStillGetsItsQueuedWriteCommitted() async throws {
        let dir = try TempDir()
        let (ledger, run, batch) = try fixture(dir, valid: 2, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)
        let writer = ledger.writer()
        let blocker = WriteBlocker(ledger)
        let task = Task { try await writer.recordIntent(rowID: rows[0], runID: run, operation: .createCashier) }
        try await eventually("queued") { writer.queueDepth.enqueued == 1 }
        task.cancel()
        blocker.open()
        let id = try await task.value  // not CancellationError: the intent is durable
        #expect(try ledger.attempt(id: id)?.outcome == .inFlight)
        // Even a call made from an already-cancelled task is written.
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await writer.recordIntent(rowID: rows[1], runID: run, operation: .createCashier)
        }
        #expect(try ledger.attempt(id: try await late.value)?.rowID == rows[1])
        await writer.shutdown()
    }

    /// A measurement (docs/ledger.md, "Group commit"): one caller awaiting each write against 64
    /// concurrent callers sharing commits; only with `CASHIER_BATCH_BENCH=1`.
    @Test(.enabled(if: benchmarksEnabled, "a benchmark: CASHIER_BATCH_BENCH=1 runs it"))
    func throughputSyncVersusGroupCommit() async throws {
        let dir = try TempDir()
        let callers = 64, pairsPerCaller = 100
        let singlePairs = 1_000
        let (ledger, run, batch) = try fixture(dir, valid: singlePairs + callers * pairsPerCaller, rejected: 0)
        let rows = try ledger.rows(batchID: batch.id, states: [.pending]).map(\.id)

        // One caller awaiting each write: every write its own group, 2 commits (2 fsyncs) per pair.
        let single = ledger.writer()
        var start = ContinuousClock.now
        for rowID in rows[0..<singlePairs] {
            let a = try await single.recordIntent(rowID: rowID, runID: run, operation: .createCashier)
            try await single.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil, returnedID: "c",
                                           outcome: .succeeded, then: .cashierCreated(cashierID: "c"))
        }
        let singleRate = Double(singlePairs) / elapsedSeconds(since: start)
        await single.shutdown()
        #expect(single.statistics.transactions == 2 * singlePairs)

        // LedgerWriter: 64 concurrent callers, each intent → outcome in sequence.
        let writer = ledger.writer()
        let writerRows = Array(rows[singlePairs...])
        start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<callers {
                let slice = writerRows[(c * pairsPerCaller)..<((c + 1) * pairsPerCaller)]
                group.addTask {
                    for rowID in slice {
                        let a = try await writer.recordIntent(rowID: rowID, runID: run, operation: .createCashier)
                        try await writer.recordOutcome(attemptID: a, httpStatus: 201, latencyMs: 1, error: nil,
                                                       returnedID: "c", outcome: .succeeded,
                                                       then: .cashierCreated(cashierID: "c"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let groupPairs = callers * pairsPerCaller
        let groupRate = Double(groupPairs) / elapsedSeconds(since: start)
        await writer.shutdown()
        let stats = writer.statistics
        print("""
            ledger pairs/s (intent + outcome, synchronous=FULL): LedgerWriter 1 caller \(Int(singleRate)); \
            LedgerWriter \(callers) callers \(Int(groupRate)) (\(String(format: "%.1f", groupRate / singleRate))×; \
            \(stats.transactions) transactions for \(stats.operations) ops, \
            avg group \(String(format: "%.1f", Double(stats.operations) / Double(max(1, stats.transactions)))), \
            largest \(stats.largestGroup))
            """)
        #expect(try ledger.countsByState(batchID: batch.id)[.cashierCreated] == singlePairs + groupPairs)
    }
}

extension Array {
    func asyncMap<U>(_ transform: (Element) async throws -> U) async rethrows -> [U] {
        var out: [U] = []
        out.reserveCapacity(count)
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
