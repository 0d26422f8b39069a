import CashierModel
import Foundation
import Gateway
import Ledger
import Synchronization

/// What happened to a row in a run (an `Error` only so that it can end a `Result`).
public enum RowOutcome: Error, Sendable, Equatable { case done, rejected, failed, inDoubt, needsReview, stopped }

/// Where a row stands after one pass: it ended, or it waits for its in-doubt deposit request
/// to settle before it can be checked (it holds no worker meanwhile).
enum RowStep: Sendable, Equatable {
    case ended(RowOutcome)
    case parked(until: Date)
}

/// One row's bookkeeping: its cashier, then its deposit request, each call through the
/// gateway with its intent recorded durably before it is sent and its outcome after the
/// answer, so a crash at any instant loses nothing and a re-run never sends a deposit
/// request twice. A deposit POST without a usable answer leaves the row `in_doubt`: it is
/// parked, and checked by listing (the gateway's ownership rule) once settled.
struct RowSender: Sendable {
    let ledger: Ledger
    /// Group-committed writes: each await returns once the write is durable.
    let writer: LedgerWriter
    let gateway: RebillyGateway
    let policy: SendPolicy
    let runID: Int64
    /// Rows of this pass that went to their deposit request with a known cashier.
    let knownCount = KnownCount()

    var control: RunControl { gateway.control }

