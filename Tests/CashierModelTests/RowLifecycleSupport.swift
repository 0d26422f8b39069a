import Foundation
import Testing
@testable import CashierModel

/// A row's lifecycle driven event by event, with the row's ledger state as its actions move it:
/// every move, intent and adoption is checked against the lifecycle's own rules as it is made.
struct LifecycleHarness {
    var lifecycle: RowLifecycle
    /// The row's state in the ledger, as the actions so far have moved it.
    var ledgerState: RowState

    init(state: RowState = .pending, cashierID: String? = nil, known: Bool = false, valid: Bool = true,
         hasSource: Bool = true, deposits: Bool = true, maxAttempts: Int = 3) {
        lifecycle = RowLifecycle(row: valid ? Fixture.row : nil, hasSource: hasSource, state: state, cashierID: cashierID,
                                 known: known, settings: .init(deposits: deposits, maxAttempts: maxAttempts, settleSeconds: 60))
        ledgerState = state
    }

    /// Gives the lifecycle one event and returns its actions, having checked them.
    mutating func callAsFunction(_ event: (inout RowLifecycle) -> [RowLifecycle.Action],
                                 sourceLocation: SourceLocation = #_sourceLocation) -> [RowLifecycle.Action] {
        let actions = event(&lifecycle)
        for action in actions {
            switch action {
            case let .move(transition, _): move(to: transition.state, sourceLocation)
            case let .recordOutcome(record): if let transition = record.transition { move(to: transition.state, sourceLocation) }
            case let .recordOutcomeThenIntent(record, next):
                if let transition = record.transition { move(to: transition.state, sourceLocation) }
                #expect(RowLifecycle.mayAttempt(next, in: ledgerState), "\(next) from \(ledgerState)", sourceLocation: sourceLocation)
            case let .recordIntent(operation):
                #expect(RowLifecycle.mayAttempt(operation, in: ledgerState), "\(operation) from \(ledgerState)", sourceLocation: sourceLocation)
            case .adoptKnownCashier: move(to: .cashierCreated, sourceLocation)
            default: break
            }
        }
        // Only the last action of a batch is answered; the others are writes and pauses.
        for action in actions.dropLast() {
            switch action {
            case .recordOutcome, .move, .adoptKnownCashier, .forgetKnownCashier, .backOff, .openListing: break
            default: Issue.record("\(action) is answered but not last", sourceLocation: sourceLocation)
            }
        }
        #expect(lifecycle.rowState == ledgerState, sourceLocation: sourceLocation)
        return actions
    }

    private mutating func move(to next: RowState, _ sourceLocation: SourceLocation) {
        #expect(RowLifecycle.allows(ledgerState, to: next), "\(ledgerState) → \(next)", sourceLocation: sourceLocation)
        ledgerState = next
    }
}

enum Fixture {
    static let row = CashierRow(line: 2, cashier: CashierRequest(websiteId: "web_1", customerId: "cus_1", currency: Currency(code: "USD")!),
                                deposit: DepositRequestSpec(strategyId: "dep_1"))

    static func failure(_ kind: CallFailure.Kind, status: Int? = nil, message: String = "HTTP failure", applied: Bool = false,
                        fields: [FieldIssue] = []) -> CallFailure {
        CallFailure(kind: kind, status: status, message: message, latency: .milliseconds(40), mayHaveBeenApplied: applied,
                    invalidFields: fields)
    }

    /// An answer that never came after the request left (a timeout): it may have been applied.
    static let lost = failure(.retryable, message: "timeout error: read (the request may have been applied)", applied: true)
    static let throttled = failure(.retryable, status: 429, message: "HTTP 429")
    static let refused = failure(.stopCommand, status: 401, message: "HTTP 401 Unauthorized")
    static let misdirected = failure(.misdirected, status: 404, message: "404 on /cashiers: check --api-url")
    static let cashierGone = failure(.rowFinal, status: 422, message: "HTTP 422",
                                     fields: [FieldIssue(field: "customerId", message: "No cashier for this customer, website and currency")])

    static func outcome(_ id: Int64, _ failure: CallFailure, _ outcome: AttemptOutcome,
                        then transition: RowTransition? = nil) -> RowLifecycle.AttemptRecord {
        .init(attemptID: id, httpStatus: failure.status, latencyMs: 40, error: failure.message, returnedID: nil,
              outcome: outcome, transition: transition)
    }

    static func answer(_ id: Int64, _ status: Int, returned: String?, then transition: RowTransition? = nil,
                       figures: Bool = false) -> RowLifecycle.AttemptRecord {
        .init(attemptID: id, httpStatus: status, latencyMs: 12, error: nil, returnedID: returned, outcome: .succeeded,
              transition: transition, withFigures: figures)
    }

    static func reasons(_ field: String, _ message: String) -> String {
        FieldIssue.json([FieldIssue(field: field, message: message)])
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
}
