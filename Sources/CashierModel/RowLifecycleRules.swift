/// The rules of a row's states that hold whoever moves the row: the sender's lifecycle, the
/// ledger that refuses any other write, crash recovery at start, and `resolve`.
extension RowLifecycle {
    /// States a row may move to from `state`. Open states may be re-entered (`failed` → `failed`
    /// with new reasons); terminal states (`done`, `rejected`) allow nothing.
    ///
    /// ```
    /// pending ─────────► cashier_created ─► done
    ///    │  ╲                 │   ▲          ▲
    ///    │   ╲                ▼   │          │
    ///    │    └──────► failed / in_doubt ────┘──► needs_review ─► done / cashier_created
    ///    └─► rejected (terminal)          done (terminal)
    /// ```
    public static func allowedNext(from state: RowState) -> Set<RowState> {
        switch state {
        case .pending: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .cashierCreated: [.cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .failed: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected]
        case .inDoubt: [.pending, .cashierCreated, .done, .failed, .inDoubt, .rejected, .needsReview]
        case .needsReview: [.done, .cashierCreated, .needsReview]
        case .rejected: []
        case .done: []
        }
    }

    /// Whether a row in `state` may move to `next`.
    public static func allows(_ state: RowState, to next: RowState) -> Bool {
        allowedNext(from: state).contains(next)
    }

    /// Whether a row in `state` may record the intent of `operation`: never a create for a
    /// finished row, and never a deposit request for one in doubt or in review (it may exist).
    public static func mayAttempt(_ operation: AttemptOperation, in state: RowState) -> Bool {
        switch operation {
        case .createCashier: state != .done && state != .rejected
        case .createDepositRequest: state != .done && state != .rejected && state != .inDoubt && state != .needsReview
        case .listDepositRequests, .getCashier, .getDepositRequest: true
        }
    }

    /// Where a crash found at start moves a row that had `operation` in flight when its run died
    /// (nil: it stays): a deposit request may have been created unanswered, so its row is in doubt.
    public static func afterCrash(_ state: RowState, inFlight operation: AttemptOperation) -> RowState? {
        guard operation == .createDepositRequest else { return nil }
        switch state {
        case .pending, .cashierCreated, .failed: return .inDoubt
        case .inDoubt, .needsReview, .done, .rejected: return nil
        }
    }

    /// What a crash found at start records for an attempt left in flight: it may have reached the
    /// API, and its answer is unknown.
    public static let crashedAttempt = AttemptOutcome.lost

    /// Where a person's decision on a `needs_review` row moves it (nil: the row is not in review).
    public static func resolved(_ state: RowState, by action: ResolveAction) -> RowState? {
        guard state == .needsReview else { return nil }
        switch action {
        case .adopt: return .done
        case .resend: return .cashierCreated
        }
    }
}
