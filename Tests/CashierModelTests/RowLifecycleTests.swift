import Foundation
import Testing
@testable import CashierModel

/// A row's pass, event by event, without a socket: what each answer, failure, stop and listing
/// verdict moves the row to, and what the sender is told to do next.
@Suite struct RowLifecycleTests {
    typealias F = Fixture

    // MARK: - The cashier, then the deposit request

    @Test func aNewRowMakesItsCashierThenItsDepositRequestWithTheDepositsTokenBeforeTheCashiersOutcome() {
        var h = LifecycleHarness()
        #expect(h { $0.start() } == [.takePermit(.createCashier)])
        #expect(h { $0.permitted() } == [.recordIntent(.createCashier)])
        #expect(h { $0.intentRecorded(1) } == [.send(.createCashier, attemptID: 1)])
        // The deposit's token is taken before the cashier's outcome is written with its intent.
        #expect(h { $0.answered(status: 201, latency: .milliseconds(12), id: "cash_1") } == [.takePermit(.createDepositRequest)])
        #expect(h.lifecycle.state == .chaining)
        let cashier = F.answer(1, 201, returned: "cash_1", then: .cashierCreated(cashierID: "cash_1"), figures: true)
        #expect(h { $0.permitted() } == [.recordOutcomeThenIntent(cashier, next: .createDepositRequest)])
        #expect(h { $0.intentRecorded(2) } == [.send(.createDepositRequest, attemptID: 2)])
        #expect(h { $0.answered(status: 201, latency: .milliseconds(12), id: "dr_1") }
            == [.recordOutcome(F.answer(2, 201, returned: "dr_1", then: .done(depositRequestID: "dr_1"))), .end(.done)])
        #expect(h.lifecycle.state == .ended(.done) && h.ledgerState == .done)
    }

    @Test func aStopWhileTheDepositsTokenIsTakenRecordsTheCashierAloneAndSendsNothingMore() {
        var h = LifecycleHarness()
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        _ = h { $0.answered(status: 201, latency: .milliseconds(12), id: "cash_1") }
        let cashier = F.answer(1, 201, returned: "cash_1", then: .cashierCreated(cashierID: "cash_1"), figures: true)
        #expect(h { $0.stopped() } == [.recordOutcome(cashier), .takePermit(.createDepositRequest)])
        #expect(h { $0.stopped() } == [.end(.stopped)])
        #expect(h.ledgerState == .cashierCreated)
    }

    @Test func withoutDepositsARowIsDoneWithItsCashier() {
        var h = LifecycleHarness(deposits: false)
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        #expect(h { $0.answered(status: 200, latency: .milliseconds(12), id: "cash_1") } == [
            .recordOutcome(F.answer(1, 200, returned: "cash_1", then: .cashierCreated(cashierID: "cash_1"), figures: true)),
            .move(.done(depositRequestID: nil), candidates: []), .end(.done),
        ])
    }

    @Test func aKnownCashierIsTakenWithoutAPost() {
        var h = LifecycleHarness(known: true)
        #expect(h { $0.start() } == [.adoptKnownCashier, .takePermit(.createDepositRequest)])
        var off = LifecycleHarness(known: true, deposits: false)
        #expect(off { $0.start() } == [.adoptKnownCashier, .move(.done(depositRequestID: nil), candidates: []), .end(.done)])
    }

    @Test func aRowWithItsCashierGoesToItsDepositRequestAndOneWithoutAnIdMakesItAgain() {
        var h = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        #expect(h { $0.start() } == [.takePermit(.createDepositRequest)])
        var lost = LifecycleHarness(state: .cashierCreated, known: true)
        #expect(lost { $0.start() } == [.adoptKnownCashier, .takePermit(.createDepositRequest)])
        var failed = LifecycleHarness(state: .failed, cashierID: "cash_1")
        #expect(failed { $0.start() } == [.takePermit(.createCashier)], "a failed row makes its cashier again (safe)")
    }

    @Test func aRowThatNoLongerValidatesIsRejectedUnsentOrFailedWithoutItsCells() {
        var h = LifecycleHarness(valid: false)
        #expect(h { $0.start() } == [
            .move(.rejected(reasonsJSON: F.reasons("row", "no longer passes validation")), candidates: []), .end(.rejected),
        ])
        var bare = LifecycleHarness(valid: false, hasSource: false)
        #expect(bare { $0.start() } == [.end(.failed)])
        #expect(bare.ledgerState == .pending)
    }

    @Test func aStopBeforeAnyCallEndsThePassWithoutAWrite() {
        var h = LifecycleHarness()
        _ = h { $0.start() }
        #expect(h { $0.stopped() } == [.end(.stopped)])
        #expect(h.ledgerState == .pending)
    }

    // MARK: - Failures of a create

    @Test func aRefusedCashierRejectsTheRowSayingWhichCustomerIsMissing() {
        var h = LifecycleHarness()
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        let refused = F.failure(.rowFinal, status: 422, fields: [FieldIssue(field: "customerId", message: "Customer not found")])
        let reasons = F.reasons("customerId", "customer cus_1 does not exist in Rebilly (create it first)")
        #expect(h { $0.failed(refused) } == [.recordOutcome(F.outcome(1, refused, .rejected, then: .rejected(reasonsJSON: reasons))),
                                            .end(.rejected)])
    }

    @Test func refusedCredentialsStopTheRowWithAFatalAttemptAndNoMove() {
        var h = LifecycleHarness()
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        #expect(h { $0.failed(F.refused) } == [.recordOutcome(F.outcome(1, F.refused, .fatal)), .end(.stopped)])
        #expect(h.ledgerState == .pending)
    }

    @Test func aRetryableFailureIsRetriedAfterAPauseUntilMaxAttemptsThenTheRowFails() {
        var h = LifecycleHarness(maxAttempts: 2)
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        #expect(h { $0.failed(F.throttled) } == [.recordOutcome(F.outcome(1, F.throttled, .retryable)),
                                                .backOff(after: F.throttled, attempt: 1), .takePermit(.createCashier)])
        #expect(h.lifecycle.state == .cashier(attempt: 2))
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(2) }
        // A cashier create is never in doubt: a lost answer is retried like any other.
        #expect(h { $0.failed(F.lost) } == [
            .recordOutcome(F.outcome(2, F.lost, .lost, then: .failed(reasonsJSON: F.reasons("api", F.lost.message)))), .end(.failed),
        ])
    }

    @Test func aMisdirectedCallIsNeverRepeatedAndLeavesTheRowForRetry() {
        var h = LifecycleHarness()
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(1) }
        #expect(h { $0.failed(F.misdirected) } == [
            .recordOutcome(F.outcome(1, F.misdirected, .retryable, then: .failed(reasonsJSON: F.reasons("api", F.misdirected.message)))),
            .end(.failed),
        ])
    }

    @Test func aDepositPostWithoutAnAnswerPutsTheRowInDoubtAndChecksIt() {
        var h = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(5) }
        #expect(h { $0.failed(F.lost) } == [.recordOutcome(F.outcome(5, F.lost, .lost, then: .inDoubt(reasonsJSON: nil))), .readPosts])
        #expect(h.ledgerState == .inDoubt)
        // Not settled yet: parked until a minute after the POST.
        #expect(h { $0.postsRead([F.t0], thisRun: 1, now: F.t0.addingTimeInterval(1)) } == [.park(until: F.t0.addingTimeInterval(60))])
        #expect(h.lifecycle.state == .parked(until: F.t0.addingTimeInterval(60)))
    }

    @Test func aThrottledDepositPostIsRetriedAndAnExhaustedOneFailsTheRow() {
        var h = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1", maxAttempts: 2)
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(5) }
        #expect(h { $0.failed(F.throttled) } == [.recordOutcome(F.outcome(5, F.throttled, .retryable)),
                                                .backOff(after: F.throttled, attempt: 1), .takePermit(.createDepositRequest)])
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(6) }
        #expect(h { $0.failed(F.throttled) } == [
            .recordOutcome(F.outcome(6, F.throttled, .retryable, then: .failed(reasonsJSON: F.reasons("api", "HTTP 429")))), .end(.failed),
        ])
    }

    @Test func aDepositPostRefusedForTheRowRejectsItAndOneRefusedForTheKeyStopsIt() {
        var h = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(5) }
        let invalid = F.failure(.rowFinal, status: 422, fields: [FieldIssue(field: "amounts", message: "must be positive")])
        #expect(h { $0.failed(invalid) } == [
            .recordOutcome(F.outcome(5, invalid, .rejected, then: .rejected(reasonsJSON: F.reasons("amounts", "must be positive")))),
            .end(.rejected),
        ])
        var key = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        _ = key { $0.start() }
        _ = key { $0.permitted() }
        _ = key { $0.intentRecorded(5) }
        #expect(key { $0.failed(F.refused) } == [.recordOutcome(F.outcome(5, F.refused, .fatal)), .end(.stopped)])
        #expect(key.ledgerState == .cashierCreated)
    }

    // MARK: - A cashier that is gone

    @Test func aGoneCashierIsMadeAgainOnceAndTheRowStopsCountingAsKnown() {
        var h = LifecycleHarness(known: true)
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(5) }
        #expect(h { $0.failed(F.cashierGone) } == [.recordOutcome(F.outcome(5, F.cashierGone, .rejected)), .forgetKnownCashier,
                                                  .takePermit(.createCashier)])
        #expect(h.ledgerState == .cashierCreated, "not the row's fault: it is not moved")
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(6) }
        _ = h { $0.answered(status: 201, latency: .milliseconds(12), id: "cash_2") }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(7) }
        // The cashier was just made: the same answer now rejects the row.
        let reasons = F.reasons("customerId", "No cashier for this customer, website and currency")
        #expect(h { $0.failed(F.cashierGone) } == [
            .recordOutcome(F.outcome(7, F.cashierGone, .rejected, then: .rejected(reasonsJSON: reasons))), .end(.rejected),
        ])
    }

    @Test func aGoneCashierRecordedByAnEarlierPassIsMadeAgainWithoutUncounting() {
        var h = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        _ = h { $0.start() }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(5) }
        #expect(h { $0.failed(F.cashierGone) } == [.recordOutcome(F.outcome(5, F.cashierGone, .rejected)), .takePermit(.createCashier)])
    }

    // MARK: - In doubt: settle, list, judge

    @Test func anInDoubtRowWithoutDepositsIsDoneWithoutAWrite() {
        var h = LifecycleHarness(state: .inDoubt, cashierID: "cash_1", deposits: false)
        #expect(h { $0.start() } == [.end(.done)])
        #expect(h.ledgerState == .inDoubt)
    }

    @Test func anInDoubtRowWithoutAnyDepositPostIsSentAgain() {
        var h = LifecycleHarness(state: .inDoubt, cashierID: "cash_1")
        #expect(h { $0.start() } == [.readPosts])
        #expect(h { $0.postsRead([], thisRun: 0, now: F.t0) } == [.move(.cashierCreated(cashierID: nil), candidates: []),
                                                                  .takePermit(.createDepositRequest)])
    }

    /// A settled row's listing, page by page, then the listed request that is the row's is adopted.
    @Test func aSettledRowIsListedPageByPageAndAdoptsTheOneMatch() {
        var h = settledAndListing(posts: [F.t0.addingTimeInterval(5), F.t0])
        #expect(h { $0.permitted() } == [.recordIntent(.listDepositRequests)])
        #expect(h { $0.intentRecorded(9) } == [.send(.listDepositRequests, attemptID: 9)])
        #expect(h { $0.answered(status: 200, latency: .milliseconds(12), id: nil) } == [.recordOutcome(F.answer(9, 200, returned: nil)),
                                                                                       .takePage])
        #expect(h { $0.pageTaken(complete: false) } == [.takePermit(.listDepositRequests)])
        #expect(h.lifecycle.state == .listing(page: 2, attempt: 1))
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(10) }
        _ = h { $0.answered(status: 200, latency: .milliseconds(12), id: nil) }
        #expect(h { $0.pageTaken(complete: true) } == [.judge(posts: [F.t0, F.t0.addingTimeInterval(5)])])
        #expect(h { $0.listed(adopting: "dr_9") } == [.move(.done(depositRequestID: "dr_9"), candidates: []), .end(.done)])
    }

    @Test func twoMatchesPutTheRowInReviewWithItsCandidates() {
        var h = judging()
        let reasons = F.reasons("depositRequest", "2 deposit requests match; see `cashier-batch resolve`")
        #expect(h { $0.listedForReview(reason: "2 deposit requests match", candidates: ["dr_1", "dr_2"]) }
            == [.move(.needsReview(reasonsJSON: reasons), candidates: ["dr_1", "dr_2"]), .end(.needsReview)])
        #expect(h.ledgerState == .needsReview)
    }

    @Test func verifiedAbsentTheDepositRequestIsSentAgainUnlessThisRunsPostsReachedMaxAttempts() {
        var again = judging(thisRun: 2)
        #expect(again { $0.listedAbsent() } == [.move(.cashierCreated(cashierID: nil), candidates: []), .takePermit(.createDepositRequest)])
        var spent = judging(thisRun: 3)
        #expect(spent { $0.listedAbsent() } == [
            .move(.failed(reasonsJSON: F.reasons("api", "no deposit request was created after 3 unanswered attempts")), candidates: []),
            .end(.failed),
        ])
    }

    @Test func aListingThatFailsLeavesTheRowInDoubtSayingWhy() {
        var h = settledAndListing(maxAttempts: 2)
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(9) }
        let unavailable = F.failure(.retryable, status: 503, message: "HTTP 503", applied: true)
        #expect(h { $0.failed(unavailable) } == [.recordOutcome(F.outcome(9, unavailable, .lost)),
                                                .backOff(after: unavailable, attempt: 1), .takePermit(.listDepositRequests)])
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(10) }
        let why = F.reasons("depositRequest",
                            "still in doubt: its deposit requests could not be listed (HTTP 503); `cashier-batch retry` checks again")
        #expect(h { $0.failed(unavailable) } == [.recordOutcome(F.outcome(10, unavailable, .lost)),
                                                .move(.inDoubt(reasonsJSON: why), candidates: []), .end(.inDoubt)])
    }

    @Test func aListingRefusedOrStuckOrStoppedNeverMovesTheRowOutOfDoubt() {
        var refused = settledAndListing()
        _ = refused { $0.permitted() }
        _ = refused { $0.intentRecorded(9) }
        #expect(refused { $0.failed(F.refused) } == [.recordOutcome(F.outcome(9, F.refused, .fatal)), .end(.stopped)])
        #expect(refused.ledgerState == .inDoubt)

        var stuck = settledAndListing()
        _ = stuck { $0.permitted() }
        _ = stuck { $0.intentRecorded(9) }
        _ = stuck { $0.answered(status: 200, latency: .milliseconds(12), id: nil) }
        let full = F.failure(.retryable, status: 200, message: "100 or more in one second", applied: true)
        let why = F.reasons("depositRequest",
                            "still in doubt: its deposit requests could not be listed (100 or more in one second); `cashier-batch retry` checks again")
        #expect(stuck { $0.listingStuck(full) } == [.move(.inDoubt(reasonsJSON: why), candidates: []), .end(.inDoubt)])

        var notFound = settledAndListing()
        _ = notFound { $0.permitted() }
        _ = notFound { $0.intentRecorded(9) }
        let gone = F.failure(.rowFinal, status: 400, message: "HTTP 400")
        let said = F.reasons("depositRequest",
                             "still in doubt: its deposit requests could not be listed (HTTP 400); `cashier-batch retry` checks again")
        #expect(notFound { $0.failed(gone) } == [.recordOutcome(F.outcome(9, gone, .retryable)),
                                                .move(.inDoubt(reasonsJSON: said), candidates: []), .end(.inDoubt)])

        var stopped = settledAndListing()
        #expect(stopped { $0.stopped() } == [.end(.stopped)])
        #expect(stopped.ledgerState == .inDoubt)
    }

    // MARK: - Helpers

    /// An in-doubt row whose one POST (or `posts`) has settled, at its listing's first permit.
    func settledAndListing(posts: [Date] = [F.t0], thisRun: Int = 1, maxAttempts: Int = 3) -> LifecycleHarness {
        var h = LifecycleHarness(state: .inDoubt, cashierID: "cash_1", maxAttempts: maxAttempts)
        #expect(h { $0.start() } == [.readPosts])
        let first = posts.min()!
        #expect(h { $0.postsRead(posts, thisRun: thisRun, now: F.t0.addingTimeInterval(600)) }
            == [.openListing(firstPost: first), .takePermit(.listDepositRequests)])
        return h
    }

    /// A settled row whose listing is whole, awaiting its verdict.
    func judging(thisRun: Int = 1) -> LifecycleHarness {
        var h = settledAndListing(thisRun: thisRun)
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(9) }
        _ = h { $0.answered(status: 200, latency: .milliseconds(12), id: nil) }
        #expect(h { $0.pageTaken(complete: true) } == [.judge(posts: [F.t0])])
        return h
    }
}
