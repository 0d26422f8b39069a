import CashierModel
import Foundation
import Ledger
import Throttle

/// Sends one row: the cashier, then its deposit request, each call recorded in the
/// ledger before it is made (the intent) and after (the outcome), so that a crash at
/// any instant loses nothing and a re-run never sends a deposit request twice.
///
/// A deposit POST whose answer was lost, timed out or failed with a 5xx may have been
/// created: the row becomes `in_doubt` and is verified (listed) before any new POST,
/// adopting the deposit request created for it if there is one.
/// What happened to a row in a run (an `Error` only so that it can end a `Result`).
public enum RowOutcome: Error, Sendable, Equatable { case done, rejected, failed, inDoubt, stopped }

struct RowSender: Sendable {
    let ledger: Ledger
    /// Group-committed writes: each await returns once the write is durable.
    let writer: LedgerWriter
    let api: any CashierAPI
    let gate: any RequestGate
    let control: RunControl
    let policy: SendPolicy
    let runID: Int64

    func send(_ record: RowRecord) async throws -> RowOutcome {
        guard let payload = record.sourceJSON else { return .failed }
        let raw = try RawRecord(line: record.line, sourceJSON: payload)
        guard case let .valid(row) = RowValidator().validate(raw) else {
            // Staged as valid, no longer valid: the validator changed. Never send it.
            try await writer.transition(rowID: record.id, to: .rejected, reasonsJSON: #"[{"field":"row","message":"no longer passes validation"}]"#)
            return .rejected
        }
        var state = record.state
        /// The deposit request's intent, when it was recorded with the cashier's outcome.
        var depositIntent: Int64?

        // 1. The cashier (repeating it is safe: 200 returns the existing one).
        if state == .pending || state == .failed || (state == .cashierCreated && record.cashierID == nil) {
            // The outcome and the row's new state are one write.
            // With deposits, the cashier's outcome and the deposit request's intent are one write.
            let (result, next) = try await call(.createCashier, rowID: record.id, figuresIn: row.cashier.currency,
                                                then: { .cashierCreated(cashierID: $0.id) },
                                                chainTo: policy.deposits ? .createDepositRequest : nil,
                                                { await api.createCashier(body: row.cashierBody) })
            switch result {
            case .success:
                state = .cashierCreated
                depositIntent = next
                if !policy.deposits {
                    try await writer.transition(rowID: record.id, to: .done)
                    return .done
                }
            case let .failure(end): return end
            }
        }
        guard policy.deposits else {
            if state == .cashierCreated { try await writer.transition(rowID: record.id, to: .done) }
            return .done
        }

        // 2. An in-doubt deposit request is verified before anything is sent again.
        if state == .inDoubt {
            switch try await verifyDeposit(record.id, row) {
            case .adopted: return .done
            case .absent: state = .cashierCreated
            case let .undecided(end): return end
            }
        }

        // 3. The deposit request.
        var attempt = 0
        while true {
            attempt += 1
            let (result, _) = try await callOnce(.createDepositRequest, rowID: record.id, recordedIntent: depositIntent,
                                                 then: { .done(depositRequestID: $0.id) }) {
                await api.createDepositRequest(body: row.depositRequestBody)
            }
            depositIntent = nil
            switch result {
            case .success:
                return .done
            case let .failure(failure):
                if case .rejected = failure.kind { return .rejected }
                if failure.kind == .fatal { return .stopped }
                if failure.mayHaveBeenApplied || (failure.httpStatus ?? 0) >= 500 {
                    try await writer.transition(rowID: record.id, to: .inDoubt)
                    switch try await verifyDeposit(record.id, row) {
                    case .adopted: return .done
                    case .absent: break
                    case let .undecided(end): return end
                    }
                }
                if attempt >= policy.maxAttempts {
                    try await writer.transition(rowID: record.id, to: .failed, reasonsJSON: Self.reasons(failure))
                    return .failed
                }
                if control.isStopped { return .stopped }
                try await pause(after: failure, attempt: attempt)
            }
        }
    }

    enum Verification { case adopted, absent, undecided(RowOutcome) }

    /// Lists the customer's deposit requests and adopts the one created for this row, if any.
    private func verifyDeposit(_ rowID: Int64, _ row: CashierRow) async throws -> Verification {
        let attempts = try ledger.attempts(rowID: rowID).filter { $0.operation == .createDepositRequest }.map(\.requestedAt)
        let since = attempts.min()
        // A request whose client went away can still be committed by the server a moment
        // later: only list once the last attempt is older than the settle time, or a
        // deposit request committed after the list would be duplicated by the next POST.
        if let last = attempts.max() {
            let wait = last.addingTimeInterval(policy.inDoubtSettleSeconds).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1)) }
        }
        switch try await call(.listDepositRequests, rowID: rowID, {
            await api.listDepositRequests(customerId: row.cashier.customerId, websiteId: row.cashier.websiteId)
        }).result {
        case let .success(list):
            let mine = list.items.filter { item in
                guard item.currency == nil || item.currency == row.cashier.currency.code else { return false }
                guard let since, let created = item.createdTime.flatMap(Self.parseTime) else { return since == nil }
                return created.timeIntervalSince(since) >= -policy.adoptionSkewSeconds
            }
            // The oldest one is this row's; any later one would be a duplicate for reconciliation to flag.
            if let adopted = mine.min(by: { ($0.createdTime ?? "") < ($1.createdTime ?? "") }) {
                try await writer.transition(rowID: rowID, to: .done, depositRequestID: adopted.id)
                return .adopted
            }
            try await writer.transition(rowID: rowID, to: .cashierCreated)
            return .absent
        case let .failure(end):
            return .undecided(end == .failed ? .inDoubt : end)
        }
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Calls with retries; returns the value or how the row ended, and the id of the
    /// `chainTo` call's intent when it was recorded with the success (see ``callOnce``).
    private func call<T: Sendable>(_ operation: AttemptOperation, rowID: Int64, figuresIn currency: Currency? = nil,
                                   then transition: (T) -> RowTransition? = { _ in nil },
                                   chainTo next: AttemptOperation? = nil,
                                   _ body: @Sendable () async -> Result<T, APIFailure>) async throws -> (result: Result<T, RowOutcome>, nextIntent: Int64?) {
        var attempt = 0
        while true {
            attempt += 1
            let (result, nextIntent) = try await callOnce(operation, rowID: rowID, figuresIn: currency, then: transition, chainTo: next, body)
            switch result {
            case let .success(value): return (.success(value), nextIntent)
            case let .failure(failure):
                switch failure.kind {
                case .rejected: return (.failure(.rejected), nil)
                case .fatal: return (.failure(.stopped), nil)
                case .retryable:
                    if attempt >= policy.maxAttempts {
                        if operation == .createCashier {
                            try await writer.transition(rowID: rowID, to: .failed, reasonsJSON: Self.reasons(failure))
                        }
                        return (.failure(.failed), nil)
                    }
                    if control.isStopped { return (.failure(.stopped), nil) }
                    try await pause(after: failure, attempt: attempt)
                }
            }
        }
    }

    /// One attempt: gate, intent, call, outcome — and the row's state for a definite answer.
    /// `currency`: keep a cashier reply's figures (exact text, minor units at its exponent) for reconciliation.
    /// `recordedIntent`: the intent is already in the ledger (and its token taken): send at once.
    /// `chainTo`: on success, take the next call's token and record its intent in the same write
    /// as this outcome (one ledger write fewer per row); returns that intent's attempt id.
    private func callOnce<T: Sendable>(_ operation: AttemptOperation, rowID: Int64, figuresIn currency: Currency? = nil,
                                       recordedIntent: Int64? = nil,
                                       then transition: (T) -> RowTransition? = { _ in nil },
                                       chainTo next: AttemptOperation? = nil,
                                       _ body: @Sendable () async -> Result<T, APIFailure>) async throws -> (Result<T, APIFailure>, Int64?) {
        let attemptID: Int64
        if let recordedIntent {
            attemptID = recordedIntent
        } else {
            try await gate.acquire()
            if control.isStopped { throw CancellationError() }
            attemptID = try await writer.recordIntent(rowID: rowID, runID: runID, operation: operation)
        }
        // The ledger failed meanwhile: send nothing more (the intent stays in flight, and the next
        // run checks it before sending again).
        if case .ledgerFailed? = control.stopReason { throw CancellationError() }
        let result = await body()
        var nextIntent: Int64?
        switch result {
        case let .success(value):
            let (status, latency, id, quota) = Self.describe(value)
            let figures = currency.flatMap { c in (value as? CashierReply).map { Self.figures($0, currency: c) } }
            // The next call's token comes first, so that its intent's time is its send time.
            if let next, !control.isStopped, (try? await gate.acquire()) != nil, !control.isStopped {
                nextIntent = try await writer.recordOutcomeThenIntent(
                    attemptID: attemptID, httpStatus: status, latencyMs: latency, error: nil, returnedID: id, outcome: .succeeded,
                    then: transition(value), remoteFigures: figures, nextOperation: next, runID: runID)
            } else {
                try await writer.recordOutcome(attemptID: attemptID, httpStatus: status, latencyMs: latency, error: nil, returnedID: id, outcome: .succeeded,
                                               then: transition(value), remoteFigures: figures)
            }
            await gate.succeeded(quota: quota)
        case let .failure(failure):
            switch failure.kind {
            case .fatal:
                try await writer.recordOutcome(attemptID: attemptID, httpStatus: failure.httpStatus, latencyMs: failure.latencyMs,
                                         error: failure.message, returnedID: nil, outcome: .fatal)
                control.stop(.credentialsRefused("HTTP \(failure.httpStatus ?? 0): \(failure.message)"))
            case .rejected:
                try await writer.recordOutcome(attemptID: attemptID, httpStatus: failure.httpStatus, latencyMs: failure.latencyMs,
                                         error: failure.message, returnedID: nil, outcome: .rejected,
                                         then: operation == .listDepositRequests ? nil : .rejected(reasonsJSON: Self.reasons(failure)))
            case .retryable:
                try await writer.recordOutcome(attemptID: attemptID, httpStatus: failure.httpStatus, latencyMs: failure.latencyMs,
                                         error: failure.message, returnedID: nil,
                                         outcome: failure.mayHaveBeenApplied ? .lost : .retryable)
                if let status = failure.httpStatus, status == 429 || status == 503 {
                    await gate.throttled(status: status, retryAfterSeconds: failure.retryAfterSeconds)
                }
            }
        }
        return (result, nextIntent)
    }

    private func pause(after failure: APIFailure, attempt: Int) async throws {
        if failure.httpStatus == 429, failure.retryAfterSeconds != nil { return }  // the gate already paused everyone
        try await Task.sleep(for: Backoff(base: policy.backoffBase, cap: policy.backoffCap).delay(attempt: attempt - 1))
    }

    private static func describe<T>(_ value: T) -> (Int?, Int?, String?, Quota) {
        switch value {
        case let reply as CashierReply: (reply.httpStatus, reply.latencyMs, reply.id, reply.quota)
        case let reply as DepositReply: (reply.httpStatus, reply.latencyMs, reply.id, reply.quota)
        case let list as DepositList: (list.httpStatus, list.latencyMs, nil, list.quota)
        default: (nil, nil, nil, Quota())
        }
    }

    /// What Rebilly said the cashier holds (kept for reconciliation): the exact texts and,
    /// when a text is a valid amount of the currency, its minor units. Never through `Double`.
    static func figures(_ reply: CashierReply, currency: Currency) -> RemoteFigures {
        func minor(_ text: String?) -> Int64? {
            guard let text, case let .success(amount) = Amount.parse(Substring(text), exponent: currency.exponent) else { return nil }
            return amount.minorUnits
        }
        return RemoteFigures(
            cashierID: reply.id, httpStatus: reply.httpStatus, currency: currency.code, exponent: currency.exponent,
            balanceMinor: minor(reply.balance), bonusBalanceMinor: minor(reply.bonusBalance),
            pendingPayoutTotalMinor: minor(reply.pendingPayoutTotal),
            balanceText: reply.balance, bonusBalanceText: reply.bonusBalance, pendingPayoutTotalText: reply.pendingPayoutTotal)
    }

    static func reasons(_ failure: APIFailure) -> String {
        var w = JSONWriter()
        w.beginArray()
        if case let .rejected(fields) = failure.kind, !fields.isEmpty {
            for issue in fields { w.beginObject(); w.string("field", issue.field); w.string("message", issue.message); w.endObject() }
        } else {
            w.beginObject()
            w.string("field", "api")
            w.string("message", failure.httpStatus.map { "HTTP \($0): \(failure.message)" } ?? failure.message)
            w.endObject()
        }
        w.endArray()
        return w.text
    }
}