    /// `known`: the cashier an earlier night recorded for the row's customer
    /// (``Ledger/knownCashiers(runID:batchID:rows:)``); the row then makes no `POST /cashiers`.
    func send(_ record: RowRecord, known: KnownCashier? = nil) async throws -> RowStep {
        guard let row = record.cashierRow else {
            guard record.sourceJSON != nil else { return .ended(.failed) }
            // Staged before ledger v10 and no longer valid when v10 typed its request. Never send it.
            try await writer.transition(rowID: record.id, to: .rejected, reasonsJSON: #"[{"field":"row","message":"no longer passes validation"}]"#)
            return .ended(.rejected)
        }
        var state = record.state
        /// The deposit request's intent and send time, when recorded with the cashier's outcome.
        var depositIntent: PreparedPost?
        var origin = CashierOrigin.earlier

        // 1. The cashier (repeating it is safe: 200 returns the existing one), unless an earlier
        //    night recorded it: then the row takes that id and no write is spent on it.
        if state == .pending || state == .failed || (state == .cashierCreated && record.cashierID == nil) {
            if let known, record.cashierID == nil {
                try await writer.adoptKnownCashier(rowID: record.id, known)
                knownCount.add(1)
                state = .cashierCreated
                origin = .known
            } else {
                switch try await createCashier(record.id, row) {
                case let .created(intent):
                    state = .cashierCreated
                    depositIntent = intent
                    origin = .madeNow
                case let .ended(outcome):
                    return .ended(outcome)
                }
            }
        }
        guard policy.deposits else {
            if state == .cashierCreated { try await writer.transition(rowID: record.id, to: .done) }
            return .ended(.done)
        }

        // 2. An in-doubt deposit request is checked, once settled, before anything is sent again.
        if state == .inDoubt {
            switch try await verifyDeposit(record.id, row) {
            case .adopted: return .ended(.done)
            case .needsReview: return .ended(.needsReview)
            case .absent: break
            case let .wait(until): return .parked(until: until)
            case let .undecided(outcome): return .ended(outcome)
            }
        }

        // 3. The deposit request.
        return try await createDeposit(record.id, row, preparedIntent: depositIntent, origin: origin)
    }

    // MARK: - A cashier that is gone

    /// Where the row's cashier id came from in this pass: whether a "cashier gone" answer to its
    /// deposit request can be cured by making the cashier (not when this pass just made it).
    enum CashierOrigin { case madeNow, known, earlier }

    /// The one rule: Rebilly answered a deposit-request create 422 with an `invalidFields` entry on
    /// `customerId` saying there is no cashier for the customer, website and currency (the cashier
    /// the row names was deleted at Rebilly). A 422 created nothing, so the row makes its cashier
    /// and sends the deposit request again.
    static func cashierGone(_ failure: CallFailure) -> Bool {
        failure.kind == .rowFinal && failure.status == 422
            && failure.invalidFields.contains { $0.field == "customerId" && $0.message.lowercased().hasPrefix("no cashier") }
    }

    /// Makes the row's cashier again (its id replaces the gone one; the row is no longer a known
    /// one), then sends its deposit request once more.
    private func recreateCashier(_ rowID: Int64, _ row: CashierRow, origin: CashierOrigin) async throws -> RowStep {
        if origin == .known { knownCount.add(-1) }
        switch try await createCashier(rowID, row) {
        case let .created(intent):
            guard policy.deposits else { return .ended(.done) }
            return try await createDeposit(rowID, row, preparedIntent: intent, origin: .madeNow)
        case let .ended(outcome):
            return .ended(outcome)
        }
    }

    // MARK: - The cashier

    enum CashierStep { case created(depositIntent: PreparedPost?), ended(RowOutcome) }

    /// A deposit POST whose intent is already durable: its attempt and its send time.
    struct PreparedPost: Sendable { var attemptID: Int64; var sentAt: Date }

    private func createCashier(_ rowID: Int64, _ row: CashierRow) async throws -> CashierStep {
        let chained = Mutex<PreparedPost?>(nil)
        let chain = policy.deposits
        let hooks = RebillyGateway.Hooks<RebillyGateway.CashierAnswer>(
            intent: { _ in try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createCashier) },
            outcome: { attemptID, result, next in
                guard let attemptID else { return }
                switch result {
                case let .success(answer):
                    let figures = RemoteFigures(answer.cashier, httpStatus: answer.status)
                    // With deposits, the cashier's outcome and the deposit request's intent are one
                    // write; the deposit's token comes first, so that its intent's time is its send time.
                    if chain, !control.isStopped, (try? await gateway.acquireToken()) == true, !control.isStopped {
                        let sentAt = DepositOwnership.sendTime(Date())
                        let intent = try await writer.recordOutcomeThenIntent(
                            attemptID: attemptID, httpStatus: answer.status, latencyMs: Self.ms(answer.latency), error: nil,
                            returnedID: answer.id, outcome: .succeeded, then: .cashierCreated(cashierID: answer.id),
                            remoteFigures: figures, nextOperation: .createDepositRequest, runID: runID, at: sentAt)
                        chained.withLock { $0 = PreparedPost(attemptID: intent, sentAt: sentAt) }
                    } else {
                        try await writer.recordOutcome(attemptID: attemptID, httpStatus: answer.status, latencyMs: Self.ms(answer.latency),
                                                       error: nil, returnedID: answer.id, outcome: .succeeded,
                                                       then: .cashierCreated(cashierID: answer.id), remoteFigures: figures)
                    }
                case let .failure(failure):
                    try await record(attemptID, failure, next, row)
                }
            })
        switch try await gateway.createCashier(body: row.cashierBody, hooks: hooks) {
        case .succeeded:
            if !policy.deposits {
                try await writer.transition(rowID: rowID, to: .done)
                return .ended(.done)
            }
            return .created(depositIntent: chained.withLock { $0 })
        case .rowFinal: return .ended(.rejected)
        case .exhausted: return .ended(.failed)
        case .inDoubt: return .ended(.failed)  // a cashier create is never in doubt (.safe)
        case .stopped: return .ended(.stopped)
        }
    }

    // MARK: - The deposit request

