import CashierModel
import Foundation
import Gateway
import Ledger

/// What a send pass did: the rows it took, counted by their outcome (`unfinished`: not taken, or
/// left unfinished, because the run was stopped).
extension RowCounts {
    mutating func count(_ outcome: RowOutcome) {
        switch outcome {
        case .done: done += 1
        case .rejected: rejected += 1
        case .failed: failed += 1
        case .inDoubt: inDoubt += 1
        case .needsReview: needsReview += 1
        case .stopped: unfinished += 1
        }
    }
}

/// Sends the open rows of a batch, many in flight at once (each row's calls in order), all
/// through one gateway. A row whose deposit request is in doubt is parked until it has
/// settled and checked then: it holds none of the `--concurrency` slots while it waits, so
/// the other rows keep going.
public struct BatchSender: Sendable {
    let ledger: Ledger
    let gateway: RebillyGateway
    let policy: SendPolicy
    let runID: Int64
    /// Told when nothing is left to send but parked rows: how long, for how many.
    let onWait: @Sendable (_ seconds: Double, _ rows: Int) -> Void

    public init(ledger: Ledger, gateway: RebillyGateway, policy: SendPolicy, runID: Int64,
                onWait: @escaping @Sendable (_ seconds: Double, _ rows: Int) -> Void = { _, _ in }) {
        self.ledger = ledger
        self.gateway = gateway
        self.policy = policy
        self.runID = runID
        self.onWait = onWait
    }

    /// The states a pass takes: everything not finished (`done`/`rejected` are final).
    public static let openStates = Set(RowState.allCases.filter(\.isOpen))

