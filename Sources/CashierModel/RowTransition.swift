/// A row's move in the ledger, alone or with an attempt's outcome: the state it goes to and
/// what it records with it (nil keeps what is stored).
public enum RowTransition: Sendable, Equatable {
    case pending
    /// `cashierID` nil keeps the stored one.
    case cashierCreated(cashierID: String?)
    /// `depositRequestID` is nil when deposits are turned off (or the stored one is kept).
    case done(depositRequestID: String?)
    case failed(reasonsJSON: String)
    case rejected(reasonsJSON: String)
    /// `reasonsJSON`: why it is still in doubt, when a listing could not settle it.
    case inDoubt(reasonsJSON: String?)
    /// Listing could not tell the row's deposit request from another client's (see ``RowState/needsReview``).
    case needsReview(reasonsJSON: String)

    /// The state the row goes to.
    public var state: RowState {
        switch self {
        case .pending: .pending
        case .cashierCreated: .cashierCreated
        case .done: .done
        case .failed: .failed
        case .rejected: .rejected
        case .inDoubt: .inDoubt
        case .needsReview: .needsReview
        }
    }

    public var cashierID: String? {
        if case let .cashierCreated(id) = self { return id }
        return nil
    }

    public var depositRequestID: String? {
        if case let .done(id) = self { return id }
        return nil
    }

    public var reasonsJSON: String? {
        switch self {
        case let .failed(reasons), let .rejected(reasons), let .needsReview(reasons): reasons
        case let .inDoubt(reasons): reasons
        case .pending, .cashierCreated, .done: nil
        }
    }
}
