import Ledger

/// What a send pass did, counted by the outcome of each row it took.
public struct SendTally: Sendable, Equatable {
    public var done = 0
    public var rejected = 0
    public var failed = 0
    public var inDoubt = 0
    /// Rows not taken or left unfinished because the run was stopped.
    public var stopped = 0

    public init() {}

    mutating func add(_ outcome: RowOutcome) {
        switch outcome {
        case .done: done += 1
        case .rejected: rejected += 1
        case .failed: failed += 1
        case .inDoubt: inDoubt += 1
        case .stopped: stopped += 1
        }
    }
}

/// Sends the open rows of a batch, many in flight at once (each row's two calls in
/// order), all through one gate (rate limit + pauses) and one stop flag.
public struct BatchSender: Sendable {
    let ledger: Ledger
    let api: any CashierAPI
    let gate: any RequestGate
    let control: RunControl
    let policy: SendPolicy
    let runID: Int64

    public init(ledger: Ledger, api: any CashierAPI, gate: any RequestGate, control: RunControl, policy: SendPolicy, runID: Int64) {
        self.ledger = ledger
        self.api = api
        self.gate = gate
        self.control = control
        self.policy = policy
        self.runID = runID
    }

    /// The states a pass takes: everything not finished (`done`/`rejected` are final).
    public static let openStates: Set<RowState> = [.pending, .cashierCreated, .failed, .inDoubt]

    /// Sends every row of `batchID` in one of `states`, in line order; returns what happened.
    /// `onRow` is called after each row (progress).
    public func send(batchID: Int64, states: Set<RowState> = openStates,
                     onRow: @Sendable (RowOutcome) -> Void = { _ in }) async throws -> SendTally {
        let writer = ledger.writer()
        do {
            let tally = try await send(batchID: batchID, states: states, writer: writer, onRow: onRow)
            await writer.shutdown()
            return tally
        } catch {
            await writer.shutdown()
            throw error
        }
    }

    private func send(batchID: Int64, states: Set<RowState>, writer: LedgerWriter,
                      onRow: @Sendable (RowOutcome) -> Void) async throws -> SendTally {
        var tally = SendTally()
        let sender = RowSender(ledger: ledger, writer: writer, api: api, gate: gate, control: control, policy: policy, runID: runID)
        let control = self.control
        try await withThrowingTaskGroup(of: RowOutcome.self) { group in
            var inFlight = 0
            var afterID: Int64 = 0
            var isFirst = true
            pages: while true {
                let page = try ledger.rows(batchID: batchID, states: states, afterID: afterID, limit: 500)
                if page.isEmpty { break }
                for row in page {
                    afterID = row.id
                    if control.isStopped { tally.stopped += 1; continue }
                    if isFirst {
                        // The first row goes alone: bad credentials stop the run after one answer,
                        // before any other row is sent.
                        isFirst = false
                        let outcome = try await Self.guarded(control) { try await sender.send(row) }
                        tally.add(outcome)
                        onRow(outcome)
                        continue
                    }
                    if inFlight >= max(1, policy.concurrency) {
                        if let outcome = try await group.next() {
                            inFlight -= 1
                            tally.add(outcome)
                            onRow(outcome)
                        }
                    }
                    if control.isStopped { tally.stopped += 1; continue }
                    group.addTask { try await Self.guarded(control) { try await sender.send(row) } }
                    inFlight += 1
                }
                if page.count < 500 { break pages }
            }
            while let outcome = try await group.next() {
                tally.add(outcome)
                onRow(outcome)
            }
        }
        return tally
    }

    /// A row cut short by the stop flag (or a cancelled task) counts as stopped, not as an error.
    /// Any other error is the ledger failing to record: every worker stops sending at once.
    static func guarded(_ control: RunControl, _ body: () async throws -> RowOutcome) async throws -> RowOutcome {
        do {
            return try await body()
        } catch is CancellationError {
            return .stopped
        } catch {
            control.stop(.ledgerFailed("\(error)"))
            throw error
        }
    }
}