    /// Sends every row of `batchID` in one of `states`, in line order; returns what happened.
    /// `onRow` is called after each row ends (progress).
    public func send(batchID: Int64, states: Set<RowState> = openStates,
                     onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in }) async throws -> RowCounts {
        try await send(batchIDs: [batchID], states: states, onRow: onRow)
    }

    /// Sends the batches' rows in one pass, batch after batch in line order: a row parked for its
    /// in-doubt check does not hold up the next batch, whose rows are sent meanwhile.
    public func send(batchIDs: [Int64], states: Set<RowState> = openStates,
                     onRow: @escaping @Sendable (RowOutcome) -> Void = { _ in }) async throws -> RowCounts {
        let writer = ledger.writer()
        do {
            let tally = try await send(batchIDs: batchIDs, states: states, writer: writer, onRow: onRow)
            await writer.shutdown()
            return tally
        } catch {
            await writer.shutdown()
            throw error
        }
    }

    private enum Event: Sendable {
        /// A row's pass returned, ended or parked, with the row as it left it.
        case row(RowRecord, RowLifecycle.State)
        /// The earliest parked row's settle time has come.
        case wake
    }

    private struct Parked {
        var record: RowRecord
        var until: Date
    }

    private func send(batchIDs: [Int64], states: Set<RowState>, writer: LedgerWriter,
                      onRow: @escaping @Sendable (RowOutcome) -> Void) async throws -> RowCounts {
        var tally = RowCounts()
        let sender = RowSender(ledger: ledger, writer: writer, gateway: gateway, policy: policy, runID: runID)
        let control = gateway.control
        let slots = max(1, policy.concurrency)
        let window = policy.window
        let writesPerRow = policy.writesPerRow
        try await withThrowingTaskGroup(of: Event.self) { group in
            var inFlight = 0
            var parked: [Parked] = []
            var waking = false
            /// The settle time last announced through `onWait` (each wait is said once, when it starts).
            var announced: Date?

            /// With `--until`: whether a new row, behind the writes of the rows in flight (or the
            /// writes waiting for a token, if more), can finish by the deadline with the write
            /// budget as it stands. The first row that cannot closes the window for good.
            /// `writes`: the row's own (one fewer when its cashier is known: no `POST /cashiers`).
            func fitsWindow(inFlight: Int, writes: Int) async -> Bool {
                guard let window else { return true }
                if window.isClosed { return false }
                let waiting = await gateway.limiterStatus.waiting
                let grants = await gateway.secondsToWrites(max(waiting, inFlight * writesPerRow) + writes)
                if window.fits(now: Date(), grantSeconds: grants) { return true }
                window.close()
                return false
            }
            /// Parked rows the loop waits for: with `--until`, those that settle by the deadline
            /// (one that settles after it cannot be checked in the window: it stays in doubt).
            func waitable(_ rows: [Parked]) -> [Parked] {
                guard let window else { return rows }
                return rows.filter { $0.until <= window.deadline }
            }
            func dispatch(_ record: RowRecord, known: KnownCashier? = nil) {
                inFlight += 1
                group.addTask {
                    var after = record
                    let state = try await Self.guarded(control) {
                        let (state, rowState) = try await sender.send(record, known: known)
                        after.state = rowState
                        return state
                    }
                    return .row(after, state)
                }
            }
            func handle(_ event: Event) {
                switch event {
                case let .row(_, .ended(outcome)):
                    inFlight -= 1
                    tally.count(outcome)
                    onRow(outcome)
                case let .row(record, .parked(until)):
                    inFlight -= 1
                    parked.append(Parked(record: record, until: until))
                case let .row(_, state):
                    preconditionFailure("a row's pass returned while \(state)")
                case .wake:
                    waking = false
                }
            }
            /// Parked rows whose settle time has come go before new rows.
            func dispatchSettled() {
                guard !control.isStopped else { return }
                let now = Date()
                parked.sort { $0.until < $1.until }
                while inFlight < slots, let index = parked.firstIndex(where: { $0.until <= now }) {
                    let first = parked.remove(at: index)
                    if let window, first.until > window.deadline { parked.append(first); break }
                    dispatch(first.record)
                }
            }
            /// One timer at a time wakes the loop for the earliest parked row, or as soon as the
            /// command is stopped (a signal ends a settle wait within a tick; the rows stay in doubt).
            func armWake() {
                guard !waking, let earliest = waitable(parked).map(\.until).min() else { return }
                waking = true
                group.addTask {
                    while !control.isStopped, earliest.timeIntervalSinceNow > 0 {
                        let tick = min(earliest.timeIntervalSinceNow, Self.stopCheckSeconds)
                        try? await Task.sleep(for: .milliseconds(Int(tick * 1000) + 1))
                    }
                    return .wake
                }
            }

            var isFirst = true
            for batchID in batchIDs {
                // Stopped: the later batches are not read (their rows are not counted as not taken).
                if control.isStopped { break }
                var afterID: Int64 = 0
                pages: while true {
                    let page = try ledger.rows(batchID: batchID, states: states, afterID: afterID, limit: 500)
                    if page.isEmpty { break }
                    // The cashiers earlier nights recorded for this page's customers: one query a page.
                    let known = try ledger.knownCashiers(runID: runID, batchID: batchID, rows: page[0].id...page[page.count - 1].id)
                    for row in page {
                        afterID = row.id
                        if control.isStopped || window?.isClosed == true { tally.unfinished += 1; continue }
                        if isFirst {
                            // The first row goes alone: bad credentials stop the run after one answer,
                            // before any other row is sent.
                            isFirst = false
                            guard await fitsWindow(inFlight: inFlight, writes: known[row.id] == nil ? writesPerRow : writesPerRow - 1)
                            else { tally.unfinished += 1; continue }
                            dispatch(row, known: known[row.id])
                            while inFlight > 0, let event = try await group.next() { handle(event) }
                            continue
                        }
                        dispatchSettled()
                        while inFlight >= slots, let event = try await group.next() {
                            handle(event)
                            dispatchSettled()
                        }
                        if control.isStopped { tally.unfinished += 1; continue }
                        guard await fitsWindow(inFlight: inFlight, writes: known[row.id] == nil ? writesPerRow : writesPerRow - 1)
                        else { tally.unfinished += 1; continue }
                        dispatch(row, known: known[row.id])
                    }
                    if page.count < 500 { break pages }
                }
            }
            // The rows still running, then the parked ones as they settle.
            while inFlight > 0 || (!waitable(parked).isEmpty && !control.isStopped) {
                dispatchSettled()
                if !waitable(parked).isEmpty, !control.isStopped {
                    // Said whether or not the wake timer was armed while rows were still running.
                    if inFlight == 0, let earliest = waitable(parked).map(\.until).min(), announced != earliest {
                        announced = earliest
                        onWait(max(0, earliest.timeIntervalSinceNow), waitable(parked).count)
                    }
                    armWake()
                }
                guard let event = try await group.next() else { break }
                handle(event)
            }
            // Stopped while rows were parked, or their settle time falls after `--until`: they
            // stay in doubt for the next run.
            if !parked.isEmpty, !control.isStopped { window?.close() }
            for _ in parked {
                tally.inDoubt += 1
                onRow(.inDoubt)
            }
            group.cancelAll()
        }
        tally.cashierKnown = sender.knownCount.count
        return tally
    }

    /// How often a settle wait looks at the stop flag, in seconds.
    static let stopCheckSeconds = 0.25

    /// A row cut short by the stop flag (or a cancelled task) counts as stopped, not as an error.
    /// Any other error is the ledger failing to record: every worker stops sending at once.
    static func guarded(_ control: RunControl, _ body: () async throws -> RowLifecycle.State) async throws -> RowLifecycle.State {
        do {
            return try await body()
        } catch is CancellationError {
            return .ended(.stopped)
        } catch {
            control.stop(.ledgerFailed("\(error)"))
            throw error
        }
    }
}
