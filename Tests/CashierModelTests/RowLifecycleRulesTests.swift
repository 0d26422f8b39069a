import Foundation
import Testing
@testable import CashierModel

/// The rules every mover of a row obeys (the lifecycle, the ledger's checks, crash recovery at
/// start, `resolve`), and the lives that cross passes: a crash, a review.
@Suite struct RowLifecycleRulesTests {
    typealias F = Fixture

    @Test func theTransitionRuleAsTheLedgerEnforcesIt() {
        let expected: [RowState: Set<RowState>] = [
            .pending: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected],
            .cashierCreated: [.cashierCreated, .done, .failed, .inDoubt, .rejected],
            .failed: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected],
            .inDoubt: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected, .needsReview],
            .needsReview: [.done, .cashierCreated, .needsReview],
            .rejected: [], .done: [],
        ]
        for state in RowState.allCases {
            #expect(RowLifecycle.allowedNext(from: state) == expected[state], "\(state)")
            for next in RowState.allCases {
                #expect(RowLifecycle.allows(state, to: next) == expected[state]!.contains(next))
            }
        }
        #expect(!RowLifecycle.allows(.cashierCreated, to: .needsReview), "only a listing puts a row in review")
    }

    @Test func noCreateForAFinishedRowAndNoDepositRequestForOneThatMayHaveIt() {
        for state in RowState.allCases {
            #expect(RowLifecycle.mayAttempt(.createCashier, in: state) == ![.done, .rejected].contains(state))
            #expect(RowLifecycle.mayAttempt(.createDepositRequest, in: state) == [.pending, .cashierCreated, .failed].contains(state))
            for read in [AttemptOperation.listDepositRequests, .getCashier, .getDepositRequest] {
                #expect(RowLifecycle.mayAttempt(read, in: state))
            }
        }
    }

    @Test func aCrashWithADepositPostInFlightPutsItsRowInDoubtAndNothingElseMoves() {
        for state in RowState.allCases {
            let expected: RowState? = [.pending, .cashierCreated, .failed].contains(state) ? .inDoubt : nil
            #expect(RowLifecycle.afterCrash(state, inFlight: .createDepositRequest) == expected, "\(state)")
            if let expected { #expect(RowLifecycle.allows(state, to: expected)) }
            for operation in AttemptOperation.allCases where operation != .createDepositRequest {
                #expect(RowLifecycle.afterCrash(state, inFlight: operation) == nil, "\(operation) from \(state)")
            }
        }
        #expect(RowLifecycle.crashedAttempt == .lost)
    }

    @Test func resolveClosesOnlyAReviewedRow() {
        #expect(RowLifecycle.resolved(.needsReview, by: .adopt) == .done)
        #expect(RowLifecycle.resolved(.needsReview, by: .resend) == .cashierCreated)
        for action in ResolveAction.allCases {
            #expect(RowLifecycle.allows(.needsReview, to: RowLifecycle.resolved(.needsReview, by: action)!))
            for state in RowState.allCases where state != .needsReview {
                #expect(RowLifecycle.resolved(state, by: action) == nil)
            }
        }
    }

    @Test func theOneRuleForAGoneCashier() {
        #expect(RowLifecycle.cashierGone(F.cashierGone))
        var otherField = F.cashierGone
        otherField.invalidFields = [FieldIssue(field: "websiteId", message: "No cashier for this website")]
        #expect(!RowLifecycle.cashierGone(otherField))
        var notA422 = F.cashierGone
        notA422.status = 400
        #expect(!RowLifecycle.cashierGone(notA422))
        #expect(!RowLifecycle.cashierGone(F.failure(.rowFinal, status: 422, fields: [FieldIssue(field: "customerId", message: "required")])))
    }

    @Test func latenciesAreWholeMilliseconds() {
        #expect(RowLifecycle.milliseconds(.milliseconds(1234)) == 1234)
        #expect(RowLifecycle.milliseconds(.microseconds(2999)) == 2)
        #expect(RowLifecycle.milliseconds(.seconds(3)) == 3000)
    }

    /// A run dies with a deposit POST in flight; the next run's recovery puts the row in doubt
    /// (the ledger applies ``RowLifecycle/afterCrash(_:inFlight:)``), and its pass checks it:
    /// the listing finds the request the dead run made, and the row adopts it. Nothing is sent twice.
    @Test func aCrashDuringTheDepositPostEndsWithTheRequestAdoptedNotSentAgain() {
        var first = LifecycleHarness(state: .cashierCreated, cashierID: "cash_1")
        _ = first { $0.start() }
        _ = first { $0.permitted() }
        #expect(first { $0.intentRecorded(5) } == [.send(.createDepositRequest, attemptID: 5)])
        // The process dies here: the intent is durable, its outcome never recorded.
        let recovered = RowLifecycle.afterCrash(first.ledgerState, inFlight: .createDepositRequest)
        #expect(recovered == .inDoubt)

        var next = LifecycleHarness(state: recovered!, cashierID: "cash_1")
        #expect(next { $0.start() } == [.readPosts], "an in-doubt row sends nothing before it is checked")
        #expect(next { $0.postsRead([F.t0], thisRun: 0, now: F.t0.addingTimeInterval(3600)) }
            == [.openListing(firstPost: F.t0), .takePermit(.listDepositRequests)])
        _ = next { $0.permitted() }
        _ = next { $0.intentRecorded(6) }
        _ = next { $0.answered(status: 200, latency: .milliseconds(12), id: nil) }
        #expect(next { $0.pageTaken(complete: true) } == [.judge(posts: [F.t0])])
        #expect(next { $0.listed(adopting: "dr_5") } == [.move(.done(depositRequestID: "dr_5"), candidates: []), .end(.done)])
    }

    /// A row in review waits for a person; `resend` returns it to `cashier_created`, and the
    /// next pass sends its deposit request (its cashier is kept).
    @Test func aReviewedRowResentByAPersonSendsItsDepositRequestOnTheNextPass() {
        var h = LifecycleHarness(state: .inDoubt, cashierID: "cash_1")
        _ = h { $0.start() }
        _ = h { $0.postsRead([F.t0], thisRun: 1, now: F.t0.addingTimeInterval(600)) }
        _ = h { $0.permitted() }
        _ = h { $0.intentRecorded(9) }
        _ = h { $0.answered(status: 200, latency: .milliseconds(12), id: nil) }
        _ = h { $0.pageTaken(complete: true) }
        _ = h { $0.listedForReview(reason: "one differs in amounts", candidates: ["dr_1"]) }
        #expect(h.ledgerState == .needsReview && !RowState.needsReview.isOpen)

        let resent = RowLifecycle.resolved(h.ledgerState, by: .resend)!
        var next = LifecycleHarness(state: resent, cashierID: "cash_1")
        #expect(next { $0.start() } == [.takePermit(.createDepositRequest)])
        _ = next { $0.permitted() }
        #expect(next { $0.intentRecorded(10) } == [.send(.createDepositRequest, attemptID: 10)])
    }
}
