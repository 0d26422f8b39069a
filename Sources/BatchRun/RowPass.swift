import CashierModel
import Foundation
import Gateway
import Ledger

/// One row's pass carried out: every action its ``RowLifecycle`` returns, performed in order
/// (ledger writes, tokens, attempts through the gateway, the in-doubt listing), each answer
/// told back to the lifecycle. It decides nothing itself.
struct RowPass {
    let sender: RowSender
    let record: RowRecord
    let row: CashierRow?
    let known: KnownCashier?
    var lifecycle: RowLifecycle

    /// The permit taken for the attempt about to be sent.
    var permit: RebillyGateway.Permit?
    /// The deposit POST's send time: its intent's time, and the expiry its body carries.
    var sentAt = Date()
    /// The cashier's last answer (its figures are recorded with its outcome).
    var cashierAnswer: RebillyGateway.CashierAnswer?
    /// The in-doubt listing under way, its last answered page, the requests taken so far, and
    /// the instant it was opened (the window's end and the ownership rule's last call).
    var listing: DepositListing?
    var page: RebillyGateway.DepositRequestListPage?
    var listed: [DepositRequest] = []
    var lastCall = Date()

    init(_ sender: RowSender, _ record: RowRecord, known: KnownCashier?) {
        self.sender = sender
        self.record = record
        self.row = record.cashierRow
        self.known = known
        lifecycle = RowLifecycle(row: row, hasSource: record.sourceJSON != nil, state: record.state, cashierID: record.cashierID,
                                 known: known != nil, settings: sender.settings)
    }

    /// Runs the pass to its end or until the row is parked; returns that state and the row's.
    mutating func run() async throws -> (RowLifecycle.State, RowState) {
        var pending = lifecycle.start()
        while !pending.isEmpty {
            let action = pending.removeFirst()
            if let next = try await carryOut(action) {
                precondition(pending.isEmpty, "an answered action is the last of its batch")
                pending = next
            }
        }
        return (lifecycle.state, lifecycle.rowState)
    }

