import CashierModel
import Foundation
import RebillyClient

/// Single attempts, for a caller that records each one itself (a row's lifecycle): the budget is
/// taken first (``permit(_:)``), the caller records its intent, then the attempt is sent. Every
/// answer still goes through the gateway's accounting (the limiter, 429/503 pauses, the night's
/// failures, refused credentials).
extension RebillyGateway {
    /// One attempt's share of a budget: a write token, or a read permit held until its answer.
    public struct Permit: Sendable {
        let budget: Budget
    }

    /// Takes one attempt's budget, unless the command stops first (then nil, nothing taken).
    public func permit(_ budget: Budget) async throws -> Permit? {
        if control.isStopped { return nil }
        if budget == .write {
            guard try await writeToken() else { return nil }
        } else {
            try await reads.acquire()
        }
        if control.isStopped {
            await giveBack(Permit(budget: budget))
            return nil
        }
        return Permit(budget: budget)
    }

    /// Returns a permit whose attempt is not sent (its intent could not be recorded).
    public func giveBack(_ permit: Permit) async {
        if permit.budget == .read { await reads.release() }
    }

    /// `POST /cashiers` once.
    public func attemptCreateCashier(_ permit: Permit, body: String) async throws -> Result<CashierAnswer, CallFailure> {
        try await attempt(permit) { [client] () async throws(RebillyError) -> CashierAnswer in
            try await client.createCashier(body: body)
        }
    }

    /// `POST /deposit-requests` once.
    public func attemptCreateDepositRequest(_ permit: Permit, body: String) async throws -> Result<DepositRequestAnswer, CallFailure> {
        try await attempt(permit) { [client] () async throws(RebillyError) -> DepositRequestAnswer in
            try await client.createDepositRequest(body: body)
        }
    }

    /// The next page of `listing`, once.
    public func attemptListPage(_ permit: Permit, _ listing: DepositListing) async throws -> Result<DepositRequestListPage, CallFailure> {
        try await attempt(permit, pageRequest(listing))
    }

    /// The request for `listing`'s next page.
    func pageRequest(_ listing: DepositListing) -> @Sendable () async throws(RebillyError) -> DepositRequestListPage {
        let (client, scope, start, to, limit) = (client, listing.scope, listing.start, listing.to, listing.pageSize)
        return { () async throws(RebillyError) -> DepositRequestListPage in
            try await client.listDepositRequests(websiteId: scope.websiteId, customerId: scope.customerId, createdFrom: start,
                                                 createdTo: to, sort: "createdTime", limit: limit, offset: 0)
        }
    }

    /// The pause before the next attempt: a 429 that named its instant already paused every
    /// request; anything else waits a full-jitter backoff (cut short when the command stops).
    public func pause(after failure: CallFailure, attempt: Int) async throws {
        if failure.status == 429, failure.retryAfter != nil { return }
        let (clock, until) = (self.clock, clock.now + settings.backoff.delay(attempt: attempt - 1))
        _ = try await unlessStopped { try await clock.sleep(until: until) }
    }

    /// One attempt on `permit` (given back after the answer), unless the ledger failed
    /// meanwhile: then nothing more is sent (the intent stays in flight and the next run checks
    /// it before sending again). The answer is counted: a success resets the night's failures and
    /// feeds the limiter; a failure may pause the budget, count toward the night's failures, or
    /// stop the command (refused credentials).
    func attempt<Value: Answered>(_ permit: Permit,
                                  _ send: @Sendable () async throws(RebillyError) -> Value) async throws -> Result<Value, CallFailure> {
        let sentAt = clock.now
        let result: Result<Value, RebillyError>
        do {
            if case .ledgerFailed? = control.stopReason { throw CancellationError() }
            do { result = .success(try await send()) } catch { result = .failure(error) }
        } catch {
            await giveBack(permit)
            throw error
        }
        await giveBack(permit)
        switch result {
        case let .success(value):
            nightFailures.withLock { $0 = [:] }
            if permit.budget == .write { await succeeded(value.rateLimit) }
            return .success(value)
        case let .failure(error):
            let failure = CallFailure(error)
            if failure.isThrottle { await throttled(failure, budget: permit.budget, sentAt: sentAt) }
            countNightFailure(failure)
            if failure.kind == .stopCommand { control.stop(.credentialsRefused(failure.message)) }
            return .failure(failure)
        }
    }
}
