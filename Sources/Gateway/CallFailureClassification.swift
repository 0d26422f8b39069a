import CashierModel
import RebillyClient

extension CallFailure {
    /// The gateway's classification of a failed call: the one place a `RebillyError` gets its
    /// meaning for the row.
    public init(_ error: RebillyError) {
        let kind: Kind
        switch error {
        case let .problem(status, _, _, _, _, _):
            switch status {
            case 401, 403: kind = .stopCommand
            case 408, 429, 500...599: kind = .retryable
            default: kind = .rowFinal
            }
        case .transport, .decoding:
            kind = .retryable
        case .misdirected:
            kind = .misdirected
        }
        let nightCause: String?
        if case let .transport(transportKind, message, _, _) = error, transportKind != .cancelled {
            nightCause = message
        } else if case .misdirected = error {
            nightCause = error.description
        } else {
            nightCause = nil
        }
        self.init(kind: kind, status: error.status, message: error.description, latency: error.latency,
                  mayHaveBeenApplied: error.mayHaveBeenApplied, invalidFields: error.invalidFields,
                  retryAfter: error.rateLimit.retryAfter, retryAfterEpochSeconds: error.rateLimit.retryAfterEpochSeconds,
                  nightCause: nightCause)
    }
}