    /// Carries out one action; returns the lifecycle's next actions when the action is answered.
    private mutating func carryOut(_ action: RowLifecycle.Action) async throws -> [RowLifecycle.Action]? {
        let (writer, gateway) = (sender.writer, sender.gateway)
        switch action {
        case let .takePermit(operation):
            let budget: RebillyGateway.Budget = operation == .listDepositRequests ? .read : .write
            if case .chaining = lifecycle.state {
                // A chained token that cannot be taken leaves the cashier's outcome to be recorded alone.
                permit = (try? await gateway.permit(budget)) ?? nil
            } else {
                permit = try await gateway.permit(budget)
            }
            return permit == nil ? lifecycle.stopped() : lifecycle.permitted()
        case let .recordIntent(operation):
            let id: Int64
            do {
                if operation == .createDepositRequest {
                    sentAt = DepositOwnership.sendTime(Date())
                    id = try await writer.recordIntent(rowID: record.id, runID: sender.runID, operation: operation, at: sentAt)
                } else {
                    id = try await writer.recordIntent(rowID: record.id, runID: sender.runID, operation: operation)
                }
            } catch {
                if let permit { await gateway.giveBack(permit) }
                throw error
            }
            return lifecycle.intentRecorded(id)
        case let .recordOutcomeThenIntent(outcome, next):
            sentAt = DepositOwnership.sendTime(Date())
            let id = try await writer.recordOutcomeThenIntent(
                attemptID: outcome.attemptID, httpStatus: outcome.httpStatus, latencyMs: outcome.latencyMs, error: outcome.error,
                returnedID: outcome.returnedID, outcome: outcome.outcome, then: outcome.transition, remoteFigures: figures(outcome),
                nextOperation: next, runID: sender.runID, at: sentAt)
            return lifecycle.intentRecorded(id)
        case let .send(operation, _):
            guard let permit, let row else { preconditionFailure("a send without its permit or request") }
            self.permit = nil
            return try await send(operation, permit, row)
        case let .recordOutcome(outcome):
            try await writer.recordOutcome(attemptID: outcome.attemptID, httpStatus: outcome.httpStatus, latencyMs: outcome.latencyMs,
                                           error: outcome.error, returnedID: outcome.returnedID, outcome: outcome.outcome,
                                           then: outcome.transition, remoteFigures: figures(outcome))
        case let .move(transition, candidates):
            try await writer.transition(rowID: record.id, to: transition.state, cashierID: transition.cashierID,
                                        depositRequestID: transition.depositRequestID, reasonsJSON: transition.reasonsJSON,
                                        candidates: candidates)
        case .adoptKnownCashier:
            guard let known else { preconditionFailure("no known cashier to adopt") }
            try await writer.adoptKnownCashier(rowID: record.id, known)
            sender.knownCount.add(1)
        case .forgetKnownCashier:
            sender.knownCount.add(-1)
        case let .backOff(failure, attempt):
            try await gateway.pause(after: failure, attempt: attempt)
        case .readPosts:
            let posts = try sender.ledger.attempts(rowID: record.id).filter { $0.operation == .createDepositRequest }
            return lifecycle.postsRead(posts.map(\.requestedAt), thisRun: posts.filter { $0.runID == sender.runID }.count, now: Date())
        case let .openListing(firstPost):
            guard let key = row?.cashier else { preconditionFailure("a listing for a row without its request") }
            lastCall = Date()
            let window = gateway.ownership.window(firstPost: firstPost, lastCall: lastCall)
            listing = DepositListing(.init(websiteId: key.websiteId, customerId: key.customerId, window: window),
                                     pageSize: RowSender.inDoubtPageSize)
            listed = []
        case .takePage:
            guard var listing, let page else { preconditionFailure("a page taken without its listing") }
            listed += listing.take(page)
            self.listing = listing
            self.page = nil
            if let stuck = listing.stuck { return lifecycle.listingStuck(stuck) }
            return lifecycle.pageTaken(complete: listing.isComplete)
        case let .judge(posts):
            guard let row else { preconditionFailure("a verdict for a row without its request") }
            let key = row.cashier
            let verdict = gateway.ownership.verdict(
                for: DepositOwnership.Row(customerId: key.customerId, websiteId: key.websiteId, currency: key.currency.code,
                                          terms: row.deposit, posts: posts, lastCall: lastCall, rowID: record.id),
                among: listed)
            if let adopted = verdict.adoptable { return lifecycle.listed(adopting: adopted.id) }
            if verdict.needsReview {
                return lifecycle.listedForReview(reason: verdict.needsReviewReason, candidates: verdict.candidates.map(\.id))
            }
            return lifecycle.listedAbsent()
        case .park, .end:
            break
        }
        return nil
    }

    /// One attempt of `operation` through the gateway; its answer or failure told to the lifecycle.
    private mutating func send(_ operation: AttemptOperation, _ permit: RebillyGateway.Permit,
                               _ row: CashierRow) async throws -> [RowLifecycle.Action] {
        let gateway = sender.gateway
        switch operation {
        case .createCashier:
            switch try await gateway.attemptCreateCashier(permit, body: row.cashierBody) {
            case let .success(answer):
                cashierAnswer = answer
                return lifecycle.answered(status: answer.status, latency: answer.latency, id: answer.id)
            case let .failure(failure): return lifecycle.failed(failure)
            }
        case .createDepositRequest:
            // Each POST carries the expirationTime set by its own send time (when the batch gives none).
            let expiry = row.deposit.expirationTime == nil
                ? RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: record.id)) : nil
            switch try await gateway.attemptCreateDepositRequest(permit, body: row.depositRequestBody(expirationTime: expiry)) {
            case let .success(answer): return lifecycle.answered(status: answer.status, latency: answer.latency, id: answer.id)
            case let .failure(failure): return lifecycle.failed(failure)
            }
        case .listDepositRequests:
            guard let listing else { preconditionFailure("a page sent without its listing") }
            switch try await gateway.attemptListPage(permit, listing) {
            case let .success(answer):
                page = answer
                return lifecycle.answered(status: answer.status, latency: answer.latency, id: nil)
            case let .failure(failure): return lifecycle.failed(failure)
            }
        case .getCashier, .getDepositRequest:
            preconditionFailure("a row's pass sends no \(operation.rawValue)")
        }
    }

    /// The cashier's figures from its answer, for the outcome that asks for them.
    private func figures(_ outcome: RowLifecycle.AttemptRecord) -> RemoteFigures? {
        guard outcome.withFigures, let answer = cashierAnswer else { return nil }
        return RemoteFigures(answer.cashier, httpStatus: answer.status)
    }
}