    private func createDeposit(_ rowID: Int64, _ row: CashierRow, preparedIntent: PreparedPost?,
                               origin: CashierOrigin) async throws -> RowStep {
        let mayRecreate = origin != .madeNow
        // Each POST carries the expirationTime set by its own send time (when the batch gives none).
        let sentAt = Mutex<Date>(preparedIntent?.sentAt ?? Date())
        let hooks = RebillyGateway.Hooks<RebillyGateway.DepositRequestAnswer>(
            intent: { _ in
                let at = DepositOwnership.sendTime(Date())
                sentAt.withLock { $0 = at }
                return try await writer.recordIntent(rowID: rowID, runID: runID, operation: .createDepositRequest, at: at)
            },
            outcome: { attemptID, result, next in
                guard let attemptID else { return }
                switch result {
                case let .success(answer):
                    try await writer.recordOutcome(attemptID: attemptID, httpStatus: answer.status, latencyMs: Self.ms(answer.latency),
                                                   error: nil, returnedID: answer.id, outcome: .succeeded,
                                                   then: .done(depositRequestID: answer.id))
                case let .failure(failure) where mayRecreate && next == .rowFinal && Self.cashierGone(failure):
                    // Not the row's fault: it stays as it is, and makes its cashier next.
                    try await writer.recordOutcome(attemptID: attemptID, httpStatus: failure.status, latencyMs: Self.ms(failure.latency),
                                                   error: failure.message, returnedID: nil, outcome: .rejected)
                case let .failure(failure):
                    try await record(attemptID, failure, next, row)
                }
            })
        let given = row.deposit.expirationTime
        switch try await gateway.createDepositRequest(preparedIntent: preparedIntent?.attemptID, hooks: hooks, body: {
            let expiry = given == nil
                ? RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt.withLock { $0 }, rowID: rowID)) : nil
            return row.depositRequestBody(expirationTime: expiry)
        }) {
        case .succeeded: return .ended(.done)
        case let .rowFinal(failure):
            if mayRecreate, Self.cashierGone(failure) { return try await recreateCashier(rowID, row, origin: origin) }
            return .ended(.rejected)
        case .exhausted: return .ended(.failed)
        case .stopped: return .ended(.stopped)
        case .inDoubt:
            switch try await verifyDeposit(rowID, row) {
            case .adopted: return .ended(.done)
            case .needsReview: return .ended(.needsReview)
            case .absent: return try await createDeposit(rowID, row, preparedIntent: nil, origin: origin)
            case let .wait(until): return .parked(until: until)
            case let .undecided(outcome): return .ended(outcome)
            }
        }
    }

    enum Verification { case adopted, needsReview, absent, wait(until: Date), undecided(RowOutcome) }

    /// Lists the customer's deposit requests over the row's window and adopts the one made for
    /// this row, if exactly one matches everything the job sent (``DepositOwnership``) — but only
    /// once the row's last POST has settled: a request whose client went away can still be
    /// committed by the server a moment later, and a list made before that would miss it. Two
    /// matches, or a near miss, put the row in `needs_review`: never adopted, never sent again
    /// without a person. A listing that cannot be completed leaves the row in doubt, saying why.
    private func verifyDeposit(_ rowID: Int64, _ row: CashierRow) async throws -> Verification {
        let postAttempts = try ledger.attempts(rowID: rowID).filter { $0.operation == .createDepositRequest }
        let posts = postAttempts.map(\.requestedAt).sorted()
        guard let first = posts.first, let last = posts.last else {
            try await writer.transition(rowID: rowID, to: .cashierCreated)
            return .absent
        }
        let settled = gateway.settled(after: last)
        if settled > Date() { return .wait(until: settled) }
        let hooks = RebillyGateway.Hooks<RebillyGateway.DepositRequestListPage>(
            intent: { _ in try await writer.recordIntent(rowID: rowID, runID: runID, operation: .listDepositRequests) },
            outcome: { attemptID, result, next in
                guard let attemptID else { return }
                switch result {
                case let .success(page):
                    try await writer.recordOutcome(attemptID: attemptID, httpStatus: page.status, latencyMs: Self.ms(page.latency),
                                                   error: nil, returnedID: nil, outcome: .succeeded)
                case let .failure(failure):
                    // A list is only a read: its failure never moves the row (it stays in doubt).
                    try await record(attemptID, failure, next == .stopCommand ? .stopCommand : .retry, row)
                }
            })
        let key = row.cashier
        let now = Date()
        let scope = RebillyGateway.DepositScope(websiteId: key.websiteId, customerId: key.customerId,
                                                window: gateway.ownership.window(firstPost: first, lastCall: now))
        let listing: [DepositRequest]
        switch try await gateway.listDepositRequests(scope, pageSize: Self.inDoubtPageSize, hooks: hooks) {
        case let .succeeded(items): listing = items
        case .stopped: return .undecided(.stopped)
        case let .rowFinal(failure), let .inDoubt(failure), let .exhausted(failure):
            try await writer.transition(rowID: rowID, to: .inDoubt, reasonsJSON: Self.reasons(field: "depositRequest", message:
                "still in doubt: its deposit requests could not be listed (\(failure.message)); `cashier-batch retry` checks again"))
            return .undecided(.inDoubt)
        }
        let verdict = gateway.ownership.verdict(
            for: DepositOwnership.Row(customerId: key.customerId, websiteId: key.websiteId, currency: key.currency.code,
                                      terms: row.deposit, posts: posts, lastCall: now, rowID: rowID),
            among: listing)
        if let adopted = verdict.adoptable {
            try await writer.transition(rowID: rowID, to: .done, depositRequestID: adopted.id)
            return .adopted
        }
        if verdict.needsReview {
            try await writer.transition(rowID: rowID, to: .needsReview, reasonsJSON: Self.reasons(field: "depositRequest", message:
                verdict.needsReviewReason + "; see `cashier-batch resolve`"), candidates: verdict.candidates.map(\.id))
            return .needsReview
        }
        // Verified absent. A row whose POSTs of this run reached --max-attempts stops here.
        let postsThisRun = postAttempts.filter { $0.runID == runID }.count
        if postsThisRun >= gateway.settings.maxAttempts {
            try await writer.transition(rowID: rowID, to: .failed, reasonsJSON: Self.reasons(field: "api", message:
                "no deposit request was created after \(postsThisRun) unanswered attempts"))
            return .undecided(.failed)
        }
        try await writer.transition(rowID: rowID, to: .cashierCreated)
        return .absent
    }

    /// Deposit requests per page when a row's window is listed (a window holds a few).
    static let inDoubtPageSize = 100

    // MARK: - Recording

    /// Records a failed attempt's outcome, moving the row when the failure ends it.
    private func record(_ attemptID: Int64, _ failure: CallFailure, _ next: RebillyGateway.Next, _ row: CashierRow) async throws {
        let outcome: AttemptOutcome
        var transition: RowTransition?
        switch next {
        case .stopCommand: outcome = .fatal
        case .rowFinal:
            outcome = .rejected
            transition = .rejected(reasonsJSON: Self.reasons(failure, row: row))
        case .inDoubt:
            outcome = .lost
            transition = .inDoubt
        case .exhausted:
            outcome = failure.mayHaveBeenApplied ? .lost : .retryable
            transition = .failed(reasonsJSON: Self.reasons(failure, row: row))
        case .retry, .done:
            outcome = failure.mayHaveBeenApplied ? .lost : .retryable
        }
        try await writer.recordOutcome(attemptID: attemptID, httpStatus: failure.status, latencyMs: Self.ms(failure.latency),
                                       error: failure.message, returnedID: nil, outcome: outcome, then: transition)
    }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }

    static func reasons(_ failure: CallFailure, row: CashierRow) -> String {
        if failure.kind == .rowFinal, !failure.invalidFields.isEmpty {
            return FieldIssue.json(failure.invalidFields.map { FieldIssue(field: $0.field, message: explained($0, row: row)) })
        }
        return reasons(field: "api", message: failure.message)
    }

    /// Rebilly's reason, said plainly when it names a customer or website that does not exist:
    /// the operator must create it in Rebilly before the row can go.
    static func explained(_ issue: FieldIssue, row: CashierRow) -> String {
        let missing = ["not found", "does not exist", "not exist", "unknown"].contains { issue.message.lowercased().contains($0) }
        guard missing else { return issue.message }
        switch issue.field {
        case "customerId": return "customer \(Printable.text(row.cashier.customerId)) does not exist in Rebilly (create it first)"
        case "websiteId": return "website \(Printable.text(row.cashier.websiteId)) does not exist in Rebilly (create it first)"
        default: return issue.message
        }
    }

    static func reasons(field: String, message: String) -> String {
        FieldIssue.json([FieldIssue(field: field, message: message)])
    }
}

/// Rows of a pass that took a known cashier (``RowSender/send(_:known:)``), less those whose
/// cashier was gone and made again.
final class KnownCount: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
