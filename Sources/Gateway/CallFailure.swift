import CashierModel
import RebillyClient

/// A failed attempt, as the gateway classifies it: the one rule for what a failure means.
public struct CallFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 422 and any other 4xx but 401/403/408/429: the row itself is wrong; sending it again
        /// cannot help. Its `invalidFields` are the reasons.
        case rowFinal
        /// 408, 429, 5xx, timeouts, connection errors, an undecodable 2xx: try again after a pause.
        case retryable
        /// 401/403: the credentials are refused; the whole command stops (exit 77).
        case stopCommand
        /// The request did not reach Rebilly's API (a redirect, a 404 on a collection path):
        /// a fault of the night's configuration, not of the row. The row is left for `retry`.
        case misdirected
    }

    public var kind: Kind
    /// The HTTP status, when there was an answer.
    public var status: Int?
    /// One line, without the key or the body sent.
    public var message: String
    public var latency: Duration
    /// A POST that failed this way may still have been applied (see ``RebillyError/mayHaveBeenApplied``).
    public var mayHaveBeenApplied: Bool
    /// The API's reasons (422).
    public var invalidFields: [FieldIssue]
    /// The answer's rate-limit headers (the retry instant of a 429/503).
    public var rateLimit: RateLimitInfo
    /// For a failure that is the night's rather than the row's (no answer from Rebilly's API,
    /// or not Rebilly's API answering): its cause in one line, the same for every request it
    /// hits ("connection refused by 127.0.0.1:8399"). A run of them stops the command (69).
    public var nightCause: String?

    public init(_ error: RebillyError) {
        status = error.status
        message = error.description
        latency = error.latency
        mayHaveBeenApplied = error.mayHaveBeenApplied
        invalidFields = error.invalidFields
        rateLimit = error.rateLimit
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
        if case let .transport(transportKind, message, _, _) = error, transportKind != .cancelled {
            nightCause = message
        } else if case .misdirected = error {
            nightCause = error.description
        } else {
            nightCause = nil
        }
    }

    /// A 429 or 503: the server asks everyone to slow down.
    public var isThrottle: Bool { status == 429 || status == 503 }

    /// For a request that must not be repeated blindly (a deposit-request POST): whether this
    /// failure leaves it in doubt, by ``RebillyError/mayHaveBeenApplied``'s rule.
    public var leavesInDoubt: Bool { kind == .retryable && mayHaveBeenApplied }

    public var description: String { message }
}
